"""An application of an organisation calling the provider's endpoints in the test process (Django's test
client): a member signs in through the real sign-in journey, codes come from the real authorization
endpoint and are redeemed at the real token endpoint. Faster than the live-server tests, for the rules
that need many requests (refresh chains, replays, a session's age).

Time passing is simulated by moving stored timestamps back (what a later clock would see), never by
patching code."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from django.contrib.sessions.backends.base import SessionBase
from django.db.models import F
from django.test import Client
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from guichet.conftest import PASSWORD
from guichet.identities.models import Account
from guichet.oidc.conftest import CALLBACK
from guichet.oidc.models import Authentication
from guichet.oidc.provider.clients import NewClient
from guichet.organisations.models import Organisation
from guichet.web.journey_driver import HtmlDriver


def sign_in(browser: Client, account: Account) -> None:
    """The real sign-in journey (password only: members made by the `make_member` fixture)."""
    driver = HtmlDriver(browser, account.organisation.slug)
    page = driver.open("login")
    assert page.step == "credentials", page
    page = driver.submit({"identifier": account.identifier, "password": PASSWORD}, "sign_in")
    assert page.status in (302, 303), page


def age_session(browser: Client, seconds: float) -> None:
    """The browser's session signed in `seconds` earlier (and was in use a moment ago)."""
    session: SessionBase = browser.session
    session["signed_in_at"] -= seconds
    session.save()


class App:
    """An application of `organisation`: builds authorization requests, redeems codes, refreshes."""

    def __init__(self, organisation: Organisation, client: NewClient, scope: str = "openid profile email member"):
        self.organisation, self.client, self.scope = organisation, client, scope
        self.verifier = secrets.token_urlsafe(48)
        self.state, self.nonce = secrets.token_urlsafe(8), secrets.token_urlsafe(8)

    def path(self, name: str, slug: str | None = None) -> str:
        return f"/o/{slug or self.organisation.slug}/oidc/{name}"

    def authorization_query(self, **extra: str) -> str:
        challenge = base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest()).rstrip(b"=").decode()
        params = {"client_id": self.client.client_id, "response_type": "code", "scope": self.scope,
                  "redirect_uri": CALLBACK, "state": self.state, "nonce": self.nonce,
                  "code_challenge": challenge, "code_challenge_method": "S256"} | extra
        return urlencode(params)

    def authorize(self, browser: Client, slug: str | None = None, **extra: str) -> Any:
        return browser.get(self.path("authorize", slug) + "?" + self.authorization_query(**extra))

    def code(self, browser: Client, **extra: str) -> str:
        response = self.authorize(browser, **extra)
        assert response.status_code == 302 and response["Location"].startswith(CALLBACK), \
            (response.status_code, response.get("Location"), response.content[:500])
        return code_in(response)

    def _auth(self) -> dict[str, str]:
        return {"client_id": self.client.client_id} | (
            {"client_secret": self.client.client_secret} if self.client.client_secret else {})

    def token(self, code: str, slug: str | None = None, **extra: str) -> Any:
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
                "code_verifier": self.verifier} | self._auth() | extra
        return Client().post(self.path("token", slug), data)

    def refresh(self, refresh_token: str, slug: str | None = None) -> Any:
        return Client().post(self.path("token", slug), {"grant_type": "refresh_token",
                                                         "refresh_token": refresh_token} | self._auth())

    def userinfo(self, access_token: str, slug: str | None = None) -> Any:
        return Client().get(self.path("userinfo", slug), HTTP_AUTHORIZATION=f"Bearer {access_token}")

    def signed_in_tokens(self, member: Account) -> dict[str, Any]:
        """A new browser signs the member in; the application gets a code and redeems it."""
        browser = Client()
        sign_in(browser, member)
        response = self.token(self.code(browser))
        assert response.status_code == 200, response.content
        return dict(response.json())


def code_in(response: Any) -> str:
    """The code in an authorization response's redirect to the application."""
    assert response.status_code == 302 and response["Location"].startswith(CALLBACK + "?code="), \
        (response.status_code, response.get("Location"))
    return parse_qs(urlsplit(response["Location"]).query)["code"][0]


def error_in(response: Any) -> str:
    """The error in an authorization response's redirect to the application."""
    assert response.status_code == 302 and response["Location"].startswith(CALLBACK + "?"), \
        (response.status_code, response.get("Location"))
    return parse_qs(urlsplit(response["Location"]).query)["error"][0]


def claims_of(id_token: str) -> dict[str, Any]:
    """The claims of a JWT, unverified (the tests that check signatures use the JWKS)."""
    payload = id_token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def hours_pass(hours: float) -> None:
    """What the database would look like `hours` later: the tokens, the sign-ins they came from and the
    members' last sign-in move back."""
    delta = timedelta(hours=hours)
    get_access_token_model().objects.update(expires=F("expires") - delta, created=F("created") - delta)
    get_refresh_token_model().objects.update(created=F("created") - delta)
    Authentication.objects.update(authenticated_at=F("authenticated_at") - delta)
    Account.objects.exclude(last_login=None).update(last_login=F("last_login") - delta)
