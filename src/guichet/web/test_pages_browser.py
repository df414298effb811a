"""The non-journey pages in a real Chromium: they load, read in French then English, and pass axe-core."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from guichet.conftest import FARM, HEALTH, PASSWORD, PENSION
from guichet.organisations.models import Organisation
from guichet.web.testing import accessibility_violations, assert_accessible

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def visit(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{url} answered {response and response.status}"


def test_list_of_organisations_is_accessible(
    page: Page, live_url: str, organisations: dict[str, Organisation]
) -> None:
    visit(page, f"{live_url}/")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", level=1).inner_text() == "Les espaces adhérents de ce Guichet"
    for organisation in organisations.values():
        assert page.get_by_role("link", name=organisation.policy.name.fr).is_visible()
    assert_accessible(page)


@pytest.mark.parametrize("slug", [PENSION, FARM, HEALTH])
def test_each_organisation_home_is_accessible(
    page: Page, live_url: str, organisations: dict[str, Organisation], slug: str
) -> None:
    visit(page, f"{live_url}/o/{slug}/")
    policy = organisations[slug].policy
    assert page.get_by_role("heading", level=1).inner_text() == policy.name.fr
    assert page.get_by_role("banner").get_by_text(policy.display_name("fr")).is_visible()
    assert_accessible(page)


def test_security_advice_of_the_health_mutual(
    page: Page, live_url: str, organisations: dict[str, Organisation]
) -> None:
    visit(page, f"{live_url}/o/{HEALTH}/")
    page.get_by_role("link", name="Cybersécurité, restez vigilant !").click()
    assert page.url == f"{live_url}/o/{HEALTH}/conseils-securite/"
    advice = page.get_by_role("main").get_by_role("heading", level=2).all_inner_texts()
    assert len(advice) == 5
    assert advice[0] == "Protégez vos accès avec des mots de passe solides"
    assert page.get_by_role("link", name="cybermalveillance.gouv.fr").is_visible()
    assert_accessible(page)


@pytest.mark.parametrize("slug", [PENSION, FARM, HEALTH])
def test_the_member_space_leads_to_the_password_change(
    page: Page, live_url: str, organisations: dict[str, Organisation], make_account, smtp_sink, slug: str
) -> None:
    account = make_account(organisations[slug])
    visit(page, f"{live_url}/o/{slug}/connexion/")
    page.fill("#field-identifier", account.identifier)
    page.fill("#field-password", PASSWORD)
    page.locator("button[name=action]").first.click()
    page.locator("#field-code").wait_for()   # the account has enrolled emailed codes: always asked
    page.fill("#field-code", smtp_sink.last_to(account.email).code)
    page.locator("button[value=verify]").click()
    page.wait_for_url(f"{live_url}/o/{slug}/espace/")
    assert_accessible(page)
    page.get_by_role("link", name="Modifier mon mot de passe").click()
    page.wait_for_url(f"{live_url}/o/{slug}/mot-de-passe/")
    assert page.get_by_role("heading", level=1).inner_text() == "Modifier mon mot de passe"
    assert page.get_by_label("Votre mot de passe actuel").is_visible()
    assert_accessible(page)


def test_language_switch_without_javascript(
    no_js_page: Page, live_url: str, organisations: dict[str, Organisation]
) -> None:
    """The switch is a plain form: it must work with JavaScript off, and keep the member on the page."""
    page = no_js_page
    home = f"{live_url}/o/{HEALTH}/"
    visit(page, home)
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_text("Connectez-vous à votre espace").is_visible()

    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.url == home
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Example Health Mutual"
    assert page.get_by_text("Sign in to your member space").is_visible()
    assert page.get_by_role("heading", name="Need help?").is_visible()

    page.get_by_role("button", name="Français").click()
    page.wait_for_load_state()
    assert page.url == home
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", name="Besoin d’aide ?").is_visible()


def test_english_pages_are_accessible(
    page: Page, live_url: str, organisations: dict[str, Organisation]
) -> None:
    visit(page, f"{live_url}/o/{HEALTH}/conseils-securite/")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Cybersecurity: stay alert"
    assert_accessible(page)


def test_the_accessibility_check_really_finds_problems(page: Page) -> None:
    """Guards the guard: a page with known faults must not pass, or every check above means nothing."""
    page.set_content('<!doctype html><title>x</title><main><img src="data:,"><button></button></main>')
    violations = {violation["id"] for violation in accessibility_violations(page)}
    assert {"html-has-lang", "image-alt", "button-name"} <= violations
