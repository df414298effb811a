"""Adding a second factor from the member's space in a real Chromium, with axe-core on every screen."""

from __future__ import annotations

import re

import pyotp
import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from guichet.channels.models import Message
from guichet.conftest import FARM, HEALTH, PASSWORD
from guichet.identities.models import Factor, Passkey
from guichet.web.test_login_browser import fill_credentials
from guichet.web.test_passkey_browser import add_virtual_authenticator
from guichet.web.testing import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINK = "Renforcer la sécurité de mon compte"


def open_from_the_space(page: Page, url: str, slug: str, identifier: str) -> None:
    page.goto(f"{url}/o/{slug}/connexion/")
    fill_credentials(page, identifier, PASSWORD)
    expect(page.locator("[data-code='login.signed_in']")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=LINK).click()
    expect(page.locator("h1")).to_have_text(LINK)
    assert page.url == f"{url}/o/{slug}/double-authentification/"


def test_farm_member_adds_an_authenticator_app_from_their_space(page: Page, live_url: str, organisations,
                                                                make_account) -> None:
    account = make_account(organisations[FARM], factors=())
    open_from_the_space(page, live_url, FARM, account.identifier)
    assert_accessible(page)
    page.fill("#field-current_password", "not my password")
    page.locator("button[value=confirm]").click()
    expect(page.locator("#field-current_password-error [data-code='password.current_wrong']")).to_be_visible()
    assert_accessible(page)
    page.fill("#field-current_password", PASSWORD)
    page.locator("button[value=confirm]").click()
    expect(page.locator("form[data-step=enrol_choose]")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Une application d’authentification sur mon téléphone").check()
    page.locator("button[value=choose]").click()
    expect(page.locator("form[data-step=enrol_confirm]")).to_be_visible()
    assert_accessible(page)
    key = re.search(r"Clé à saisir dans votre application : ([A-Z2-7 ]+)", page.locator("main").inner_text())
    assert key, page.locator("main").inner_text()
    seed = key[1].replace(" ", "")
    page.fill("#field-code", pyotp.TOTP(seed).now())
    page.locator("button[value=verify]").click()
    expect(page.locator("[data-code='mfa.enrolled']")).to_be_visible()
    assert_accessible(page)
    assert Factor.objects.filter(account=account, kind="totp").exists()
    page.get_by_role("link", name="Accéder à mon espace").click()
    page.locator("form[action$='/deconnexion/'] button").click()
    expect(page.locator("[data-code='login.signed_out']")).to_be_visible()
    page.goto(f"{live_url}/o/{FARM}/connexion/")
    fill_credentials(page, account.identifier, PASSWORD)
    expect(page.locator("form[data-step=second_factor]")).to_be_visible()   # asked from now on
    page.fill("#field-code", pyotp.TOTP(seed).generate_otp(int(timezone.now().timestamp()) // 30 + 1))
    page.locator("button[value=verify]").click()
    expect(page.locator("[data-code='login.signed_in']")).to_be_visible()


def test_health_member_adds_a_passkey_from_their_space(page: Page, live_url: str, settings, organisations,
                                                       make_account) -> None:
    url = live_url.replace("127.0.0.1", "localhost")   # WebAuthn needs a secure context: see test_passkey_browser
    settings.BASE_URL = url
    account = make_account(organisations[HEALTH], factors=())
    add_virtual_authenticator(page)
    open_from_the_space(page, url, HEALTH, account.identifier)
    page.fill("#field-current_password", PASSWORD)
    page.locator("button[value=confirm]").click()
    page.get_by_label("Une clé d'accès (empreinte digitale, visage ou clé de sécurité sur cet appareil)").check()
    page.locator("button[value=choose]").click()
    expect(page.locator("[data-code='passkey.enrol_intro']")).to_be_visible()
    assert_accessible(page)
    page.locator("button[value=verify]").click()
    expect(page.locator("[data-code='mfa.enrolled']")).to_be_visible()
    assert Passkey.objects.filter(account=account).exists()
    assert Message.objects.filter(account_id=account.pk, template="factor_enrolled", channel="email").exists()
    page.get_by_role("link", name="Accéder à mon espace").click()
    page.locator("form[action$='/deconnexion/'] button").click()
    page.goto(f"{url}/o/{HEALTH}/connexion/")
    fill_credentials(page, account.identifier, PASSWORD)
    expect(page.locator("[data-code='passkey.sign_in_intro']")).to_be_visible()
    page.locator("button[value=verify]").click()
    expect(page.locator("[data-code='login.signed_in']")).to_be_visible()
