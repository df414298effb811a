"""The demo mailbox page lists every email, SMS and letter, newest first, with each letter's PDF."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from guichet.channels import outbox
from guichet.channels.models import Message
from guichet.channels.testing import deliver_all
from guichet.organisations.models import Organisation
from guichet.web.testing import assert_accessible

if TYPE_CHECKING:
    from playwright.sync_api import Page


def fill_outbox(pension: Organisation, farm: Organisation) -> dict[str, Message]:
    return {
        "email": outbox.send_email(pension, to="marie@example.fr", template="login_code", language="fr",
                                   context={"code": "493027", "minutes": 10}),
        "sms": outbox.send_sms(farm, to="06 12 34 56 78", template="login_code", language="fr",
                               context={"code": "4821", "minutes": 30}),
        "letter": outbox.send_letter(farm, address=["M. Jean Martin", "3 place de l’Église", "35000 RENNES"],
                                     template="temporary_password", language="fr",
                                     context={"password": "Xk7-pq9-Lm2"}),
    }


@pytest.mark.django_db
def test_mailbox_lists_email_sms_and_letter_newest_first(client: Client, pension: Organisation,
                                                         farm: Organisation) -> None:
    messages = fill_outbox(pension, farm)
    deliver_all()
    page = client.get("/_mailbox/").content.decode()
    letter, sms, email = (page.index(f'id="message-{messages[k].pk}"') for k in ("letter", "sms", "email"))
    assert letter < sms < email, "newest first"
    for text in ("marie@example.fr", "+33612345678", "M. Jean Martin<br>3 place de l’Église",
                 "Caisse de retraite Exemple", "Caisse agricole Exemple", "493027", "4821", "Xk7-pq9-Lm2",
                 "E-mail", "SMS", "Courrier", "Envoyé", "Votre code de vérification",
                 "Télécharger le courrier (PDF)"):
        assert text in page, text
    assert f'href="/_mailbox/{messages["letter"].pk}.pdf"' in page
    assert page.count(".pdf\"") == 1, "only letters have a PDF"


@pytest.mark.django_db
def test_mailbox_in_english_shows_failures(client: Client, pension: Organisation, farm: Organisation,
                                           settings: Settings) -> None:
    settings.SMS_URL = "http://127.0.0.1:9/closed"
    fill_outbox(pension, farm)
    deliver_all()
    page = client.get("/_mailbox/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Demo mailbox" in page and "Waiting to be sent" in page and "1 failed attempt" in page
    assert "Letter" in page and "Text message" in page


@pytest.mark.django_db
def test_letter_pdf_is_downloadable(client: Client, pension: Organisation, farm: Organisation) -> None:
    letter = fill_outbox(pension, farm)["letter"]
    response = client.get(reverse("mailbox_letter", args=[letter.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert letter.attachment is not None
    assert response.content == bytes(letter.attachment) and response.content.startswith(b"%PDF")
    email = Message.objects.get(channel="email")
    assert client.get(f"/_mailbox/{email.pk}.pdf").status_code == 404


@pytest.mark.django_db
def test_erased_letter_is_a_clear_404(client: Client, pension: Organisation, farm: Organisation,
                                      settings: Settings) -> None:
    settings.KEEP_DELIVERED_MESSAGE_BODIES = False
    letter = fill_outbox(pension, farm)["letter"]
    deliver_all()
    assert client.get(f"/_mailbox/{letter.pk}.pdf").status_code == 404
    page = client.get("/_mailbox/").content.decode()
    assert "Le texte a été effacé après l’envoi." in page and ".pdf\"" not in page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_mailbox_is_accessible(page: Page, live_url: str, organisations: dict[str, Organisation]) -> None:
    fill_outbox(organisations["caisse-retraite-exemple"], organisations["caisse-agricole-exemple"])
    page.goto(f"{live_url}/_mailbox/")
    assert page.get_by_role("heading", level=1).inner_text() == "Boîte aux lettres de démonstration"
    assert_accessible(page)
