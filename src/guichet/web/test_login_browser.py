"""Each preset's sign-in in a real Chromium, on a phone-sized screen, with axe-core on every screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from guichet.conftest import FARM, HEALTH, PASSWORD, PENSION
from guichet.web.testing import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_credentials(page: Page, identifier: str, password: str) -> None:
    page.fill("#field-identifier", identifier)
    page.fill("#field-password", password)
    page.locator("button[name=action]").first.click()


def test_pension_fund_sign_in_with_emailed_code_and_remembered_device(page: Page, live_url: str, organisations,
                                                                     make_account, smtp_sink) -> None:
    account = make_account(organisations[PENSION])
    page.goto(f"{live_url}/o/{PENSION}/connexion/")
    expect(page.locator("h1")).to_have_text("Connexion à votre espace")
    assert_accessible(page)
    fill_credentials(page, account.email, "wrong password")
    expect(page.locator("[data-code='login.invalid']")).to_be_visible()
    assert page.title().startswith("Erreur") or page.locator("[role=alert]").count() >= 1
    assert_accessible(page)
    fill_credentials(page, account.email, PASSWORD)
    expect(page.locator("h1")).to_have_text("Vérifiez votre identité")
    expect(page.locator("[data-code='code.sent_email']")).to_contain_text("*****@")
    assert_accessible(page)
    page.fill("#field-code", smtp_sink.last_to(account.email).code)
    page.check("#field-remember")
    page.locator("button[value=verify]").click()
    expect(page.locator("[data-code='login.signed_in']")).to_be_visible()
    assert_accessible(page)
    page.locator("form[action$='/deconnexion/'] button").click()
    expect(page.locator("[data-code='login.signed_out']")).to_be_visible()
    # The remembered browser signs in with the password alone.
    page.goto(f"{live_url}/o/{PENSION}/connexion/")
    fill_credentials(page, account.email, PASSWORD)
    expect(page.locator("[data-code='login.signed_in']")).to_be_visible()


@pytest.mark.parametrize("slug", [FARM, HEALTH])
def test_sign_in_by_member_number(page: Page, live_url: str, organisations, make_account, slug: str) -> None:
    account = make_account(organisations[slug], factors=())
    page.goto(f"{live_url}/o/{slug}/connexion/")
    assert_accessible(page)
    fill_credentials(page, account.identifier, PASSWORD)
    expect(page.locator("[data-code='login.signed_in']")).to_be_visible()
    assert_accessible(page)


def test_sign_in_works_without_javascript(no_js_page: Page, live_url: str, organisations, make_account,
                                          smtp_sink) -> None:
    page = no_js_page
    account = make_account(organisations[PENSION])
    page.goto(f"{live_url}/o/{PENSION}/connexion/")
    fill_credentials(page, account.email, PASSWORD)
    expect(page.locator("h1")).to_have_text("Vérifiez votre identité")
    page.fill("#field-code", "12")
    page.locator("button[value=verify]").click()
    expect(page.locator(".error-summary a[href='#field-code']")).to_be_visible()   # error summary links the field
    page.fill("#field-code", smtp_sink.last_to(account.email).code)
    page.locator("button[value=verify]").click()
    expect(page.locator("[data-code='login.signed_in']")).to_be_visible()
