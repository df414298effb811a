"""Signing in through an upstream provider (FranceConnect-like), against a real OpenID Connect provider
(the npm package oidc-provider) on 127.0.0.1, Guichet on a live HTTP server, real pages in between."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from django.utils import timezone

from guichet.audit.models import Event
from guichet.identities.models import Account
from guichet.journeys.paths import journey_path, page_path
from guichet.oidc.conftest import AFTER_LOGOUT, CALLBACK, StoppableProvider, UpstreamProvider, federate, sign_in
from guichet.oidc.models import FederatedIdentity
from guichet.oidc.test_provider import RelyingParty
from guichet.oidc.testing.application import claims_of
from guichet.oidc.testing.browsing import Arrival, Browser, forms
from guichet.organisations.models import Organisation
from guichet.registry.matching import name_key
from guichet.registry.models import MemberRecord

pytestmark = pytest.mark.django_db(transaction=True)


def start(browser: Browser, base: str, organisation: Organisation) -> Arrival:
    """Press "S'identifier avec FranceConnect": lands on the provider's sign-in page."""
    arrival = browser.go(f"{base}/o/{organisation.slug}/federation/franceconnect/start")
    assert "/interaction/" in arrival.page.url, arrival.url
    return arrival


def sign_in_upstream(browser: Browser, page: Arrival, login: str, stop_at: str = "") -> Arrival:
    return browser.submit(page.page, {"login": login, "password": "anything"}, stop_at=stop_at)


def callback_prefix(base: str, organisation: Organisation) -> str:
    return f"{base}/o/{organisation.slug}/federation/franceconnect/callback"


def codes(arrival: Arrival) -> set[str]:
    return set(re.findall(r'data-code="([^"]+)"', arrival.page.text))


def test_a_member_found_in_the_registry_is_linked_and_signed_in(
        live_base: str, federated_farm: Organisation, make_member: Any, upstream_provider: UpstreamProvider) -> None:
    member = make_member(federated_farm, birth_date=date(1956, 3, 14))   # Marie Dupont
    browser = Browser()
    landed = sign_in_upstream(browser, start(browser, live_base, federated_farm), "marie")
    assert landed.page.url == f"{live_base}/o/{federated_farm.slug}/espace/"
    assert "login.signed_in" in codes(landed)
    link = FederatedIdentity.objects.get(account=member)
    assert (link.provider, link.issuer) == ("franceconnect", upstream_provider.issuer)
    assert Event.objects.filter(kind="federation.linked", account_id=member.pk).exists()
    assert Event.objects.filter(kind="login.succeeded", account_id=member.pk,
                                data__method="federation:franceconnect").exists()

    # Next time the link is used as it is, from another browser.
    again = Browser()
    assert sign_in_upstream(again, start(again, live_base, federated_farm), "marie").page.url.endswith("/espace/")
    assert FederatedIdentity.objects.filter(account=member).count() == 1


def test_an_application_sign_in_can_go_through_franceconnect(
        live_base: str, federated_farm: Organisation, make_member: Any, make_client: Any) -> None:
    make_member(federated_farm, birth_date=date(1956, 3, 14))
    client, browser = make_client(federated_farm), Browser()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    authorize = f"{live_base}/o/{federated_farm.slug}/oidc/authorize?" + urlencode({
        "client_id": client.client_id, "response_type": "code", "scope": "openid", "redirect_uri": CALLBACK,
        "state": "app-state", "code_challenge": challenge,
        "code_challenge_method": "S256"})
    assert browser.go(authorize).page.url.endswith("/connexion/")   # the sign-in page, then FranceConnect
    back = sign_in_upstream(browser, start(browser, live_base, federated_farm), "marie", stop_at=CALLBACK)
    assert parse_qs(urlsplit(back.url).query)["state"] == ["app-state"] and "code=" in back.url
    tokens = requests.post(f"{live_base}/o/{federated_farm.slug}/oidc/token", timeout=10, data={
        "grant_type": "authorization_code", "code": parse_qs(urlsplit(back.url).query)["code"][0],
        "redirect_uri": CALLBACK, "code_verifier": verifier,
        "client_id": client.client_id, "client_secret": client.client_secret}).json()
    claims = claims_of(tokens["id_token"])
    # Guichet does not know how FranceConnect authenticated the member: no amr (docs/oidc.md).
    assert "amr" not in claims and time.time() - claims["auth_time"] < 60


def test_a_registry_record_without_account_gets_one(live_base: str, federated_farm: Organisation) -> None:
    record = MemberRecord.objects.create(
        organisation=federated_farm, member_number="12345678", first_name="Jean", last_name="LEFEVRE",
        first_name_key=name_key("Jean"), last_name_key=name_key("LEFEVRE"), birth_date=date(1949, 11, 2))
    browser = Browser()
    assert sign_in_upstream(browser, start(browser, live_base, federated_farm), "jean").page.url.endswith("/espace/")
    account = Account.objects.get(member=record)
    assert account.state == Account.State.ACTIVE and not account.has_usable_password()
    assert account.identifier == "12345678"
    assert Event.objects.filter(kind="account.created", account_id=account.pk, actor="federation").exists()


def test_someone_not_in_the_registry_is_told_so(live_base: str, federated_farm: Organisation,
                                                make_member: Any) -> None:
    make_member(federated_farm, birth_date=date(1956, 3, 14))
    browser = Browser()
    page = sign_in_upstream(browser, start(browser, live_base, federated_farm), "stranger")
    assert page.page.status_code == 200 and "federation.none" in codes(page)
    assert "01 23 45 67 89" in page.page.text   # the organisation's support phone
    assert "Nous ne vous avons pas trouvé dans nos fichiers" in page.page.text   # French by default
    assert not FederatedIdentity.objects.exists()
    assert Event.objects.filter(kind="federation.not_recognised", data__reason="none").exists()
    assert browser.go(f"{live_base}/o/{federated_farm.slug}/espace/").page.url.endswith("/connexion/")


def test_franceconnect_is_for_the_categories_the_policy_names(live_base: str, farm: Organisation,
                                                               upstream_provider: UpstreamProvider,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The farm's "Se connecter avec FranceConnect (uniquement pour les particuliers)": a farmer found in the
    registry is sent to the password sign-in, and nothing is linked or opened; an individual gets in."""
    federated = federate(farm, upstream_provider, monkeypatch, categories=["individual"])
    record = MemberRecord.objects.create(
        organisation=federated, member_number="12345678", first_name="Jean", last_name="LEFEVRE", category="farmer",
        first_name_key=name_key("Jean"), last_name_key=name_key("LEFEVRE"), birth_date=date(1949, 11, 2))
    browser = Browser()
    page = sign_in_upstream(browser, start(browser, live_base, federated), "jean")
    assert "federation.category" in codes(page)
    assert "La connexion avec FranceConnect est réservée aux particuliers" in page.page.text
    assert not Account.objects.filter(member=record).exists() and not FederatedIdentity.objects.exists()
    assert Event.objects.filter(kind="federation.not_recognised", data__reason="category").exists()

    MemberRecord.objects.filter(pk=record.pk).update(category="individual")
    again = Browser()
    assert sign_in_upstream(again, start(again, live_base, federated), "jean").page.url.endswith("/espace/")
    # Linked since, then no longer an individual in the registry: the link alone does not let them in.
    MemberRecord.objects.filter(pk=record.pk).update(category="employer")
    third = Browser()
    assert "federation.category" in codes(sign_in_upstream(third, start(third, live_base, federated), "jean"))


def test_a_tampered_state_is_refused(live_base: str, federated_farm: Organisation, make_member: Any) -> None:
    make_member(federated_farm, birth_date=date(1956, 3, 14))
    browser = Browser()
    stopped = sign_in_upstream(browser, start(browser, live_base, federated_farm), "marie",
                               stop_at=callback_prefix(live_base, federated_farm))
    query = parse_qs(urlsplit(stopped.url).query)
    tampered = browser.go(callback_prefix(live_base, federated_farm) + "?" + urlencode(
        {"code": query["code"][0], "state": query["state"][0] + "é"}))   # not even ASCII: refused, no error
    assert tampered.page.status_code == 400 and "federation.refused" in codes(tampered)
    # The real state no longer works either: the attempt was used up.
    assert browser.go(stopped.url).page.status_code == 400
    assert Event.objects.filter(kind="federation.refused", data__reason="state").count() == 2
    assert not FederatedIdentity.objects.exists()


def test_an_id_token_for_another_nonce_is_refused(live_base: str, federated_farm: Organisation,
                                                  make_member: Any) -> None:
    make_member(federated_farm, birth_date=date(1956, 3, 14))
    browser = Browser()
    stopped = sign_in_upstream(browser, start(browser, live_base, federated_farm), "marie",
                               stop_at=callback_prefix(live_base, federated_farm))
    # As if the code had been obtained in another sign-in (code injection): our nonce differs.
    from importlib import import_module

    from django.conf import settings

    store = import_module(settings.SESSION_ENGINE).SessionStore   # database or Redis cache, as configured
    session = store(session_key=browser.http.cookies["guichet_session"])
    key = f"federation:{federated_farm.slug}:franceconnect"
    session[key] = session[key] | {"nonce": "another-nonce"}
    session.save()
    refused = browser.go(stopped.url)
    assert refused.page.status_code == 400 and "federation.refused" in codes(refused)
    assert Event.objects.filter(kind="federation.refused", data__reason="nonce").exists()
    assert not FederatedIdentity.objects.exists()


def test_an_unknown_or_disabled_provider_is_not_found(live_base: str, farm: Organisation) -> None:
    # The farm's preset names FranceConnect but leaves it off until a client id is set.
    assert Browser().go(f"{live_base}/o/{farm.slug}/federation/franceconnect/start").page.status_code == 404
    assert Browser().go(f"{live_base}/o/{farm.slug}/federation/nowhere/start").page.status_code == 404


# --- Signing out: Guichet's session, then the provider's (RP-initiated logout) ---

def sign_out(browser: Browser, base: str, organisation: Organisation, stop_at: str = "") -> Arrival:
    """Press "Se déconnecter" in the member's space."""
    space = browser.go(f"{base}{page_path(organisation.slug, 'espace')}")
    assert space.page.url.endswith("/espace/"), space.url
    form = next(f for f in forms(space.page.text) if f.action.endswith("/deconnexion/"))
    return browser.go(base + form.action, method="post", data=form.inputs, stop_at=stop_at)


def signed_out_page(base: str, organisation: Organisation) -> str:
    return f"{base}{page_path(organisation.slug)}?deconnecte=1"


def signed_out_prefix(base: str, organisation: Organisation) -> str:
    return f"{base}/o/{organisation.slug}/federation/franceconnect/signed-out"


def kinds(account: Account) -> list[str]:
    return list(Event.objects.filter(account_id=account.pk, kind__startswith="federation.sign").order_by(
        "id").values_list("kind", flat=True))


def is_signed_out_of_guichet(browser: Browser, base: str, organisation: Organisation) -> bool:
    return browser.go(f"{base}{page_path(organisation.slug, 'espace')}").page.url.endswith("/connexion/")


def test_signing_out_ends_the_franceconnect_session_too(
        live_base: str, federated_farm: Organisation, make_member: Any, upstream_provider: UpstreamProvider) -> None:
    member = make_member(federated_farm, birth_date=date(1956, 3, 14))
    browser = Browser()
    assert sign_in_upstream(browser, start(browser, live_base, federated_farm), "marie").page.url.endswith("/espace/")
    # The provider's end_session shows a form that posts itself (FranceConnect does not ask): submit it.
    ending = sign_out(browser, live_base, federated_farm)
    assert ending.page.url.startswith(f"{upstream_provider.issuer}/session/end"), ending.url
    end_session = parse_qs(urlsplit(ending.page.url).query)
    assert end_session["post_logout_redirect_uri"] == [signed_out_prefix(live_base, federated_farm)]
    assert end_session["id_token_hint"][0].count(".") == 2 and end_session["state"][0]
    landed = browser.submit(ending.page, {})
    assert landed.page.url == signed_out_page(live_base, federated_farm)
    assert f"{signed_out_prefix(live_base, federated_farm)}?state={end_session['state'][0]}" in browser.visited
    assert is_signed_out_of_guichet(browser, live_base, federated_farm)
    assert kinds(member) == ["federation.signing_out", "federation.signed_out"]
    assert Event.objects.filter(kind="logout", account_id=member.pk).exists()
    # The provider's session ended too: starting again asks for the login (start() checks it).
    again = start(browser, live_base, federated_farm)
    assert sign_in_upstream(browser, again, "marie").page.url.endswith("/espace/")


def test_with_end_session_off_only_guichets_session_ends(
        live_base: str, farm: Organisation, upstream_provider: UpstreamProvider, make_member: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    federate(farm, upstream_provider, monkeypatch, end_session=False)
    member = make_member(farm, birth_date=date(1956, 3, 14))
    browser = Browser()
    assert sign_in_upstream(browser, start(browser, live_base, farm), "marie").page.url.endswith("/espace/")
    assert sign_out(browser, live_base, farm).page.url == signed_out_page(live_base, farm)
    assert not [url for url in browser.visited if url.startswith(upstream_provider.issuer + "/session")]
    assert is_signed_out_of_guichet(browser, live_base, farm)
    assert kinds(member) == []
    # The provider still knows the member: starting again signs in without asking for the login.
    assert browser.go(f"{live_base}/o/{farm.slug}/federation/franceconnect/start").page.url.endswith("/espace/")


def test_the_signed_out_state_is_checked_and_works_once(
        live_base: str, federated_farm: Organisation, make_member: Any) -> None:
    member = make_member(federated_farm, birth_date=date(1956, 3, 14))
    browser = Browser()
    sign_in_upstream(browser, start(browser, live_base, federated_farm), "marie")
    ending = sign_out(browser, live_base, federated_farm)
    stopped = browser.submit(ending.page, {}, stop_at=signed_out_prefix(live_base, federated_farm))
    state = parse_qs(urlsplit(stopped.url).query)["state"][0]
    # A wrong state lands on the signed-out page (the member is signed out of Guichet anyway), audited.
    wrong = browser.go(f"{signed_out_prefix(live_base, federated_farm)}?state={state}x")
    assert wrong.page.url == signed_out_page(live_base, federated_farm)
    # The right one no longer works: the state was used up.
    assert browser.go(stopped.url).page.url == signed_out_page(live_base, federated_farm)
    assert kinds(member) == ["federation.signing_out", "federation.sign_out_refused"]
    refusals = Event.objects.filter(kind="federation.sign_out_refused").order_by("id")
    assert [event.data["reason"] for event in refusals] == ["state", "not_started"]
    assert is_signed_out_of_guichet(browser, live_base, federated_farm)


def test_replaying_the_signed_out_address_changes_nothing(
        live_base: str, federated_farm: Organisation, make_member: Any) -> None:
    member = make_member(federated_farm, birth_date=date(1956, 3, 14))
    browser = Browser()
    sign_in_upstream(browser, start(browser, live_base, federated_farm), "marie")
    browser.submit(sign_out(browser, live_base, federated_farm).page, {})
    back = next(url for url in browser.visited if url.startswith(signed_out_prefix(live_base, federated_farm)))
    # Signed in again (by password, in the same browser), then the old address is replayed.
    login = browser.go(live_base + journey_path(federated_farm.slug, "login"))
    assert sign_in(browser, live_base, login, member).page.url.endswith("/espace/")
    assert browser.go(back).page.url == signed_out_page(live_base, federated_farm)
    assert kinds(member) == ["federation.signing_out", "federation.signed_out"]
    assert Event.objects.filter(kind="federation.sign_out_refused", data__reason="not_started").count() == 1
    assert browser.go(f"{live_base}{page_path(federated_farm.slug, 'espace')}").page.url.endswith("/espace/")


def test_a_member_signed_in_with_a_password_signs_out_without_the_provider(
        live_base: str, federated_farm: Organisation, make_member: Any, upstream_provider: UpstreamProvider) -> None:
    member = make_member(federated_farm, birth_date=date(1956, 3, 14))
    browser = Browser()
    # Earlier in this browser: signed in through FranceConnect, then out through the API by a client that
    # did not follow the redirect (what the provider's sign-out needed stays in the anonymous session).
    sign_in_upstream(browser, start(browser, live_base, federated_farm), "marie")
    token = browser.http.get(f"{live_base}/api/csrf", timeout=30).json()["csrf_token"]
    assert "redirect" in browser.http.post(f"{live_base}/api/o/{federated_farm.slug}/logout",
                                           headers={"X-CSRFToken": token}, timeout=30).json()
    browser.visited.clear()
    login = browser.go(live_base + journey_path(federated_farm.slug, "login"))
    assert sign_in(browser, live_base, login, member).page.url.endswith("/espace/")
    assert sign_out(browser, live_base, federated_farm).page.url == signed_out_page(live_base, federated_farm)
    assert not [url for url in browser.visited if url.startswith(upstream_provider.issuer)]
    assert "/federation/" not in " ".join(browser.visited)
    assert is_signed_out_of_guichet(browser, live_base, federated_farm)
    assert kinds(member) == []
    assert Event.objects.filter(kind="logout", account_id=member.pk).count() == 2


def assert_signed_out_without_the_provider(browser: Browser, live_base: str, farm: Organisation, member: Account,
                                           *, reason: str) -> None:
    """Guichet's session is over even though the provider's could not be ended, and the audit says why."""
    assert is_signed_out_of_guichet(browser, live_base, farm)
    assert kinds(member) == ["federation.sign_out_skipped"]
    assert Event.objects.get(kind="federation.sign_out_skipped").data["reason"] == reason
    assert Event.objects.filter(kind="logout", account_id=member.pk).exists()


def test_signing_out_while_the_provider_is_down_signs_out_of_guichet(
        live_base: str, farm: Organisation, stoppable_provider: StoppableProvider, make_member: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    federate(farm, stoppable_provider.provider, monkeypatch)
    member = make_member(farm, birth_date=date(1956, 3, 14))
    browser = Browser()
    assert sign_in_upstream(browser, start(browser, live_base, farm), "marie").page.url.endswith("/espace/")
    stoppable_provider.stop()
    assert sign_out(browser, live_base, farm).page.url == signed_out_page(live_base, farm)
    assert_signed_out_without_the_provider(browser, live_base, farm, member, reason="unavailable")


def test_signing_out_of_a_provider_without_end_session_endpoint_signs_out_of_guichet(
        live_base: str, farm: Organisation, provider_without_end_session: UpstreamProvider, make_member: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # end_session stays on (the default, as FranceConnect requires): the provider just does not offer it.
    federate(farm, provider_without_end_session, monkeypatch)
    member = make_member(farm, birth_date=date(1956, 3, 14))
    browser = Browser()
    assert sign_in_upstream(browser, start(browser, live_base, farm), "marie").page.url.endswith("/espace/")
    browser.visited.clear()
    landed = sign_out(browser, live_base, farm)
    assert landed.page.status_code == 200 and landed.page.url == signed_out_page(live_base, farm)
    assert "login.signed_out" in codes(landed)
    # Through the federation's sign-out (the provider's discovery document was read there), not on to the provider.
    assert f"{live_base}/o/{farm.slug}/federation/franceconnect/sign-out" in browser.visited
    assert not [url for url in browser.visited if url.startswith(provider_without_end_session.issuer)]
    assert_signed_out_without_the_provider(browser, live_base, farm, member, reason="no_end_session")


def test_signing_out_through_the_api_sends_the_browser_to_the_provider(
        live_base: str, federated_farm: Organisation, make_member: Any, upstream_provider: UpstreamProvider) -> None:
    member = make_member(federated_farm, birth_date=date(1956, 3, 14))
    browser = Browser()
    sign_in_upstream(browser, start(browser, live_base, federated_farm), "marie")
    token = browser.http.get(f"{live_base}/api/csrf", timeout=30).json()["csrf_token"]
    answer = browser.http.post(f"{live_base}/api/o/{federated_farm.slug}/logout", headers={"X-CSRFToken": token},
                               timeout=30).json()
    assert answer == {"signed_in": False, "redirect": f"/o/{federated_farm.slug}/federation/franceconnect/sign-out"}
    assert is_signed_out_of_guichet(browser, live_base, federated_farm)
    ending = browser.go(live_base + answer["redirect"])
    assert ending.page.url.startswith(f"{upstream_provider.issuer}/session/end")
    assert browser.submit(ending.page, {}).page.url == signed_out_page(live_base, federated_farm)
    assert kinds(member) == ["federation.signing_out", "federation.signed_out"]


def test_an_application_sign_out_goes_through_franceconnect_and_back_to_the_application(
        live_base: str, federated_farm: Organisation, make_member: Any, make_client: Any,
        upstream_provider: UpstreamProvider) -> None:
    member = make_member(federated_farm, birth_date=date(1956, 3, 14))
    client, browser = make_client(federated_farm), Browser()
    sign_in_upstream(browser, start(browser, live_base, federated_farm), "marie")
    # Without an id_token_hint Guichet asks first (oidc.provider.logout); the member says yes.
    question = browser.go(f"{live_base}/o/{federated_farm.slug}/oidc/logout?" + urlencode({
        "client_id": client.client_id, "post_logout_redirect_uri": AFTER_LOGOUT, "state": "app-state"}))
    ending = browser.submit(question.page, {"action": "sign_out"})
    assert ending.page.url.startswith(f"{upstream_provider.issuer}/session/end"), ending.url
    back = browser.submit(ending.page, {}, stop_at=AFTER_LOGOUT)
    assert back.url == AFTER_LOGOUT + "?state=app-state"
    assert is_signed_out_of_guichet(browser, live_base, federated_farm)
    assert kinds(member) == ["federation.signing_out", "federation.signed_out"]
    assert Event.objects.filter(kind="logout", account_id=member.pk, data__reason="application").exists()
    start(browser, live_base, federated_farm)   # the provider asks for the login again


def test_an_application_sign_out_while_franceconnect_is_down_goes_back_to_the_application(
        live_base: str, farm: Organisation, stoppable_provider: StoppableProvider, make_member: Any,
        make_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    federate(farm, stoppable_provider.provider, monkeypatch)
    member = make_member(farm, birth_date=date(1956, 3, 14))
    app, browser = RelyingParty(live_base, farm.slug, make_client(farm)), Browser()
    assert browser.go(app.authorization_url(), stop_at=CALLBACK).page.url.endswith("/connexion/")
    callback = sign_in_upstream(browser, start(browser, live_base, farm), "marie", stop_at=CALLBACK)
    tokens = app.tokens(callback.url)
    stoppable_provider.stop()
    # The application's own id_token_hint: Guichet signs the member out without asking.
    browser.visited.clear()
    back = browser.go(app.metadata["end_session_endpoint"] + "?" + urlencode({
        "id_token_hint": tokens["id_token"], "post_logout_redirect_uri": AFTER_LOGOUT, "state": "bye"}),
        stop_at=AFTER_LOGOUT)
    assert back.response is None and back.url == AFTER_LOGOUT + "?state=bye", back.url
    assert browser.visited[1:] == [f"{live_base}/o/{farm.slug}/federation/franceconnect/sign-out"]
    assert is_signed_out_of_guichet(browser, live_base, farm)
    assert kinds(member) == ["federation.sign_out_skipped"]
    assert Event.objects.get(kind="federation.sign_out_skipped").data["reason"] == "unavailable"
    assert Event.objects.filter(kind="logout", account_id=member.pk, data__reason="application").exists()
    assert Event.objects.filter(kind="oidc.logout", account_id=member.pk, data__client=app.client.client_id).exists()
    userinfo = browser.http.get(app.metadata["userinfo_endpoint"], timeout=30,
                                headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert userinfo.status_code in (401, 403)   # the application's tokens were revoked


def test_an_application_sign_out_while_franceconnect_does_not_answer_ends_on_the_signed_out_page(
        live_base: str, farm: Organisation, stoppable_provider: StoppableProvider, make_member: Any,
        make_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from guichet.oidc.federation.upstream import SIGN_OUT_TIMEOUT, TIMEOUT

    federate(farm, stoppable_provider.provider, monkeypatch)
    member = make_member(farm, birth_date=date(1956, 3, 14))
    client, browser = make_client(farm), Browser()
    assert sign_in_upstream(browser, start(browser, live_base, farm), "marie").page.url.endswith("/espace/")
    stoppable_provider.freeze()
    # No id_token_hint, no post_logout_redirect_uri: Guichet asks, then shows its signed-out page.
    question = browser.go(f"{live_base}/o/{farm.slug}/oidc/logout?" + urlencode({"client_id": client.client_id}))
    browser.visited.clear()
    began = time.monotonic()
    landed = browser.submit(question.page, {"action": "sign_out"})
    waited = time.monotonic() - began
    assert landed.page.status_code == 200 and landed.page.url == signed_out_page(live_base, farm)
    assert "login.signed_out" in codes(landed)
    assert f"{live_base}/o/{farm.slug}/federation/franceconnect/sign-out" in browser.visited
    assert not [url for url in browser.visited if url.startswith(stoppable_provider.provider.issuer)]
    # The member waited for the short sign-out timeout, not for the one of signing in.
    assert SIGN_OUT_TIMEOUT <= waited < TIMEOUT, waited
    assert is_signed_out_of_guichet(browser, live_base, farm)
    assert kinds(member) == ["federation.sign_out_skipped"]
    assert Event.objects.get(kind="federation.sign_out_skipped").data["reason"] == "unavailable"
    assert Event.objects.filter(kind="logout", account_id=member.pk, data__reason="application").exists()


def test_a_record_no_longer_in_the_registry_is_no_ones(live_base: str, federated_farm: Organisation) -> None:
    """A complete import retired it: the provider's person is told they were not found, and no account is made."""
    record = MemberRecord.objects.create(
        organisation=federated_farm, member_number="12345678", first_name="Jean", last_name="LEFEVRE",
        first_name_key=name_key("Jean"), last_name_key=name_key("LEFEVRE"), birth_date=date(1949, 11, 2),
        retired_at=timezone.now())
    browser = Browser()
    page = sign_in_upstream(browser, start(browser, live_base, federated_farm), "jean")
    assert "federation.none" in codes(page)
    assert not Account.objects.filter(member=record).exists() and not FederatedIdentity.objects.exists()
    assert Event.objects.filter(kind="federation.not_recognised", data__reason="none").exists()


def test_a_renumbered_member_matches_the_record_still_in_the_registry(farm: Organisation) -> None:
    """The old number, retired by a complete import, is not a second candidate that would make it ambiguous."""
    from guichet.oidc.federation.matching import find_record

    def jean(number: str, **extra: Any) -> MemberRecord:
        return MemberRecord.objects.create(
            organisation=farm, member_number=number, first_name="Jean", last_name="LEFEVRE", first_name_key="jean",
            last_name_key="lefevre", birth_date=date(1949, 11, 2), **extra)

    old, new = jean("12345678", retired_at=timezone.now()), jean("12345679")
    upstream = farm.policy.login.federation["franceconnect"].model_copy(update={"categories": []})
    claims = {"given_name": "Jean", "family_name": "Lefèvre", "birthdate": "1949-11-02"}
    assert find_record(farm, upstream, claims).record == new
    new.delete()
    assert find_record(farm, upstream, claims).reason == "none" and old.pk
