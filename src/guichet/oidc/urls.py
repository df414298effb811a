"""Each organisation's issuer is BASE_URL/o/<slug>; its federation entry points sit beside it."""

from django.urls import path

from guichet.oidc.federation import views as federation
from guichet.oidc.provider import endpoints
from guichet.oidc.provider.authorize import Authorize
from guichet.oidc.provider.logout import EndSession

app_name = "oidc"

urlpatterns = [
    path("o/<slug:slug>/.well-known/openid-configuration", endpoints.discovery, name="discovery"),
    path("o/<slug:slug>/oidc/jwks", endpoints.jwks, name="jwks"),
    path("o/<slug:slug>/oidc/authorize", Authorize.as_view(), name="authorize"),
    path("o/<slug:slug>/oidc/token", endpoints.Token.as_view(), name="token"),
    path("o/<slug:slug>/oidc/userinfo", endpoints.UserInfo.as_view(), name="userinfo"),
    path("o/<slug:slug>/oidc/logout", EndSession.as_view(), name="end_session"),
    path("o/<slug:slug>/federation/<slug:provider>/start", federation.start, name="federation_start"),
    path("o/<slug:slug>/federation/<slug:provider>/callback", federation.callback, name="federation_callback"),
    path("o/<slug:slug>/federation/<slug:provider>/sign-out", federation.sign_out, name="federation_sign_out"),
    path("o/<slug:slug>/federation/<slug:provider>/signed-out", federation.signed_out,
         name="federation_signed_out"),
]
