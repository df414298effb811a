"""The authorization endpoint: the member signed in to this organisation grants an application a code.

Members not signed in go through the sign-in journey first and come back here (session["next"]); so do
members asked to sign in again (prompt=login, or a session that signed in longer ago than max_age).
First-party applications (created by operators) skip the consent page; others show it once per request.
Each consent page carries the id of its own request (a hidden field): "Allow" grants what that page showed,
whatever other authorization requests the browser opened meanwhile.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_noop
from django.views import View
from django.views.decorators.cache import never_cache
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.http import OAuth2ResponseRedirect
from oauth2_provider.models import get_application_model
from oauth2_provider.scopes import get_scopes_backend
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors

from guichet.audit.record import record
from guichet.journeys.paths import journey_path
from guichet.oidc.provider.binding import OrganisationServer
from guichet.oidc.provider.pages import refused
from guichet.oidc.provider.validator import issuer, max_age, signed_in_too_long_ago
from guichet.security.ratelimit import client_ip
from guichet.web import outcomes
from guichet.web.html.pages import organisation_context

# The consent page translates the scopes' labels of settings.OAUTH2_PROVIDER["SCOPES"]; named here as well so that
# makemessages keeps them in this app's catalogue.
SCOPE_LABELS = (gettext_noop("Sign you in"), gettext_noop("Your name and date of birth"),
                gettext_noop("Your email address"), gettext_noop("Your member number"))

# What of a validated request is kept in the session while the member reads the consent page.
_KEPT = ("client_id", "redirect_uri", "response_type", "state", "code_challenge", "code_challenge_method",
         "nonce", "claims")
# Consent pages a browser may have open at once (per organisation); the oldest request is forgotten first.
_PENDING_AT_MOST = 5


@method_decorator(never_cache, name="dispatch")
class Authorize(OrganisationServer, View):
    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        try:
            scopes, credentials = self.validate_authorization_request(request)
            if credentials.get("code_challenge_method") != "S256":
                # PKCE is required, and only with S256: "plain" gives away the verifier.
                raise OAuthToolkitError(error=errors.InvalidRequestError(
                    description="PKCE with code_challenge_method=S256 is required.", request=credentials["request"]))
            try:
                max_age(request.GET.get("max_age"))
            except ValueError:
                raise OAuthToolkitError(error=errors.InvalidRequestError(
                    description="max_age must be a number of seconds.", request=credentials["request"])) from None
        except OAuthToolkitError as error:
            return self._error(error)
        prompt = set(request.GET.get("prompt", "").split())
        signed_in = outcomes.session_sign_in(request, slug)
        if signed_in is None or "login" in prompt or signed_in_too_long_ago(signed_in, request.GET.get("max_age")):
            # prompt=login, and a max_age shorter than the session's age, are served by signing in again;
            # they are taken off so the return does not loop.
            query = [(k, v) for k, v in parse_qsl(request.META.get("QUERY_STRING", ""))
                     if k not in ("prompt", "max_age")]
            request.session["next"] = f"{request.path}?{urlencode(query)}"
            return redirect(journey_path(slug, "login"))
        application = get_application_model().objects.get(client_id=credentials["client_id"])
        kept = {key: credentials[key] for key in _KEPT if credentials.get(key)}
        if application.skip_authorization:
            return self._grant(request, scopes, kept, allow=True)
        request_id = secrets.token_urlsafe(16)
        pending = {key: value for key, value in self._pending(request).items() if isinstance(value, dict)}
        pending[request_id] = {"scopes": scopes, "credentials": kept}
        request.session[self._consent_key()] = dict(list(pending.items())[-_PENDING_AT_MOST:])
        descriptions = get_scopes_backend().get_all_scopes()
        return render(request, "oidc/consent.html", organisation_context(self.organisation) | {
            "application": application, "request_id": request_id,
            "return_to": urlsplit(kept["redirect_uri"]).netloc if kept.get("redirect_uri") else "",
            "scopes": [descriptions[s] for s in scopes if s in descriptions]})

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        pending = self._pending(request)
        answered = pending.pop(request.POST.get("request", ""), None)
        if pending:
            request.session[self._consent_key()] = pending
        else:
            request.session.pop(self._consent_key(), None)
        if not isinstance(answered, dict) or outcomes.signed_in_account(request, slug) is None:
            return refused(request, self.organisation)
        return self._grant(request, answered["scopes"], answered["credentials"],
                           allow=request.POST.get("action") == "allow")

    def _consent_key(self) -> str:
        return f"oidc:consent:{self.organisation.slug}"

    def _pending(self, request: HttpRequest) -> dict[str, Any]:
        """The requests whose consent page is open in this browser, by id (oldest first)."""
        pending = request.session.get(self._consent_key())
        if not isinstance(pending, dict) or "credentials" in pending:   # none, or one kept before request ids
            return {}
        return dict(pending)

    def _grant(self, request: HttpRequest, scopes: list[str], credentials: dict[str, Any], allow: bool) -> HttpResponse:
        application = get_application_model().objects.filter(client_id=credentials["client_id"]).first()
        if application is None:   # removed by an operator while its consent page was open
            return refused(request, self.organisation)
        try:
            uri, _headers, _body, _status = self.create_authorization_response(
                request=request, scopes=" ".join(scopes), credentials=dict(credentials), allow=allow)
        except OAuthToolkitError as error:
            return self._error(error)
        record("oidc.authorized" if allow else "oidc.refused", organisation=self.organisation,
               account_id=request.user.pk, ip=client_ip(request), client=application.client_id, scopes=scopes)
        return OAuth2ResponseRedirect(self._with_issuer(uri), application.get_allowed_schemes())

    def _error(self, error: OAuthToolkitError) -> HttpResponse:
        may_redirect, response = self.error_response(error)
        if not may_redirect or not error.oauthlib_error.redirect_uri:
            # An unknown client or redirect URI: never send the member there.
            return refused(self.request, self.organisation)
        return OAuth2ResponseRedirect(self._with_issuer(response["url"]), oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES)

    def _with_issuer(self, uri: str) -> str:
        """RFC 9207: every authorization response, code or error, names its issuer (`iss`), so that an application
        that signs in with several issuers (one per organisation here) can tell which one answered (mix-up
        attacks, RFC 9700 §4.4). django-oauth-toolkit knows one issuer only, so Guichet adds its own."""
        parts = urlsplit(uri)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "iss"]
        return parts._replace(query=urlencode([*query, ("iss", issuer(self.organisation))])).geturl()
