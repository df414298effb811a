"""Registration in a real Chromium, one preset a test: every screen passes axe-core (WCAG 2.1 AA), and the
pension fund's password checklist follows what the member types (JavaScript on)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from guichet.conftest import FARM, HEALTH, PENSION
from guichet.identities.models import Account
from guichet.web.test_registration_journey import EMPLOYERS, add_member, finess
from guichet.web.testing import assert_accessible

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def follow(page: Page, live_url: str, link: str) -> None:
    """Open an emailed link on the live server (emails carry BASE_URL, the test server has its own port)."""
    parts = urlsplit(link)
    page.goto(f"{live_url}{parts.path}?{parts.query}")


def add_marie_and_colleagues(pension: Any) -> None:
    """Marie-Hélène D'Arcy of the Mairie de Lyon, and members of the other employers the question offers."""
    for n, employer in enumerate(EMPLOYERS[1:], start=100):
        add_member(pension, f"{n:09d}", last=f"Autre{n}", facts={"employer": employer})
    add_member(pension, "000012345", email="marie-helene.darcy@example.org", born=date(1958, 3, 14),
               facts={"employer": "Mairie de Lyon", "affiliation_year": "1984"})


def fill_in_marie(page: Page) -> None:
    """The pension fund's registration form, filled in as Marie-Hélène, and sent."""
    page.get_by_label("Numéro d'identification unique (UID)").fill("000012345")
    page.get_by_label("Prénom").fill("Marie-Hélène")
    page.get_by_label("Nom", exact=True).fill("D'Arcy")
    page.get_by_label("Date de naissance").fill("1958-03-14")
    page.get_by_label("Adresse e-mail", exact=True).fill("marie-helene.darcy@example.org")
    page.get_by_label("Confirmer l'adresse e-mail").fill("marie-helene.darcy@example.org")
    page.get_by_role("button", name="S'inscrire").click()


def test_pension_fund_registration_in_a_browser(page: Page, live_url: str, organisations: dict[str, Any],
                                                smtp_sink: Any) -> None:
    add_marie_and_colleagues(organisations[PENSION])
    page.goto(f"{live_url}/o/{PENSION}/inscription/")
    assert page.get_by_role("heading", level=1).inner_text() == "Créer mon compte en ligne"
    assert_accessible(page)
    fill_in_marie(page)

    assert page.get_by_role("heading", level=1).inner_text() == "Questions de vérification"
    assert page.get_by_text("[1 / 2] Quel est le nom de votre organisme employeur actuel ?").is_visible()
    assert_accessible(page)
    choices = page.get_by_role("group", name="[1 / 2] Quel est le nom de votre organisme employeur actuel ?")
    assert choices.get_by_role("radio").count() == 6   # every employer visible, then "another answer"
    choices.get_by_role("radio", name="Mairie de Lyon").check()
    page.get_by_role("button", name="Soumettre").click()
    page.get_by_label("[2 / 2]").fill("1984")
    page.get_by_role("button", name="Soumettre").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Politique d'utilisation"
    assert_accessible(page)
    page.get_by_label("J'ai lu et j'accepte la politique d'utilisation").check()
    page.get_by_role("button", name="Accepter et créer mon compte").click()
    assert page.get_by_text("Vous avez terminé la première étape de votre inscription le").is_visible()
    assert page.get_by_text("dossier SPAM").is_visible()
    assert_accessible(page)

    follow(page, live_url, smtp_sink.last_to("marie-helene.darcy@example.org").link)
    assert page.get_by_role("heading", level=1).inner_text() == "Choisissez votre mot de passe"
    assert_accessible(page)
    length = page.locator('li[data-check="password.min_length"]')
    page.get_by_label("Nouveau mot de passe", exact=True).press_sequentially("Blue-Har")
    length.and_(page.locator(".failed")).wait_for()   # the checklist follows the typing
    page.get_by_label("Nouveau mot de passe", exact=True).press_sequentially("bour-Lantern-58")
    length.and_(page.locator(".passed")).wait_for()
    assert_accessible(page)
    page.get_by_label("Confirmez le nouveau mot de passe").fill("Blue-Harbour-Lantern-58")
    page.get_by_role("button", name="Enregistrer mon mot de passe").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Votre mot de passe est défini"
    assert page.get_by_role("link", name="Se connecter").is_visible()
    assert_accessible(page)
    assert Account.objects.get(identifier="marie-helene.darcy@example.org").state == "active"



def test_an_answer_not_in_the_list_can_be_typed_without_javascript(no_js_page: Page, live_url: str,
                                                                  organisations: dict[str, Any]) -> None:
    add_marie_and_colleagues(organisations[PENSION])
    page = no_js_page
    page.goto(f"{live_url}/o/{PENSION}/inscription/")
    fill_in_marie(page)
    page.get_by_label("Saisissez la réponse si elle n'est pas dans la liste").fill("mairie de lyon")
    page.get_by_role("button", name="Soumettre").click()
    assert page.get_by_text("[2 / 2]").is_visible()   # typed in another case, still the right answer

def register_health(page: Page, number: str, iban_end: str, email: str) -> None:
    """The health mutual's registration form, filled and sent as a member would."""
    page.get_by_label("Numéro FINESS").fill(number)
    page.get_by_label("Les 5 derniers caractères de votre IBAN").fill(iban_end)
    page.get_by_label("Adresse e-mail", exact=True).fill(email)
    page.get_by_label("Confirmer l'adresse e-mail").fill(email)
    page.get_by_label("Choisissez votre mot de passe").fill("Blue-Harbour-58")
    page.get_by_label("Confirmez le nouveau mot de passe").fill("Blue-Harbour-58")
    page.get_by_role("button", name="S'inscrire").click()


def test_health_mutual_registration_in_a_browser(page: Page, live_url: str, organisations: dict[str, Any],
                                                 smtp_sink: Any) -> None:
    number = finess(7)
    add_member(organisations[HEALTH], number, email="cabinet@example.org", iban_suffix="480197AB12")
    page.goto(f"{live_url}/o/{HEALTH}/inscription/")
    assert_accessible(page)
    register_health(page, number, "7AB12", "cabinet@example.org")
    assert page.get_by_text("un lien d'activation a été envoyé").is_visible()
    assert_accessible(page)

    follow(page, live_url, smtp_sink.last_to("cabinet@example.org").link)
    assert page.get_by_role("heading", level=1).inner_text() == "Activez votre compte"
    assert_accessible(page)
    page.get_by_role("button", name="Activer mon compte").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Votre compte est activé"
    assert_accessible(page)
    assert Account.objects.get(identifier=number).state == "active"


def test_health_mutual_update_of_an_account_without_email_in_a_browser(page: Page, live_url: str,
                                                                       organisations: dict[str, Any], make_account,
                                                                       smtp_sink: Any, sms_sink: Any,
                                                                       postal_spool: Any) -> None:
    account = make_account(organisations[HEALTH], iban_suffix="FR7612345", factors=(), mobile="+33612345678",
                           address="12 rue des Lilas\n33000 Bordeaux")
    Account.objects.filter(pk=account.pk).update(email="")
    page.goto(f"{live_url}/o/{HEALTH}/inscription/")
    register_health(page, account.identifier, "12345", "nouveau@example.org")
    assert page.get_by_text("un lien d'activation a été envoyé").is_visible()   # as for anybody

    follow(page, live_url, smtp_sink.last_to("nouveau@example.org").link)
    assert page.get_by_role("heading", level=1).inner_text() == "Mettre à jour mon compte"
    assert page.get_by_text("nouveau@example.org").is_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Recevoir le code").click()   # to the account's mobile: the owner agrees
    assert_accessible(page)
    page.get_by_label("Code de confirmation").fill(sms_sink.last_to("+33612345678").code)
    page.get_by_label("Votre nouveau mot de passe").fill("Green-Valley-77")
    page.get_by_label("Confirmez le nouveau mot de passe").fill("Green-Valley-77")
    page.get_by_role("button", name="Mettre à jour mon compte").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Votre compte est mis à jour"
    assert_accessible(page)
    account.refresh_from_db()
    assert account.email == "nouveau@example.org" and account.check_password("Green-Valley-77")
    assert "nouveau@example.org" in postal_spool.last().text   # the owner is told by post too


def test_farm_registration_page_in_a_browser(page: Page, live_url: str, organisations: dict[str, Any]) -> None:
    page.goto(f"{live_url}/o/{FARM}/inscription/")
    assert page.get_by_text("envoyés par courrier").is_visible()
    assert page.get_by_role("link", name="Se connecter").is_visible()
    assert page.locator("form[data-step]").count() == 0
    assert_accessible(page)
