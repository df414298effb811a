"""Passkeys for real: Chromium's virtual authenticator (DevTools protocol) creates and uses the passkey
through passkey.js, and the server checks the genuine WebAuthn answers.

WebAuthn needs a secure context: http://localhost is one, http://127.0.0.1 may not be, so the test
uses the live server by the name localhost and makes that Guichet's address (rp id and origin)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from guichet.conftest import PASSWORD, PENSION
from guichet.identities.models import Factor, Passkey
from guichet.web.test_login_browser import fill_credentials
from guichet.web.testing import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def add_virtual_authenticator(page: Page) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True}})


def test_pension_member_enrols_a_passkey_then_signs_in_with_it(page: Page, live_url: str, settings, organisations,
                                                               make_account) -> None:
    url = live_url.replace("127.0.0.1", "localhost")
    settings.BASE_URL = url
    account = make_account(organisations[PENSION], factors=())
    add_virtual_authenticator(page)
    page.goto(f"{url}/o/{PENSION}/connexion/")
    fill_credentials(page, account.email, PASSWORD)
    expect(page.locator("form[data-step=enrol_choose]")).to_be_visible()
    page.get_by_label("Une clé d'accès (empreinte digitale, visage ou clé de sécurité sur cet appareil)").check()
    page.locator("button[value=choose]").click()
    expect(page.locator("form[data-step=enrol_confirm]")).to_be_visible()
    expect(page.locator("[data-code='passkey.enrol_intro']")).to_be_visible()
    assert_accessible(page)
    page.locator("button[value=verify]").click()
    expect(page.locator("[data-code='login.signed_in']")).to_be_visible()
    passkey = Passkey.objects.get(account=account)
    assert Factor.objects.filter(account=account, kind="passkey").exists()
    page.locator("form[action$='/deconnexion/'] button").click()
    expect(page.locator("[data-code='login.signed_out']")).to_be_visible()
    page.goto(f"{url}/o/{PENSION}/connexion/")
    fill_credentials(page, account.email, PASSWORD)
    expect(page.locator("form[data-step=second_factor]")).to_be_visible()
    expect(page.locator("[data-code='passkey.sign_in_intro']")).to_be_visible()
    assert_accessible(page)
    page.locator("button[value=verify]").click()
    expect(page.locator("[data-code='login.signed_in']")).to_be_visible()
    passkey.refresh_from_db()
    assert passkey.last_used_at is not None


def test_without_javascript_the_passkey_choice_leads_back_to_other_methods(no_js_page: Page, live_url: str,
                                                                          organisations, make_account,
                                                                          smtp_sink) -> None:
    page = no_js_page
    account = make_account(organisations[PENSION], factors=())
    page.goto(f"{live_url}/o/{PENSION}/connexion/")
    fill_credentials(page, account.email, PASSWORD)
    page.get_by_label("Une clé d'accès (empreinte digitale, visage ou clé de sécurité sur cet appareil)").check()
    page.locator("button[value=choose]").click()
    page.locator("button[value=verify]").click()
    expect(page.locator("#field-credential-error [data-code='passkey.unavailable']")).to_be_visible()
    page.locator("button[value=other_method]").click()
    expect(page.locator("form[data-step=enrol_choose]")).to_be_visible()
    page.get_by_label("Un code envoyé à mon adresse e-mail").check()
    page.locator("button[value=choose]").click()
    page.fill("#field-code", smtp_sink.last_to(account.email).code)
    page.locator("button[value=verify]").click()
    expect(page.locator("[data-code='login.signed_in']")).to_be_visible()
