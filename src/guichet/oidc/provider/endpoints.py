"""Discovery, keys, token and userinfo endpoints of each organisation's issuer."""

from __future__ import annotations

import json
import time
from typing import Any

from django.db import OperationalError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.utils import jwk_from_pem
from oauth2_provider.views import TokenView, UserInfoView

from guichet.oidc.provider.binding import OrganisationServer
from guichet.oidc.provider.validator import CLAIM_SCOPES, issuer
from guichet.organisations.resolve import by_slug

# How long a token request waits for another one holding the lock (file SQLite waits through busy_timeout;
# PostgreSQL through the row lock).
_REDEMPTION_WAIT_SECONDS = 5.0


class Token(OrganisationServer, TokenView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Each token request runs in one transaction (every grant: oauthlib, not this view, reads which it is).
        # So a code is redeemed from the Grant's row lock (the validator's validate_code) to its deletion:
        # a second redemption of the same code waits for the first to commit, then finds the code gone and
        # is answered like any replay (invalid_grant, the first one's tokens revoked). django-oauth-toolkit
        # alone checks the Grant, issues the tokens, and deletes the Grant last: two redemptions at once both
        # issued tokens.
        deadline = time.monotonic() + _REDEMPTION_WAIT_SECONDS
        while True:
            try:
                with transaction.atomic():
                    response: HttpResponse = super().post(request, *args, **kwargs)
                    return response
            except OperationalError as error:
                # SQLite's shared-cache memory databases (the test suite's) answer "table is locked" at once
                # where a file database waits (busy_timeout): try again shortly. Everything was rolled back.
                if connection.vendor != "sqlite" or "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)


class UserInfo(OrganisationServer, UserInfoView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # RFC 9700 §4.3.2 / RFC 6750 §5.3: never an access token in the address (logs and Referer headers keep
        # it). The toolkit's COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT covers its protected resources, not
        # its userinfo endpoint, which oauthlib lets read the query.
        if "access_token" in request.GET:
            response = JsonResponse({"error": "invalid_request",
                                     "error_description": "Send the access token in the Authorization header."},
                                    status=401)
            response["WWW-Authenticate"] = 'Bearer error="invalid_request"'
            return response
        return super().dispatch(request, *args, **kwargs)


def _absolute(name: str, slug: str) -> str:
    from django.conf import settings

    return settings.BASE_URL + reverse(f"oidc:{name}", args=[slug])


@require_GET
def discovery(request: HttpRequest, slug: str) -> JsonResponse:
    """OpenID Provider Metadata (OpenID Connect Discovery 1.0), one document per organisation."""
    organisation = by_slug(slug)
    document = {
        "issuer": issuer(organisation),
        "authorization_endpoint": _absolute("authorize", slug),
        "token_endpoint": _absolute("token", slug),
        "userinfo_endpoint": _absolute("userinfo", slug),
        "jwks_uri": _absolute("jwks", slug),
        "end_session_endpoint": _absolute("end_session", slug),
        "scopes_supported": list(oauth2_settings.SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,   # RFC 9207 (authorize.py)
        "claims_supported": sorted(CLAIM_SCOPES) + ["iss", "aud", "exp", "iat", "auth_time", "nonce", "amr"],
        # Not "consent": first-party applications never show a consent page, whatever they ask.
        "prompt_values_supported": ["none", "login"],
        "ui_locales_supported": ["fr", "en"],
    }
    response = JsonResponse(document)
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def jwks(request: HttpRequest, slug: str) -> JsonResponse:
    """The public keys that verify ID tokens (the current one, then retired ones still in use)."""
    by_slug(slug)
    keys = []
    for pem in [oauth2_settings.OIDC_RSA_PRIVATE_KEY, *oauth2_settings.OIDC_RSA_PRIVATE_KEYS_INACTIVE]:
        key = jwk_from_pem(pem)
        keys.append({"alg": "RS256", "use": "sig", "kid": key.thumbprint()} | json.loads(key.export_public()))
    response = JsonResponse({"keys": keys})
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = f"public, max-age={oauth2_settings.OIDC_JWKS_MAX_AGE_SECONDS}"
    return response
