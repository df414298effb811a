"""The console in a real Chromium: an agent signs in, searches, opens a member, acts; axe-core finds no
WCAG 2.1 AA problem on the pages, with or without errors shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from guichet.audit.models import Event
from guichet.security import lockout

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def assert_accessible(request: pytest.FixtureRequest) -> Callable[[Page], None]:
    """web.testing's axe-core check, taken from the loaded test plugin: backoffice must not import web
    (import-linter), and the plugin is already loaded for every test by the root conftest.py."""
    plugin = request.config.pluginmanager.get_plugin("guichet.web.testing")
    assert plugin is not None, "the root conftest.py loads guichet.web.testing"
    return plugin.assert_accessible


def sign_in(page: Page, live_url: str, enrolled, assert_accessible) -> None:
    page.goto(f"{live_url}/agents/connexion/")
    assert_accessible(page)
    page.get_by_label("Adresse e-mail professionnelle").fill(enrolled.agent.email)
    page.get_by_label("Mot de passe", exact=True).fill("Quatre-Chevaux-Verts-1987!")
    page.get_by_label("Code affiché par votre application d’authentification").fill(enrolled.code())
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_url}/agents/")


def test_search_and_member_pages_are_accessible(page: Page, live_url: str, make_agent, make_account, pension,
                                                assert_accessible) -> None:
    # The console has no script of its own; axe-core needs JavaScript, so the page keeps it on.
    account = make_account(pension, address="12 rue des Lilas\n75011 PARIS", mobile="+33612345678")
    now = Event.objects.latest("at").at
    lockout.record_failure(pension, lockout.identity_key("account", str(account.pk)), pension.policy.login.lockout,
                           now)
    supervisor = make_agent(role="supervisor")
    sign_in(page, live_url, supervisor, assert_accessible)
    assert page.get_by_role("heading", level=1).inner_text() == "Trouver un adhérent"
    assert_accessible(page)

    page.get_by_label("Nom", exact=True).check()
    page.get_by_label("Numéro d’adhérent, nom ou adresse e-mail").fill("dupont")
    page.get_by_role("button", name="Rechercher").click()
    assert page.get_by_role("heading", name="1 résultat").is_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Marie Dupont").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Marie Dupont"
    assert_accessible(page)

    # An action without a reason: the error is shown, and the page stays accessible.
    page.locator("#action-unlock").get_by_role("button").click()
    assert page.locator('[data-code="backoffice.reason_required"]').first.is_visible()
    assert_accessible(page)

    page.locator("#unlock-reason").fill("Appel du membre, identité vérifiée.")
    page.locator("#action-unlock").get_by_role("button").click()
    assert page.locator('[data-code="backoffice.done.unlock"]').is_visible()
    assert Event.objects.filter(kind="backoffice.unlock", actor=supervisor.agent.actor).exists()

    page.get_by_role("link", name="Activité des agents").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Activité des agents"
    assert_accessible(page)
