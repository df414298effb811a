from django.urls import path

from guichet.journeys.paths import PATHS
from guichet.web.api import journeys as api
from guichet.web.html import account, journeys, pages

app_name = "web"

urlpatterns = [
    path("", pages.index, name="index"),
    path("o/<slug:slug>/", pages.home, name="home"),
    path("o/<slug:slug>/conseils-securite/", pages.security_advice, name="security_advice"),
    path("o/<slug:slug>/espace/", account.space, name="space"),
    path("o/<slug:slug>/deconnexion/", account.logout, name="logout"),
    path("o/<slug:slug>/appareils/oublier/", account.forget_devices, name="forget_devices"),
    path("api/csrf", api.csrf, name="api_csrf"),
    path("api/o/<slug:slug>/journeys/<str:name>", api.start, name="api_start"),
    path("api/o/<slug:slug>/journeys/<str:name>/link", api.link, name="api_link"),
    path("api/o/<slug:slug>/journeys/<str:name>/<str:run_id>", api.step, name="api_step"),
    path("api/o/<slug:slug>/session", api.session, name="api_session"),
    path("api/o/<slug:slug>/logout", api.logout, name="api_logout"),
    path("api/o/<slug:slug>/password-check", api.password_check, name="api_password_check"),
    path("api/o/<slug:slug>/captcha", api.captcha_challenge, name="api_captcha"),
    path("api/openapi.json", api.openapi, name="api_openapi"),
]

for name, segment in PATHS.items():
    urlpatterns.append(path(f"o/<slug:slug>/{segment}/", journeys.journey, {"name": name}, name=f"journey_{name}"))
