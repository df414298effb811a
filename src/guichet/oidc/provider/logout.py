"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): an application ends the member's
Guichet session, then gets the member back at an address it registered.

The member is asked first when the request does not prove it comes from their own session
(no valid id_token_hint of theirs); otherwise the session ends at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from oauth2_provider.http import OAuth2ResponseRedirect
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_refresh_token_model,
)
from oauthlib.common import add_params_to_uri

from guichet.audit.record import record
from guichet.identities.models import Account
from guichet.journeys.paths import page_path
from guichet.oidc.provider.pages import refused
from guichet.oidc.provider.validator import hint_claims, issuer
from guichet.organisations.models import Organisation
from guichet.organisations.resolve import by_slug
from guichet.security.ratelimit import client_ip
from guichet.web import outcomes
from guichet.web.html.pages import organisation_context


class Refused(Exception):
    """The logout request names an unknown client, a token we did not sign, or an unregistered address."""


@dataclass(frozen=True)
class LogoutRequest:
    application: Any
    member: Account | None          # the member the id_token_hint was issued for
    post_logout_redirect_uri: str
    state: str


def _hint_claims(token: str) -> dict[str, Any]:
    claims = hint_claims(token)
    if claims is None:
        raise Refused("id_token_hint")
    return claims


def parse(params: QueryDict, organisation: Organisation) -> LogoutRequest:
    applications = get_application_model().objects.filter(guichet_client__organisation=organisation)
    application, member = None, None
    hint = params.get("id_token_hint")
    if hint:
        claims = _hint_claims(hint)
        audience = claims.get("aud")
        audience = audience if isinstance(audience, str) else (audience or [None])[0]
        if claims.get("iss") != issuer(organisation) or not audience:
            raise Refused("id_token_hint")
        application = applications.filter(client_id=audience).first()
        subject = claims.get("sub")
        member = None if subject is None else Account.objects.filter(pk=subject, organisation=organisation).first()
        if application is None:
            raise Refused("id_token_hint")
    if params.get("client_id"):
        if application is not None and application.client_id != params["client_id"]:
            raise Refused("client_id")
        application = applications.filter(client_id=params["client_id"]).first()
        if application is None:
            raise Refused("client_id")
    uri = params.get("post_logout_redirect_uri", "")
    if uri and (application is None or uri not in application.post_logout_redirect_uris.split()):
        raise Refused("post_logout_redirect_uri")
    return LogoutRequest(application, member, uri, params.get("state", ""))


@transaction.atomic
def _revoke_tokens(application: Any, member: Account) -> None:
    """The tokens `application` holds for the member, and the codes it has not redeemed yet; every
    application's when `application` is None."""
    access_tokens = get_access_token_model().objects.filter(user=member)
    refresh_tokens = get_refresh_token_model().objects.filter(user=member, revoked__isnull=True)
    codes = get_grant_model().objects.filter(user=member)
    if application is not None:
        access_tokens, refresh_tokens, codes = (access_tokens.filter(application=application),
                                                refresh_tokens.filter(application=application),
                                                codes.filter(application=application))
    # A code issued a moment before (they live 60 seconds) would otherwise still give fresh tokens.
    codes.delete()
    for refresh_token in refresh_tokens:
        refresh_token.revoke()
    for access_token in access_tokens:
        if access_token.id_token:
            access_token.id_token.revoke()
        access_token.revoke()


def revoke_every_token(sender: Any, account: Account, **_: Any) -> None:
    """identities.signals.sessions_ended: a new password, an agent's "end all sessions" or a disabled
    account reaches the applications too: their tokens are revoked and their outstanding codes deleted."""
    _revoke_tokens(None, account)


@method_decorator(never_cache, name="dispatch")
class EndSession(View):
    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        return self._handle(request, slug, request.GET, answer=None)

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        # Only our own confirmation form posts here (CSRF-protected): it carries the request back.
        return self._handle(request, slug, request.POST, answer=request.POST.get("action", ""))

    def _handle(self, request: HttpRequest, slug: str, params: QueryDict, answer: str | None) -> HttpResponse:
        organisation = by_slug(slug)
        try:
            logout = parse(params, organisation)
        except Refused:
            return refused(request, organisation)
        signed_in = outcomes.signed_in_account(request, slug)
        own_session = logout.member is not None and signed_in is not None and logout.member.pk == signed_in.pk
        if signed_in is not None and not own_session and answer is None:
            return render(request, "oidc/logout.html", organisation_context(organisation) | {
                "application": logout.application, "params": {
                    k: params[k] for k in ("id_token_hint", "client_id", "post_logout_redirect_uri", "state")
                    if params.get(k)}})
        if signed_in is not None and answer != "stay":
            if logout.application is not None:
                _revoke_tokens(logout.application, signed_in)
            record("oidc.logout", organisation=organisation, account_id=signed_in.pk, ip=client_ip(request),
                   client=logout.application.client_id if logout.application else "")
            # Signed in through FranceConnect (or another provider): its session ends too, on the way back.
            goes_on = outcomes.sign_out(request, client_ip(request), reason="application", go_on=True,
                                        then=self._target(logout))
            if goes_on:
                return redirect(goes_on)
        return self._leave(logout, slug, signed_out=answer != "stay")

    def _target(self, logout: LogoutRequest) -> str:
        if not logout.post_logout_redirect_uri:
            return ""
        if logout.state:
            return str(add_params_to_uri(logout.post_logout_redirect_uri, [("state", logout.state)]))
        return logout.post_logout_redirect_uri

    def _leave(self, logout: LogoutRequest, slug: str, signed_out: bool) -> HttpResponse:
        if logout.post_logout_redirect_uri:
            return OAuth2ResponseRedirect(self._target(logout), logout.application.get_allowed_schemes())
        return redirect(page_path(slug) + ("?deconnecte=1" if signed_out else ""))
