"""Signing in through an upstream provider (FranceConnect-like), against a real OpenID Connect provider
(the npm package oidc-provider) on 127.0.0.1, Guichet on a live HTTP server, real pages in between."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from guichet.audit.models import Event
from guichet.identities.models import Account
from guichet.oidc.conftest import CALLBACK, UpstreamProvider
from guichet.oidc.models import FederatedIdentity
from guichet.oidc.testing.browsing import Arrival, Browser
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
    authorize = f"{live_base}/o/{federated_farm.slug}/oidc/authorize?" + urlencode({
        "client_id": client.client_id, "response_type": "code", "scope": "openid", "redirect_uri": CALLBACK,
        "state": "app-state", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256"})
    assert browser.go(authorize).page.url.endswith("/connexion/")   # the sign-in page, then FranceConnect
    back = sign_in_upstream(browser, start(browser, live_base, federated_farm), "marie", stop_at=CALLBACK)
    assert parse_qs(urlsplit(back.url).query)["state"] == ["app-state"] and "code=" in back.url


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


def test_a_tampered_state_is_refused(live_base: str, federated_farm: Organisation, make_member: Any) -> None:
    make_member(federated_farm, birth_date=date(1956, 3, 14))
    browser = Browser()
    stopped = sign_in_upstream(browser, start(browser, live_base, federated_farm), "marie",
                               stop_at=callback_prefix(live_base, federated_farm))
    query = parse_qs(urlsplit(stopped.url).query)
    tampered = browser.go(callback_prefix(live_base, federated_farm) + "?" + urlencode(
        {"code": query["code"][0], "state": query["state"][0] + "x"}))
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
