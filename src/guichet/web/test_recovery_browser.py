"""Recovery and first sign-in in a real Chromium: the proof of work solved by our script with JavaScript
on, the text question with JavaScript off, the farm's first sign-in; axe-core on every page."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from guichet.conftest import FARM, PENSION
from guichet.identities import actions
from guichet.security.number_words import from_words
from guichet.web.testing import assert_accessible

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Lavande-Sous-La-Pluie-7"


def on_live_server(live_url: str, link: str) -> str:
    """The emailed link points at BASE_URL; the test's server listens elsewhere."""
    parts = urlsplit(link)
    return f"{live_url}{parts.path}?{parts.query}"


def choose_new_password(page: Page) -> None:
    page.locator("#field-new_password").fill(NEW_PASSWORD)
    page.locator("#field-confirm_password").fill(NEW_PASSWORD)
    page.wait_for_load_state("networkidle")   # the live checklist's last request is over
    assert_accessible(page)
    page.get_by_role("button", name="Définir le mot de passe").click()
    page.wait_for_load_state()


def test_pension_fund_recovery_with_the_proof_of_work_solved_in_the_browser(
        page: Page, live_url: str, organisations: dict, make_account, smtp_sink, settings) -> None:
    account = make_account(organisations[PENSION])
    page.goto(f"{live_url}/o/{PENSION}/mot-de-passe-oublie/")
    assert page.get_by_role("heading", level=1).inner_text() == "Mot de passe oublié ?"
    page.get_by_label("Adresse e-mail de votre compte").fill(account.email)
    page.get_by_text("Vérification automatique terminée").wait_for(timeout=30_000)
    assert not page.locator("#field-captcha").is_visible()   # the question is not needed
    assert_accessible(page)
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Consultez votre messagerie"
    assert_accessible(page)
    page.goto(on_live_server(live_url, smtp_sink.last_to(account.email).link))
    assert page.url == f"{live_url}/o/{PENSION}/mot-de-passe-oublie/"   # the token left the address bar
    choose_new_password(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Confirmation"
    assert page.get_by_text("Votre mot de passe a été réinitialisé").is_visible()
    assert_accessible(page)
    account.refresh_from_db()
    assert account.check_password(NEW_PASSWORD)


def answer_the_question(page: Page) -> None:
    question = page.locator('label[for="field-captcha"]').inner_text()
    words = re.search(r"«\s*(.+?)\s*»", question)
    assert words, question
    page.locator("#field-captcha").fill(str(from_words(words[1])))


def test_pension_fund_recovery_without_javascript_answers_the_question(
        no_js_page: Page, live_url: str, organisations: dict, make_account, smtp_sink) -> None:
    # No axe-core here: it is a script, and this page runs none (the next test checks the same markup).
    page = no_js_page
    account = make_account(organisations[PENSION])
    page.goto(f"{live_url}/o/{PENSION}/mot-de-passe-oublie/")
    page.get_by_label("Adresse e-mail de votre compte").fill(account.email)
    page.locator("#field-captcha").fill("1000")   # wrong first: a new question comes
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_load_state()
    assert page.get_by_text("La réponse à la vérification anti-robot n’est pas correcte").first.is_visible()
    answer_the_question(page)
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Consultez votre messagerie"
    page.goto(on_live_server(live_url, smtp_sink.last_to(account.email).link))
    page.locator("#field-new_password").fill(NEW_PASSWORD)
    page.locator("#field-confirm_password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Définir le mot de passe").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Confirmation"
    account.refresh_from_db()
    assert account.check_password(NEW_PASSWORD)


def test_the_question_comes_back_when_the_proof_of_work_cannot_run(
        page: Page, live_url: str, organisations: dict, make_account, smtp_sink) -> None:
    account = make_account(organisations[PENSION])
    page.route("**/captcha", lambda route: route.fulfill(status=503, body="{}"))
    page.goto(f"{live_url}/o/{PENSION}/mot-de-passe-oublie/")
    page.get_by_label("Adresse e-mail de votre compte").fill(account.email)
    page.locator("#field-captcha").wait_for(state="visible")
    assert_accessible(page)
    page.get_by_role("button", name="Continuer").click()   # unanswered: the error is announced
    page.wait_for_load_state()
    assert page.locator("[data-code='field.required']").first.is_visible()
    assert_accessible(page)
    answer_the_question(page)
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Consultez votre messagerie"
    assert smtp_sink.last_to(account.email).link


def test_farm_first_sign_in_in_the_browser(page: Page, live_url: str, organisations: dict, make_account,
                                           smtp_sink) -> None:
    account = make_account(organisations[FARM], factors=(), contacts_confirmed=False)
    temporary = actions.set_temporary_password(account, now=timezone.now(), actor="test")
    page.goto(f"{live_url}/o/{FARM}/connexion/")
    page.locator("#field-identifier").fill(account.identifier)
    page.locator("#field-password").fill(temporary)
    page.locator("button[value=sign_in]").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Changement de votre mot de passe"
    assert page.get_by_text("Votre mot de passe est temporaire. Vous devez le personnaliser.").is_visible()
    page.locator("#field-new_password").fill("Tracteur-Rouge-1987!")
    page.locator("#field-confirm_password").fill("Tracteur-Rouge-1987!")
    page.wait_for_load_state("networkidle")   # the live checklist's last request is over
    assert_accessible(page)
    page.get_by_role("button", name="Suivant").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Confirmation de vos coordonnées"
    assert page.locator("#field-email").input_value() == account.email
    page.locator("#field-mobile").fill("06 12 34 56 78")
    assert_accessible(page)
    page.get_by_role("button", name="Je confirme mes coordonnées").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Confirmation de votre adresse e-mail"
    page.locator("#field-code").fill(smtp_sink.last_to(account.email).code)
    assert_accessible(page)
    page.get_by_role("button", name="Confirmer").click()
    page.wait_for_load_state()
    assert page.get_by_text("Votre adresse e-mail a été vérifiée.").is_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Accéder à mon espace").click()
    page.wait_for_load_state()
    assert page.url == f"{live_url}/o/{FARM}/espace/"
