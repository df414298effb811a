"""Talking to an upstream OpenID Connect provider (FranceConnect, or another): Authlib for the protocol,
joserfc (Authlib's JOSE library) to verify what the provider signed.

Nothing here reads the request or writes the database: views pass what they hold and get typed
results or an UpstreamError whose `reason` is audited.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from typing import Any, cast

import requests
from authlib.common.errors import AuthlibBaseError as OAuthError
from authlib.common.urls import add_params_to_uri
from authlib.integrations.requests_client import OAuth2Session
from django.core.cache import cache
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, KeySetSerialization

from guichet.policy.model import Upstream

TIMEOUT = 10          # seconds for each call to the provider
SIGN_OUT_TIMEOUT = 3  # seconds: a member signing out waits for the provider's discovery document no longer
METADATA_TTL = 600    # the provider's discovery document and keys are re-read every 10 minutes
ALGORITHMS = ["RS256", "PS256", "ES256"]   # asymmetric only: the client secret never verifies a token


class UpstreamError(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class Pending:
    """What the start of the flow keeps in the member's session until the provider sends them back."""

    state: str
    nonce: str
    verifier: str

    def to_session(self) -> dict[str, str]:
        return {"state": self.state, "nonce": self.nonce, "verifier": self.verifier}


@dataclass(frozen=True)
class Identity:
    subject: str
    claims: dict[str, Any]   # the ID token's claims, then the userinfo's (which win)
    acr: str
    id_token: str            # as received: the id_token_hint when the member signs out


def _get_json(url: str, timeout: float = TIMEOUT) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
        return dict(response.json())
    except (requests.RequestException, ValueError) as error:
        raise UpstreamError("unavailable", f"{url}: {error}") from None


def metadata(upstream: Upstream, *, fresh: bool = False, timeout: float = TIMEOUT) -> dict[str, Any]:
    key = f"oidc:upstream:metadata:{upstream.issuer}"
    document = None if fresh else cache.get(key)
    if document is None:
        document = _get_json(f"{upstream.issuer}/.well-known/openid-configuration", timeout)
        # OpenID Connect Discovery 4.3: the document must name the issuer we asked (no mix-up).
        if document.get("issuer", "").rstrip("/") != upstream.issuer:
            raise UpstreamError("metadata", f"issuer {document.get('issuer')!r} is not {upstream.issuer!r}")
        cache.set(key, document, METADATA_TTL)
    return dict(document)


def _keys(document: dict[str, Any], refresh: bool = False) -> KeySet:
    key = f"oidc:upstream:jwks:{document['issuer']}"
    jwks = None if refresh else cache.get(key)
    if jwks is None:
        jwks = _get_json(document["jwks_uri"])
        cache.set(key, jwks, METADATA_TTL)
    return KeySet.import_key_set(cast(KeySetSerialization, jwks))   # the provider's JWK Set, as JSON


def _verified(document: dict[str, Any], token: str, what: str) -> dict[str, Any]:
    """The claims of a JWT the provider signed; its keys are read again once if a key is unknown (rotation)."""
    for refresh in (False, True):
        try:
            return dict(jwt.decode(token, _keys(document, refresh), algorithms=ALGORITHMS).claims)
        except (JoseError, ValueError) as error:
            if refresh:
                raise UpstreamError(what, str(error)) from None
    raise AssertionError("unreachable")


def client_secret(upstream: Upstream) -> str:
    secret = os.environ.get(upstream.client_secret_env, "")
    if not secret:
        raise UpstreamError("not_configured", f"the environment variable {upstream.client_secret_env} is empty")
    return secret


def _session(upstream: Upstream, redirect_uri: str, document: dict[str, Any]) -> OAuth2Session:
    methods = document.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
    method = "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
    return OAuth2Session(upstream.client_id, client_secret(upstream), scope=" ".join(upstream.scopes),
                         redirect_uri=redirect_uri, code_challenge_method="S256", token_endpoint_auth_method=method)


def authorization(upstream: Upstream, redirect_uri: str) -> tuple[str, Pending]:
    """The provider's address to send the member to, and what to keep until they come back."""
    document = metadata(upstream)
    pending = Pending(state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32),
                      verifier=secrets.token_urlsafe(64))
    extra = {"acr_values": upstream.acr_values} if upstream.acr_values else {}
    url, _ = _session(upstream, redirect_uri, document).create_authorization_url(
        document["authorization_endpoint"], state=pending.state, nonce=pending.nonce, code_verifier=pending.verifier,
        **extra)
    return url, pending


def identity(upstream: Upstream, redirect_uri: str, pending: Pending, code: str) -> Identity:
    """Exchange the code, verify the ID token (signature, iss, aud, exp, nonce, acr), read the userinfo."""
    document = metadata(upstream)
    session = _session(upstream, redirect_uri, document)
    try:
        token = session.fetch_token(document["token_endpoint"], code=code, code_verifier=pending.verifier,
                                    timeout=TIMEOUT)
    except (OAuthError, requests.RequestException, ValueError) as error:
        raise UpstreamError("token", str(error)) from None
    if "id_token" not in token:
        raise UpstreamError("id_token", "no ID token in the token response")
    claims = _verified(document, token["id_token"], "id_token")
    _check_id_token(upstream, claims, pending)
    userinfo = _userinfo(upstream, session, document, claims["sub"])
    return Identity(subject=claims["sub"], claims=claims | userinfo, acr=str(claims.get("acr", "")),
                    id_token=token["id_token"])


def end_session_url(upstream: Upstream, *, id_token_hint: str, state: str, post_logout_redirect_uri: str) -> str:
    """Where to send the browser of a member signing out, to end their session at the provider too
    (OpenID Connect RP-Initiated Logout 1.0).

    The discovery document is read again, not from the cache, with a short timeout: a provider that
    is down, or no longer offers end_session_endpoint, is noticed here and the member is signed out of
    Guichet only, rather than sent to an error page of the provider."""
    document = metadata(upstream, fresh=True, timeout=SIGN_OUT_TIMEOUT)
    endpoint = document.get("end_session_endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        raise UpstreamError("no_end_session", "the discovery document has no end_session_endpoint")
    # The ID token travels in this address: in clear only to a local test provider (an http:// issuer,
    # which the policy allows on the loopback only).
    if not endpoint.startswith("https://") and not (upstream.issuer.startswith("http://")
                                                    and endpoint.startswith(upstream.issuer + "/")):
        raise UpstreamError("no_end_session", f"end_session_endpoint {endpoint!r} is not https://")
    return add_params_to_uri(endpoint, [("id_token_hint", id_token_hint), ("state", state),
                                        ("post_logout_redirect_uri", post_logout_redirect_uri)])


def _check_id_token(upstream: Upstream, claims: dict[str, Any], pending: Pending) -> None:
    registry = jwt.JWTClaimsRegistry(
        leeway=60, iss={"essential": True, "value": upstream.issuer}, sub={"essential": True},
        aud={"essential": True, "value": upstream.client_id}, exp={"essential": True}, iat={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as error:
        raise UpstreamError("id_token", str(error)) from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != upstream.client_id:
        raise UpstreamError("id_token", "several audiences and azp is not our client")
    if not secrets.compare_digest(str(claims.get("nonce", "")), pending.nonce):
        raise UpstreamError("nonce", "the ID token's nonce is not the one we sent")
    if upstream.acr_values and claims.get("acr") not in upstream.acr_values.split():
        raise UpstreamError("acr", f"acr {claims.get('acr')!r} is not among {upstream.acr_values!r}")


def _userinfo(upstream: Upstream, session: OAuth2Session, document: dict[str, Any], subject: str) -> dict[str, Any]:
    try:
        response = session.get(document["userinfo_endpoint"], timeout=TIMEOUT)
        response.raise_for_status()
    except (OAuthError, requests.RequestException) as error:
        raise UpstreamError("userinfo", str(error)) from None
    if response.headers.get("Content-Type", "").split(";")[0].strip() == "application/jwt":
        claims = _verified(document, response.text, "userinfo")
        if claims.get("iss", upstream.issuer) != upstream.issuer or claims.get("aud", upstream.client_id) not in (
                upstream.client_id, [upstream.client_id]):
            raise UpstreamError("userinfo", "signed userinfo for another issuer or client")
    elif upstream.kind == "franceconnect":
        # FranceConnect signs its userinfo: an unsigned answer is not from FranceConnect.
        raise UpstreamError("userinfo", "FranceConnect's userinfo must be a signed JWT")
    else:
        try:
            claims = dict(json.loads(response.text))
        except ValueError as error:
            raise UpstreamError("userinfo", str(error)) from None
    if claims.get("sub") != subject:   # OpenID Connect Core 5.3.2: must be the ID token's subject
        raise UpstreamError("userinfo", "the userinfo is about another subject")
    return claims
