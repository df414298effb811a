"""Each organisation is an OpenID Connect issuer: a real client library (Authlib) against Guichet on a
live HTTP server, a member signing in on the real pages in between."""

from __future__ import annotations

import base64
import json
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from django.test import Client
from joserfc import jwt
from joserfc.jwk import KeySet

from guichet.audit.models import Event
from guichet.conftest import PASSWORD
from guichet.identities.models import Account
from guichet.journeys.paths import journey_path
from guichet.oidc.conftest import AFTER_LOGOUT, CALLBACK, sign_in
from guichet.oidc.provider.clients import NewClient
from guichet.oidc.testing import application as direct
from guichet.oidc.testing.browsing import Browser
from guichet.organisations.models import Organisation
from guichet.web.journey_driver import HtmlDriver

pytestmark = pytest.mark.django_db(transaction=True)
SCOPES = "openid profile email member"


def discover(base: str, slug: str) -> dict[str, Any]:
    response = requests.get(f"{base}/o/{slug}/.well-known/openid-configuration", timeout=10)
    response.raise_for_status()
    return dict(response.json())


class RelyingParty:
    """An organisation's application, as its developers would write it with Authlib."""

    def __init__(self, base: str, slug: str, client: NewClient):
        self.metadata = discover(base, slug)
        self.client = client
        self.state, self.nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        self.verifier = secrets.token_urlsafe(48)
        self.session = OAuth2Session(client.client_id, client.client_secret or None, scope=SCOPES,
                                     redirect_uri=CALLBACK, code_challenge_method="S256", state=self.state,
                                     token_endpoint_auth_method="client_secret_basic" if client.client_secret
                                     else "none")
        Browser.opened.append(self.session)   # closed after the test, like the browsers' sessions

    def authorization_url(self) -> str:
        url, _ = self.session.create_authorization_url(self.metadata["authorization_endpoint"], state=self.state,
                                                       nonce=self.nonce, code_verifier=self.verifier)
        return str(url)

    def tokens(self, callback: str) -> dict[str, Any]:
        return dict(self.session.fetch_token(self.metadata["token_endpoint"], authorization_response=callback,
                                             code_verifier=self.verifier))

    def verified_id_token(self, token: str) -> dict[str, Any]:
        keys = KeySet.import_key_set(requests.get(self.metadata["jwks_uri"], timeout=10).json())
        decoded = jwt.decode(token, keys, algorithms=["RS256"])
        assert decoded.header["alg"] == "RS256"
        jwt.JWTClaimsRegistry(iss={"essential": True, "value": self.metadata["issuer"]},
                              aud={"essential": True, "value": self.client.client_id},
                              nonce={"essential": True, "value": self.nonce},
                              exp={"essential": True}).validate(decoded.claims)
        return dict(decoded.claims)


def test_discovery_names_the_organisations_own_endpoints(live_base: str, farm: Organisation,
                                                        pension: Organisation) -> None:
    farm_doc, pension_doc = discover(live_base, farm.slug), discover(live_base, pension.slug)
    assert farm_doc["issuer"] == f"{live_base}/o/{farm.slug}" != pension_doc["issuer"]
    assert farm_doc["authorization_endpoint"] == f"{live_base}/o/{farm.slug}/oidc/authorize"
    assert farm_doc["code_challenge_methods_supported"] == ["S256"]
    assert farm_doc["response_types_supported"] == ["code"]
    assert requests.get(f"{live_base}/o/unknown-org/.well-known/openid-configuration", timeout=10).status_code == 404


def test_a_member_signs_in_to_an_application(live_base: str, farm: Organisation, farm_member: Account,
                                             make_client: Any) -> None:
    app, browser = RelyingParty(live_base, farm.slug, make_client(farm)), Browser()
    login = browser.go(app.authorization_url(), stop_at=CALLBACK)
    assert login.page.url == live_base + journey_path(farm.slug, "login")   # not signed in yet
    callback = sign_in(browser, live_base, login, farm_member, stop_at=CALLBACK)
    assert parse_qs(urlsplit(callback.url).query)["state"] == [app.state]

    tokens = app.tokens(callback.url)
    claims = app.verified_id_token(tokens["id_token"])
    assert claims["sub"] == str(farm_member.pk)
    userinfo = app.session.get(app.metadata["userinfo_endpoint"]).json()
    record = farm_member.member
    assert record is not None
    assert userinfo == {"sub": str(farm_member.pk), "given_name": record.first_name,
                        "family_name": record.last_name, "birthdate": "1956-03-14", "email": record.email,
                        "email_verified": False, "member_number": record.member_number}

    # The code is single use.
    with pytest.raises(AuthlibBaseError, match="invalid_grant"):
        app.tokens(callback.url)
    assert Event.objects.filter(kind="oidc.authorized", account_id=farm_member.pk).exists()

    # Already signed in: the next authorization goes straight back to the application.
    again = RelyingParty(live_base, farm.slug, app.client)
    assert browser.go(again.authorization_url(), stop_at=CALLBACK).url.startswith(CALLBACK + "?code=")


@pytest.mark.parametrize("change", ["new password", "sessions ended by an agent", "account closed"])
def test_what_ends_the_members_sessions_ends_the_applications_tokens(
        live_base: str, farm: Organisation, farm_member: Account, make_client: Any, change: str) -> None:
    from django.utils import timezone

    from guichet.identities import actions

    app, browser = RelyingParty(live_base, farm.slug, make_client(farm)), Browser()
    callback = sign_in(browser, live_base, browser.go(app.authorization_url(), stop_at=CALLBACK), farm_member,
                       stop_at=CALLBACK)
    tokens = app.tokens(callback.url)
    assert "refresh_token" in tokens
    assert app.session.get(app.metadata["userinfo_endpoint"]).status_code == 200
    if change == "new password":
        actions.set_password(farm_member, "Another-Horse-43!", now=timezone.now())
    elif change == "sessions ended by an agent":
        actions.end_sessions(farm_member, actor="agent:test", ip=None)
    else:
        actions.disable(farm_member, actor="agent:test", ip=None)
    assert app.session.get(app.metadata["userinfo_endpoint"]).status_code == 401
    with pytest.raises(AuthlibBaseError, match="invalid_grant"):
        app.session.refresh_token(app.metadata["token_endpoint"], refresh_token=tokens["refresh_token"])
    from oauth2_provider.models import get_refresh_token_model

    # Recorded as revoked (RFC 7009), not merely orphaned.
    assert not get_refresh_token_model().objects.filter(user=farm_member, revoked__isnull=True).exists()


def test_scopes_limit_the_claims(live_base: str, farm: Organisation, farm_member: Account,
                                 make_client: Any) -> None:
    app, browser = RelyingParty(live_base, farm.slug, make_client(farm, public=True)), Browser()
    app.session.scope = "openid email"
    callback = sign_in(browser, live_base, browser.go(app.authorization_url(), stop_at=CALLBACK), farm_member,
                       stop_at=CALLBACK)
    app.tokens(callback.url)   # a public client: PKCE alone, no secret
    userinfo = app.session.get(app.metadata["userinfo_endpoint"]).json()
    assert set(userinfo) == {"sub", "email", "email_verified"}


def _error(url: str) -> str:
    return parse_qs(urlsplit(url).query).get("error", [""])[0]


def test_bad_requests_are_refused(live_base: str, farm: Organisation, farm_member: Account,
                                  make_client: Any) -> None:
    client, browser = make_client(farm), Browser()
    endpoint = f"{live_base}/o/{farm.slug}/oidc/authorize"
    base = {"client_id": client.client_id, "response_type": "code", "scope": "openid", "redirect_uri": CALLBACK,
            "state": "s1", "code_challenge": "x" * 43, "code_challenge_method": "S256"}
    # An unregistered redirect URI (even on the same host) is never redirected to.
    for uri in ("http://127.0.0.1:9/app/other", CALLBACK + "?x=1", "http://127.0.0.1:10/app/callback"):
        page = browser.go(endpoint + "?" + urlencode(base | {"redirect_uri": uri}), stop_at="http://127.0.0.1:9")
        assert page.response is not None and page.page.status_code == 400
    # PKCE is required, with S256 only: the error goes back to the application.
    plain = browser.go(endpoint + "?" + urlencode(base | {"code_challenge_method": "plain"}), stop_at=CALLBACK)
    assert _error(plain.url) == "invalid_request" and "state=s1" in plain.url
    missing = {k: v for k, v in base.items() if not k.startswith("code_challenge")}
    assert _error(browser.go(endpoint + "?" + urlencode(missing), stop_at=CALLBACK).url) == "invalid_request"
    # prompt=none without a session: login_required, without showing any page.
    silent = browser.go(endpoint + "?" + urlencode(base | {"prompt": "none"}), stop_at=CALLBACK)
    assert _error(silent.url) == "login_required"


def test_organisations_are_isolated(live_base: str, farm: Organisation, health: Organisation,
                                    make_member: Any, make_client: Any) -> None:
    farm_client = make_client(farm)
    # A farm client is unknown at the health mutual's endpoints.
    app = RelyingParty(live_base, health.slug, farm_client)
    page = Browser().go(app.authorization_url(), stop_at=CALLBACK)
    assert page.response is not None and page.page.status_code == 400

    # A member signed in to the health mutual is not signed in for the farm's applications.
    health_member = make_member(health)
    browser = Browser()
    health_app = RelyingParty(live_base, health.slug, make_client(health))
    health_callback = sign_in(browser, live_base, browser.go(health_app.authorization_url(), stop_at=CALLBACK),
                              health_member, stop_at=CALLBACK)
    farm_app = RelyingParty(live_base, farm.slug, farm_client)
    assert browser.go(farm_app.authorization_url(), stop_at=CALLBACK).page.url == \
        live_base + journey_path(farm.slug, "login")

    # A health mutual token opens nothing at the farm's userinfo, and the issuers differ.
    tokens = health_app.tokens(health_callback.url)
    assert health_app.verified_id_token(tokens["id_token"])["iss"] == f"{live_base}/o/{health.slug}"
    answer = requests.get(farm_app.metadata["userinfo_endpoint"],
                          headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10)
    assert answer.status_code in (401, 403)


def test_the_application_signs_the_member_out(live_base: str, farm: Organisation, farm_member: Account,
                                              make_client: Any) -> None:
    app, browser = RelyingParty(live_base, farm.slug, make_client(farm)), Browser()
    callback = sign_in(browser, live_base, browser.go(app.authorization_url(), stop_at=CALLBACK), farm_member,
                       stop_at=CALLBACK)
    tokens = app.tokens(callback.url)
    logout = browser.go(app.metadata["end_session_endpoint"] + "?" + urlencode({
        "id_token_hint": tokens["id_token"], "post_logout_redirect_uri": AFTER_LOGOUT, "state": "bye"}),
        stop_at=AFTER_LOGOUT)
    assert logout.url == AFTER_LOGOUT + "?state=bye"
    space = browser.go(f"{live_base}/o/{farm.slug}/espace/", stop_at=CALLBACK)
    assert space.page.url == live_base + journey_path(farm.slug, "login")   # the Guichet session is over
    assert requests.get(app.metadata["userinfo_endpoint"], timeout=10,
                        headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code in (401, 403)
    assert Event.objects.filter(kind="logout", account_id=farm_member.pk, data__reason="application").exists()
    # An address the client did not register is refused.
    refused = browser.go(app.metadata["end_session_endpoint"] + "?" + urlencode({
        "client_id": app.client.client_id, "post_logout_redirect_uri": "http://127.0.0.1:9/elsewhere"}))
    assert refused.page.status_code == 400


def test_without_a_hint_the_member_is_asked_before_signing_out(live_base: str, farm: Organisation,
                                                               farm_member: Account, make_client: Any) -> None:
    app, browser = RelyingParty(live_base, farm.slug, make_client(farm)), Browser()
    sign_in(browser, live_base, browser.go(app.authorization_url(), stop_at=CALLBACK), farm_member, stop_at=CALLBACK)
    question = browser.go(app.metadata["end_session_endpoint"] + "?" + urlencode({
        "client_id": app.client.client_id, "post_logout_redirect_uri": AFTER_LOGOUT}), stop_at=AFTER_LOGOUT)
    assert question.page.status_code == 200
    stayed = browser.submit(question.page, {"action": "stay"}, stop_at=AFTER_LOGOUT)
    assert stayed.url == AFTER_LOGOUT
    assert browser.go(f"{live_base}/o/{farm.slug}/espace/").page.url.endswith("/espace/")


def test_a_third_party_application_asks_the_member_first(live_base: str, farm: Organisation,
                                                         farm_member: Account) -> None:
    from guichet.oidc.provider.clients import add_client

    client = add_client(farm, name="Simulateur retraite", redirect_uris=[CALLBACK], skip_authorization=False,
                        scopes=["openid", "profile"])
    app, browser = RelyingParty(live_base, farm.slug, client), Browser()
    app.session.scope = "openid profile"
    consent = sign_in(browser, live_base, browser.go(app.authorization_url(), stop_at=CALLBACK), farm_member,
                      stop_at=CALLBACK)
    assert "Simulateur retraite" in consent.page.text and "Vos nom, prénom et date de naissance" in consent.page.text
    refused = browser.submit(consent.page, {"action": "deny"}, stop_at=CALLBACK)
    assert _error(refused.url) == "access_denied"
    again = RelyingParty(live_base, farm.slug, client)
    again.session.scope = "openid profile"
    consent = browser.go(again.authorization_url(), stop_at=CALLBACK)
    allowed = browser.submit(consent.page, {"action": "allow"}, stop_at=CALLBACK)
    assert again.verified_id_token(again.tokens(allowed.url)["id_token"])["sub"] == str(farm_member.pk)


# --- In the test process (Django's test client, no live server): rules that take many requests ----------

in_process = pytest.mark.django_db   # closer than the module's mark: these need no live server


@in_process
@pytest.mark.parametrize("change", ["account disabled", "new password", "sessions ended by an agent"])
def test_a_code_issued_before_the_sessions_ended_gives_no_tokens(farm: Organisation, farm_member: Account,
                                                                 make_client: Any, change: str) -> None:
    from django.utils import timezone
    from oauth2_provider.models import get_grant_model

    from guichet.identities import actions

    app, browser = direct.App(farm, make_client(farm)), Client()
    direct.sign_in(browser, farm_member)
    code = app.code(browser)
    if change == "account disabled":
        actions.disable(farm_member, actor="agent:1", ip=None, reason="fraud")
    elif change == "new password":
        actions.set_password(farm_member, "Another-Horse-43!", now=timezone.now())
    else:
        actions.end_sessions(farm_member, actor="agent:1", ip=None)
    assert not get_grant_model().objects.filter(user=farm_member).exists()
    response = app.token(code)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


@in_process
def test_an_inactive_accounts_codes_and_tokens_are_worth_nothing(farm: Organisation, farm_member: Account,
                                                                 make_client: Any) -> None:
    """Even when its codes and tokens survived the change (a state set by another path than
    identities.actions, which ends the sessions too), an account that is not active gets nothing."""
    app, browser = direct.App(farm, make_client(farm)), Client()
    direct.sign_in(browser, farm_member)
    tokens = app.signed_in_tokens(farm_member)
    code = app.code(browser)
    Account.objects.filter(pk=farm_member.pk).update(state=Account.State.DISABLED)
    assert app.token(code).json()["error"] == "invalid_grant"
    assert app.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert app.userinfo(tokens["access_token"]).status_code == 401
    # Active again: the access token works again (nothing was revoked here).
    Account.objects.filter(pk=farm_member.pk).update(state=Account.State.ACTIVE)
    assert app.userinfo(tokens["access_token"]).status_code == 200


@in_process
def test_refresh_tokens_end_session_max_hours_after_the_sign_in(farm: Organisation, farm_member: Account,
                                                                 make_client: Any, settings: Any) -> None:
    """Rotation dates each new refresh token from its own access token; the family as a whole still ends
    SESSION_MAX_SECONDS after the sign-in that started it."""
    max_hours = settings.SESSION_MAX_SECONDS / 3600
    app = direct.App(farm, make_client(farm))
    tokens = app.signed_in_tokens(farm_member)
    for _ in range(3):                              # 0.9 of the maximum: still the member's session
        direct.hours_pass(max_hours * 0.3)
        response = app.refresh(tokens["refresh_token"])
        assert response.status_code == 200, response.content
        tokens = response.json()
    assert app.userinfo(tokens["access_token"]).status_code == 200
    direct.hours_pass(max_hours * 0.3)              # 1.2: over
    response = app.refresh(tokens["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


@in_process
def test_the_cap_counts_from_the_sign_in_not_from_the_code(farm: Organisation, farm_member: Account,
                                                           make_client: Any, settings: Any) -> None:
    app, browser = direct.App(farm, make_client(farm)), Client()
    direct.sign_in(browser, farm_member)
    direct.age_session(browser, settings.SESSION_MAX_SECONDS - 3600 - 60)   # an hour of session left
    tokens = app.token(app.code(browser)).json()
    direct.hours_pass(0.5)
    tokens = app.refresh(tokens["refresh_token"]).json()
    direct.hours_pass(0.6)
    assert app.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"


@in_process
def test_a_rotated_refresh_token_presented_again_revokes_its_family(farm: Organisation, farm_member: Account,
                                                                    make_client: Any) -> None:
    """RFC 9700 4.14.2: the server cannot tell the thief from the application; both lose the chain."""
    app = direct.App(farm, make_client(farm))
    stolen = app.signed_in_tokens(farm_member)["refresh_token"]
    thief = app.refresh(stolen)                          # the thief refreshes first
    assert thief.status_code == 200
    legitimate = app.refresh(stolen)                     # the real application's refresh: refused...
    assert legitimate.status_code == 400 and legitimate.json()["error"] == "invalid_grant"
    # ...and the thief's chain is over.
    assert app.userinfo(thief.json()["access_token"]).status_code == 401
    assert app.refresh(thief.json()["refresh_token"]).json()["error"] == "invalid_grant"


@in_process
def test_max_age_asks_an_older_session_to_sign_in_again(farm: Organisation, farm_member: Account,
                                                        make_client: Any) -> None:
    """OpenID Connect Core 3.1.2.1: with max_age, the OP must authenticate the member again when their
    sign-in is older; auth_time says when THIS session signed in, not the account's latest sign-in."""
    from django.utils import timezone

    app, browser = direct.App(farm, make_client(farm)), Client()
    direct.sign_in(browser, farm_member)
    direct.age_session(browser, 12 * 60)           # this browser signed in 12 minutes ago
    direct.sign_in(Client(), farm_member)           # the member (or whoever) signs in on another device now
    login = journey_path(farm.slug, "login")

    # No max_age: a code at once, whose ID token says 12 minutes.
    claims = direct.claims_of(app.token(app.code(browser)).json()["id_token"])
    assert 12 * 60 <= timezone.now().timestamp() - claims["auth_time"] < 13 * 60
    assert app.authorize(browser, max_age="3600")["Location"].startswith(CALLBACK + "?code=")
    # 5 minutes at most: sign in again (prompt=none cannot show the page: login_required); so for 0.
    assert app.authorize(browser, max_age="300")["Location"] == login
    assert app.authorize(browser, max_age="0")["Location"] == login
    assert direct.error_in(app.authorize(browser, max_age="300", prompt="none")) == "login_required"
    assert direct.error_in(app.authorize(browser, max_age="five minutes")) == "invalid_request"

    # Signed in again, the member goes back to the application without max_age (no loop).
    app.authorize(browser, max_age="300")
    driver = HtmlDriver(browser, farm.slug)
    driver.open("login")
    back = driver.submit({"identifier": farm_member.identifier, "password": PASSWORD}, "sign_in")
    assert "/oidc/authorize?" in back.redirect and "max_age" not in back.redirect
    claims = direct.claims_of(app.token(direct.code_in(browser.get(back.redirect))).json()["id_token"])
    assert timezone.now().timestamp() - claims["auth_time"] < 60


@in_process
def test_a_refreshed_id_token_tells_the_original_sign_in(farm: Organisation, farm_member: Account,
                                                         make_client: Any) -> None:
    app = direct.App(farm, make_client(farm))
    tokens = app.signed_in_tokens(farm_member)
    first = direct.claims_of(tokens["id_token"])["auth_time"]
    direct.hours_pass(2)
    direct.sign_in(Client(), farm_member)           # another device signs in meanwhile
    refreshed = direct.claims_of(app.refresh(tokens["refresh_token"]).json()["id_token"])
    assert refreshed["auth_time"] == first - 2 * 3600


@in_process
def test_the_id_token_says_how_the_member_signed_in(farm: Organisation, farm_member: Account, pension: Organisation,
                                                   make_account: Any, make_client: Any, smtp_sink: Any) -> None:
    """amr (RFC 8176), carried from the session that authorised the code, refreshed ID tokens too."""
    from guichet.channels.testing import deliver_all

    farm_app = direct.App(farm, make_client(farm))
    tokens = farm_app.signed_in_tokens(farm_member)                   # the farm: a password alone
    assert direct.claims_of(tokens["id_token"])["amr"] == ["pwd"]
    assert direct.claims_of(farm_app.refresh(tokens["refresh_token"]).json()["id_token"])["amr"] == ["pwd"]

    member = make_account(pension)                                    # the pension fund: then a code by email
    browser = Client()
    driver = HtmlDriver(browser, pension.slug)
    driver.open("login")
    assert driver.submit({"identifier": member.identifier, "password": PASSWORD}, "sign_in").step == "second_factor"
    deliver_all()
    code = re.search(r"\b(\d{6})\b", smtp_sink.last_to(member.email).body)
    assert code is not None
    assert driver.submit({"code": code[1]}, "verify").outcome == "signed_in"
    pension_app = direct.App(pension, make_client(pension))
    claims = direct.claims_of(pension_app.token(pension_app.code(browser)).json()["id_token"])
    assert claims["amr"] == ["pwd", "otp", "mfa"]


@in_process
def test_amr_values_of_each_way_to_sign_in() -> None:
    from guichet.oidc.provider.validator import amr

    assert amr("password+totp") == amr("password+sms") == ["pwd", "otp", "mfa"]
    assert amr("password+passkey") == ["pwd", "swk", "mfa"]   # no attestation: not known to be hardware
    assert amr("federation:franceconnect") is None             # the provider's own methods are unknown here


@in_process
def test_discovery_advertises_what_is_honoured(farm: Organisation) -> None:
    document = Client().get(f"/o/{farm.slug}/.well-known/openid-configuration").json()
    assert "amr" in document["claims_supported"] and "auth_time" in document["claims_supported"]
    assert "acr_values_supported" not in document                # acr_values are not honoured
    assert document["prompt_values_supported"] == ["none", "login"]   # prompt=consent is not


@in_process
def test_every_authorization_response_names_its_issuer_and_tokens_never_travel_in_the_address(
        farm: Organisation, health: Organisation, farm_member: Account, make_client: Any) -> None:
    """RFC 9207 (mix-up attacks: each organisation is its own issuer) and RFC 9700 §4.3.2."""
    from guichet.oidc.provider.validator import issuer

    assert Client().get(f"/o/{farm.slug}/.well-known/openid-configuration").json()[
        "authorization_response_iss_parameter_supported"] is True
    app = direct.App(farm, make_client(farm))
    browser = Client()
    direct.sign_in(browser, farm_member)
    answer = app.authorize(browser)
    query = parse_qs(urlsplit(answer["Location"]).query)
    assert query["iss"] == [issuer(farm)] and query["state"] == [app.state] and "code" in query
    refused = app.authorize(browser, scope="openid address")
    assert parse_qs(urlsplit(refused["Location"]).query)["iss"] == [issuer(farm)]   # errors too
    assert issuer(farm) != issuer(health)

    tokens = app.token(direct.code_in(answer)).json()
    assert app.userinfo(tokens["access_token"]).status_code == 200
    in_address = Client().get(app.path("userinfo") + "?" + urlencode({"access_token": tokens["access_token"]}))
    assert in_address.status_code == 401


@in_process
def test_a_retired_records_email_no_longer_stands_in_for_the_accounts(farm: Organisation, farm_member: Account,
                                                                      make_client: Any) -> None:
    from django.utils import timezone

    from guichet.registry.models import MemberRecord

    Account.objects.filter(pk=farm_member.pk).update(email="")
    MemberRecord.objects.filter(account=farm_member).update(email="registre@example.org")
    app = direct.App(farm, make_client(farm))
    tokens = app.signed_in_tokens(Account.objects.get(pk=farm_member.pk))
    assert app.userinfo(tokens["access_token"]).json()["email"] == "registre@example.org"
    MemberRecord.objects.filter(account=farm_member).update(retired_at=timezone.now())   # a complete import
    assert "email" not in app.userinfo(tokens["access_token"]).json()


@in_process
def test_an_id_token_hint_of_another_member_is_answered_login_required(
        farm: Organisation, farm_member: Account, make_member: Any, make_client: Any) -> None:
    """OpenID Connect Core 3.1.2.1: the hinted member must be the one signed in."""
    app = direct.App(farm, make_client(farm))
    other = make_member(farm)
    others_hint = app.signed_in_tokens(other)["id_token"]
    browser = Client()
    direct.sign_in(browser, farm_member)
    own_hint = app.token(app.code(browser)).json()["id_token"]
    assert direct.error_in(app.authorize(browser, id_token_hint=others_hint, prompt="none")) == "login_required"
    assert direct.error_in(app.authorize(browser, id_token_hint=others_hint)) == "login_required"
    header, payload, _signature = own_hint.split(".")
    assert direct.error_in(app.authorize(browser, id_token_hint=f"{header}.{payload}.bm90IHNpZ25lZA")) == \
        "login_required"
    assert direct.claims_of(app.token(app.code(browser, id_token_hint=own_hint, prompt="none")).json()[
        "id_token"])["sub"] == str(farm_member.pk)
    # Nobody signed in yet: the sign-in page, then the hint is checked against whoever signed in.
    stranger = Client()
    assert app.authorize(stranger, id_token_hint=others_hint)["Location"] == journey_path(farm.slug, "login")
    direct.sign_in(stranger, farm_member)
    assert direct.error_in(app.authorize(stranger, id_token_hint=others_hint)) == "login_required"


@in_process
def test_a_replayed_code_revokes_the_tokens_it_gave(farm: Organisation, farm_member: Account,
                                                    make_client: Any) -> None:
    """RFC 6749 4.1.2: a code used twice was stolen; what it gave is revoked, refreshed tokens too."""
    app, browser = direct.App(farm, make_client(farm)), Client()
    direct.sign_in(browser, farm_member)
    code = app.code(browser)
    first = app.token(code).json()
    refreshed = app.refresh(first["refresh_token"]).json()
    replay = app.token(code)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert app.userinfo(refreshed["access_token"]).status_code == 401
    assert app.refresh(refreshed["refresh_token"]).json()["error"] == "invalid_grant"
    assert Event.objects.filter(kind="oidc.code_replayed", account_id=farm_member.pk).exists()
    # The member's other applications' tokens are untouched.
    other = direct.App(farm, make_client(farm))
    tokens = other.token(other.code(browser)).json()
    assert app.token(code).status_code == 400
    assert other.userinfo(tokens["access_token"]).status_code == 200



@pytest.mark.django_db(transaction=True)   # each thread its own connection and real transactions
def test_two_redemptions_of_one_code_at_once_give_tokens_once(farm: Organisation, farm_member: Account,
                                                               make_client: Any, monkeypatch: Any) -> None:
    """Two token requests with the same code at the same moment (a thief racing the application): one gets
    tokens, the other invalid_grant and, as for any replay, what the first got is revoked. The requests are
    held together just after django-oauth-toolkit found the code valid (its validate_code, wrapped): without
    a lock both went on to issue tokens. With it the second waits for the first, so the first waits here
    in vain (2 seconds)."""
    import threading

    from django.db import connection
    from oauth2_provider.models import get_refresh_token_model
    from oauth2_provider.oauth2_validators import OAuth2Validator

    app, browser = direct.App(farm, make_client(farm)), Client()
    direct.sign_in(browser, farm_member)
    code = app.code(browser)
    found_valid = OAuth2Validator.validate_code
    together, start = threading.Barrier(2, timeout=2), threading.Barrier(2, timeout=10)

    def validate_code(self: Any, *args: Any, **kwargs: Any) -> bool:
        valid: bool = found_valid(self, *args, **kwargs)
        if valid:
            try:
                together.wait()
            except threading.BrokenBarrierError:
                pass   # the other redemption is not (or not yet) this far
        return valid

    monkeypatch.setattr(OAuth2Validator, "validate_code", validate_code)
    answers: list[Any] = []

    def redeem() -> None:
        try:
            start.wait()
            answers.append(app.token(code))
        except BaseException as error:  # reported below: an exception in a thread would be lost
            answers.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(str(getattr(answer, "status_code", answer)) for answer in answers) == ["200", "400"], answers
    won, lost = sorted(answers, key=lambda answer: answer.status_code)
    assert json.loads(lost.content)["error"] == "invalid_grant"
    # One family of tokens was ever issued, and the reuse revoked it.
    assert get_refresh_token_model().objects.count() == 1
    assert app.userinfo(won.json()["access_token"]).status_code == 401
    assert app.refresh(won.json()["refresh_token"]).json()["error"] == "invalid_grant"
    assert Event.objects.filter(kind="oidc.code_replayed", account_id=farm_member.pk).count() == 1



@in_process
def test_a_client_gets_only_the_scopes_it_was_registered_for(farm: Organisation, farm_member: Account) -> None:
    """Asking for a scope the client may not have is refused (invalid_scope, back to the application), not
    narrowed: the registration is corrected, rather than an application finding claims missing later."""
    from guichet.oidc.provider.clients import add_client

    client = add_client(farm, name="Prise de rendez-vous", redirect_uris=[CALLBACK])   # the default scopes
    browser = Client()
    direct.sign_in(browser, farm_member)
    greedy = direct.App(farm, client, scope="openid profile member email")
    answer = greedy.authorize(browser)
    assert direct.error_in(answer) == "invalid_scope"
    assert "profile email" in parse_qs(urlsplit(answer["Location"]).query)["error_description"][0]
    assert not Event.objects.filter(kind="oidc.authorized").exists()
    # What it was registered for works; so does asking for less.
    tokens = direct.App(farm, client, scope="openid member").signed_in_tokens(farm_member)
    record = farm_member.member
    assert record is not None
    assert direct.App(farm, client).userinfo(tokens["access_token"]).json() == {
        "sub": str(farm_member.pk), "member_number": record.member_number}
    assert direct.App(farm, client, scope="openid").signed_in_tokens(farm_member)["scope"] == "openid"



@in_process
def test_consent_goes_to_the_request_the_page_showed(farm: Organisation, farm_member: Account) -> None:
    """Another authorization request opened in the same browser (a pop-up, a tab a page opens) while the
    member reads application X's consent page: "Allow" on X's page grants X, not the latest request."""
    from guichet.oidc.provider.clients import add_client

    x = direct.App(farm, add_client(farm, name="Simulateur retraite", redirect_uris=[CALLBACK],
                                    skip_authorization=False), scope="openid")
    y_callback = "http://127.0.0.1:9/other/callback"
    y = direct.App(farm, add_client(farm, name="Autre application", redirect_uris=[y_callback],
                                    skip_authorization=False, scopes=["openid", "profile", "member"]),
                   scope="openid profile member")
    browser = Client()
    direct.sign_in(browser, farm_member)
    page_x = x.authorize(browser)
    assert page_x.status_code == 200
    text = page_x.content.decode()
    assert "Simulateur retraite" in text
    x_request = re.search(r'name="request" value="([^"]*)"', text)
    assert x_request is not None
    page_y = browser.get(y.path("authorize") + "?" + y.authorization_query(redirect_uri=y_callback))   # unseen
    assert page_y.status_code == 200 and "Autre application" in page_y.content.decode()
    # The member clicks "Allow" on X's page (the form posts back to X's address, with X's request id):
    allowed = browser.post(x.path("authorize") + "?" + x.authorization_query(),
                           {"action": "allow", "request": x_request[1]})
    code = direct.code_in(allowed)
    tokens = x.token(code).json()
    assert tokens["scope"] == "openid" and direct.claims_of(tokens["id_token"])["aud"] == x.client.client_id
    # The same answer again, or a form without its request id, grants nothing.
    assert browser.post(x.path("authorize"), {"action": "allow", "request": x_request[1]}).status_code == 400
    assert browser.post(x.path("authorize"), {"action": "allow"}).status_code == 400
    # Y's page still answers for Y.
    y_request = re.search(r'name="request" value="([^"]*)"', page_y.content.decode())
    assert y_request is not None
    denied = browser.post(y.path("authorize"), {"action": "deny", "request": y_request[1]})
    assert denied.status_code == 302 and denied["Location"].startswith(y_callback + "?error=access_denied")
    # The page says who asks, and where the member will be sent back to.
    assert "Vous retournerez ensuite sur 127.0.0.1:9." in text


# Checked by the security review and found sound (kept as regression tests).

@in_process
def test_codes_and_tokens_never_cross_organisations(farm: Organisation, health: Organisation,
                                                     make_member: Any, make_client: Any) -> None:
    farm_app = direct.App(farm, make_client(farm))
    browser = Client()
    direct.sign_in(browser, make_member(farm))
    code = farm_app.code(browser)
    # The farm's code, client and tokens mean nothing at the health mutual's endpoints.
    assert farm_app.token(code, slug=health.slug).status_code == 401
    tokens = farm_app.token(code).json()
    assert farm_app.refresh(tokens["refresh_token"], slug=health.slug).status_code == 401
    assert farm_app.userinfo(tokens["access_token"], slug=health.slug).status_code in (401, 403)
    # A farm session is not a health session (authorize sends to the health sign-in), even with prompt=none.
    health_app = direct.App(health, make_client(health))
    assert health_app.authorize(browser)["Location"] == journey_path(health.slug, "login")
    assert direct.error_in(health_app.authorize(browser, prompt="none")) == "login_required"
    # A farm client_id at the health authorization endpoint: error page, no redirect.
    assert farm_app.authorize(browser, slug=health.slug).status_code == 400
    # A farm ID token as id_token_hint: refused at the health mutual's logout and authorization endpoints.
    assert Client().get(f"/o/{health.slug}/oidc/logout?" + urlencode({
        "id_token_hint": tokens["id_token"]})).status_code == 400
    direct.sign_in(browser, make_member(health))
    assert direct.error_in(health_app.authorize(browser, id_token_hint=tokens["id_token"])) == "login_required"


@in_process
def test_a_code_is_bound_to_its_client_redirect_uri_and_verifier(farm: Organisation, farm_member: Account,
                                                                  make_client: Any) -> None:
    app, other = direct.App(farm, make_client(farm)), direct.App(farm, make_client(farm))
    browser = Client()
    direct.sign_in(browser, farm_member)
    code = app.code(browser)
    assert other.token(code).status_code == 400                           # another client of the same org
    assert app.token(code, redirect_uri=CALLBACK + "x").status_code == 400
    assert app.token(code, code_verifier=secrets.token_urlsafe(48)).status_code == 400
    no_secret = Client().post(app.path("token"), {"grant_type": "authorization_code", "code": code,
                                                   "redirect_uri": CALLBACK, "code_verifier": app.verifier,
                                                   "client_id": app.client.client_id})
    assert no_secret.status_code == 401                                 # a confidential client authenticates
    assert app.token(app.code(browser), code_verifier="").status_code == 400   # the verifier is required
    assert app.token(app.code(browser)).status_code == 200


@in_process
def test_errors_are_redirected_only_to_registered_addresses(farm: Organisation, farm_member: Account,
                                                           make_client: Any) -> None:
    app, browser = direct.App(farm, make_client(farm)), Client()
    direct.sign_in(browser, farm_member)
    assert direct.error_in(app.authorize(browser, code_challenge_method="plain", code_challenge="x" * 43)) == \
        "invalid_request"
    for uri in ("https://evil.example/cb", CALLBACK + "/", CALLBACK.upper(), CALLBACK + "?a=1",
                CALLBACK.replace("127.0.0.1", "127.0.0.1@evil.example")):
        assert app.authorize(browser, redirect_uri=uri).status_code == 400, uri
        assert app.authorize(browser, redirect_uri=uri, scope="bogus").status_code == 400, uri   # error too
    unknown = browser.get(app.path("authorize") + "?" + urlencode({"client_id": "nope", "response_type": "code",
                                                                   "redirect_uri": "https://evil.example/"}))
    assert unknown.status_code == 400
    tokens = app.signed_in_tokens(farm_member)
    for uri in ("https://evil.example/", AFTER_LOGOUT + "/x", CALLBACK):
        for params in ({"id_token_hint": tokens["id_token"]}, {"client_id": app.client.client_id}):
            response = Client().get(app.path("logout") + "?" + urlencode(params | {"post_logout_redirect_uri": uri}))
            assert response.status_code == 400, uri
    header, payload, _signature = tokens["id_token"].split(".")     # a hint signed with another key
    forged = f"{header}.{payload}.{base64.urlsafe_b64encode(b'x' * 256).rstrip(b'=').decode()}"
    assert Client().get(app.path("logout") + "?" + urlencode({"id_token_hint": forged})).status_code == 400


@in_process
def test_id_tokens_are_short_lived_and_the_jwks_has_public_parts_only(farm: Organisation, farm_member: Account,
                                                                      make_client: Any) -> None:
    app = direct.App(farm, make_client(farm))
    claims = direct.claims_of(app.signed_in_tokens(farm_member)["id_token"])
    assert claims["aud"] == app.client.client_id and claims["nonce"] == app.nonce
    assert 0 < claims["exp"] - claims["iat"] <= 600
    keys = Client().get(app.path("jwks")).json()["keys"]
    assert keys and all("d" not in key and "p" not in key and "q" not in key for key in keys)


@in_process
def test_userinfo_needs_the_openid_scope(farm: Organisation, farm_member: Account, make_client: Any) -> None:
    app = direct.App(farm, make_client(farm), scope="openid")
    assert set(app.userinfo(app.signed_in_tokens(farm_member)["access_token"]).json()) == {"sub"}
    app = direct.App(farm, make_client(farm), scope="profile email")
    assert app.userinfo(app.signed_in_tokens(farm_member)["access_token"]).status_code in (401, 403)


@in_process
def test_prompt_login_signs_in_again_and_comes_back_once(farm: Organisation, farm_member: Account,
                                                         make_client: Any) -> None:
    app, browser = direct.App(farm, make_client(farm)), Client()
    direct.sign_in(browser, farm_member)
    assert app.authorize(browser, prompt="none")["Location"].startswith(CALLBACK + "?code=")
    assert app.authorize(browser, prompt="login")["Location"] == journey_path(farm.slug, "login")
    driver = HtmlDriver(browser, farm.slug)
    driver.open("login")
    back = driver.submit({"identifier": farm_member.identifier, "password": PASSWORD}, "sign_in")
    assert "/oidc/authorize?" in back.redirect and "prompt" not in back.redirect
    assert browser.get(back.redirect)["Location"].startswith(CALLBACK + "?code=")
    assert direct.error_in(app.authorize(browser, prompt="none login")) == "invalid_request"
