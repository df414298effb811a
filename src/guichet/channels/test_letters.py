"""Postal letters: a PDF made at enqueue time, dropped atomically into the print shop's folder."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from pypdf import PdfReader
from pytest_django.fixtures import Settings

from guichet.channels import outbox, worker
from guichet.channels.letters import ADDRESS_X_MM, ADDRESS_Y_MM, AddressTooWide, letter_pdf
from guichet.channels.models import Message
from guichet.channels.testing import PostalSpool, deliver_all
from guichet.organisations.models import Organisation

pytestmark = pytest.mark.django_db

ADDRESS = ["Madame Hélène Lefèvre", "Résidence “Les Prés”, bâtiment B", "12 rue de l’Église",
           "35000 RENNES"]


def send_password_letter(organisation: Organisation, language: str = "fr") -> Message:
    return outbox.send_letter(organisation, address=ADDRESS, template="temporary_password", language=language,
                              context={"password": "Pré-7xk-Lm2", "days": 30})


def attachment(message: Message) -> bytes:
    assert message.attachment is not None, "a letter always has its PDF"
    return bytes(message.attachment)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_letter_pdf_holds_the_address_date_subject_text_and_contacts(farm: Organisation) -> None:
    message = send_password_letter(farm)
    assert message.channel == "postal" and message.recipient == "\n".join(ADDRESS)
    text = pdf_text(attachment(message))
    for line in ADDRESS:
        assert line in text
    assert "Caisse agricole Exemple" in text
    assert "Objet : Votre mot de passe provisoire – Caisse agricole Exemple" in text
    assert "Pré-7xk-Lm2" in text
    assert "Madame, Monsieur," in text
    assert "Téléphone : 01 23 45 67 89 (du lundi au vendredi, de 8 h 30 à 17 h)" in text
    assert "E-mail : contact@caisse-agricole.example" in text
    assert f"Référence : {str(message.id)[:8]}" in text


def test_letter_in_english_has_an_english_date(pension: Organisation) -> None:
    content = letter_pdf(organisation=pension, address=ADDRESS, subject="Your code", body="Dear Sir or Madam,",
                         language="en", reference=Message().id, today=date(2026, 3, 2))
    text = pdf_text(content)
    assert "On 2 March 2026" in text and "Subject: Your code" in text
    metadata = PdfReader(io.BytesIO(content)).metadata
    assert metadata is not None and metadata.title == "Your code"
    french = pdf_text(letter_pdf(organisation=pension, address=ADDRESS, subject="Votre code", body="Madame,",
                                 language="fr", reference=Message().id, today=date(2026, 3, 2)))
    assert "Le 2 mars 2026" in french


def test_address_sits_in_the_envelope_window(pension: Organisation) -> None:
    content = letter_pdf(organisation=pension, address=ADDRESS, subject="s", body="b", language="fr",
                         reference=Message().id)
    positions: dict[str, tuple[float, float]] = {}

    def visit(text: str, cm: object, tm: list[float], font: object, size: float) -> None:
        if text.strip():
            positions.setdefault(text.strip(), (tm[4], tm[5]))

    page = PdfReader(io.BytesIO(content)).pages[0]
    page.extract_text(visitor_text=visit)
    points_per_mm = 72 / 25.4
    x, y = positions[ADDRESS[0]]
    page_height = float(page.mediabox.height)
    assert abs(x / points_per_mm - ADDRESS_X_MM) < 2
    top_mm = (page_height - y) / points_per_mm
    assert ADDRESS_Y_MM <= top_mm <= ADDRESS_Y_MM + 8, "first line at the top of the window"


def test_a_long_address_line_is_shrunk_into_the_window(pension: Organisation) -> None:
    """Up to the smallest size: the line stays one line, within the window's width."""
    long_name = "Madame Marie-Hélène-Françoise de La Tour-d'Auvergne-Lauraguais"
    content = letter_pdf(organisation=pension, address=[long_name, *ADDRESS[1:]], subject="s", body="b",
                         language="fr", reference=Message().id)
    assert long_name in pdf_text(content)


def test_a_letter_whose_address_cannot_fit_the_window_is_not_made(pension: Organisation) -> None:
    """Drawn at 7 pt a 157-character name would run past the window and the page: no letter, a clear error,
    and nothing in the outbox (the recovery journey and the provisioning then report it, translated)."""
    name = "Marie-Hélène-Françoise " + "Dupont-" * 21 + "Dup"
    with pytest.raises(outbox.RecipientError, match="trop large pour la fenêtre de l'enveloppe"):
        outbox.send_letter(pension, address=[name, "12 rue des Lilas", "75011 Paris"], template="notice",
                           language="en", context={"title": "t", "text": "x"})
    with pytest.raises(AddressTooWide):
        letter_pdf(organisation=pension, address=["W" * 38], subject="s", body="b", language="fr",
                   reference=Message().id)
    assert not Message.objects.exists()


def test_a_long_body_flows_onto_a_second_page(health: Organisation) -> None:
    text = "\n\n".join(f"Paragraphe {n} : " + "des mots accentués, à lire. " * 12 for n in range(25))
    message = outbox.send_letter(health, address=ADDRESS, template="notice", language="fr",
                                 context={"title": "Information", "text": text})
    reader = PdfReader(io.BytesIO(attachment(message)))
    assert len(reader.pages) >= 2
    assert "Paragraphe 24" in reader.pages[-1].extract_text()


def test_spool_receives_the_pdf_and_its_description(farm: Organisation, postal_spool: PostalSpool) -> None:
    message = send_password_letter(farm)
    letter = postal_spool.last()
    assert letter.pdf.name == f"{message.id}.pdf"
    assert letter.pdf.read_bytes() == attachment(message)
    assert letter.description == {
        "id": str(message.id), "organisation": "caisse-agricole-exemple",
        "organisation_name": "Caisse agricole Exemple", "address": ADDRESS, "template": "temporary_password",
        "language": "fr", "created_at": message.created_at.isoformat(),
    }
    assert "12 rue de l’Église" in letter.text
    assert sorted(p.name for p in postal_spool.path.iterdir()) == sorted([f"{message.id}.pdf",
                                                                           f"{message.id}.json"])
    message.refresh_from_db()
    assert message.status == Message.Status.SENT


def test_unwritable_spool_is_retried(farm: Organisation, settings: Settings, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the spool folder should be")
    settings.POSTAL_URL = blocker.as_uri()
    message = send_password_letter(farm)
    deliver_all()
    message.refresh_from_db()
    assert message.status == Message.Status.PENDING and message.attempts == 1
    assert "postal spool" in message.last_error


def test_a_letter_given_up_on_loses_its_pdf_and_body(farm: Organisation, settings: Settings,
                                                     tmp_path: Path) -> None:
    settings.KEEP_DELIVERED_MESSAGE_BODIES = False
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the spool folder should be")
    settings.POSTAL_URL = blocker.as_uri()
    message = send_password_letter(farm)
    now = timezone.now()
    for day in range(1, worker.MAX_ATTEMPTS + 1):
        worker.deliver_due(now=now + timedelta(days=day))
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED and message.attempts == worker.MAX_ATTEMPTS
    assert message.attachment is None and message.body == ""
    assert message.template == "temporary_password" and "35000 RENNES" in message.recipient
    assert "postal spool" in message.last_error


def test_spooled_description_is_json_with_the_address_lines(pension: Organisation,
                                                            postal_spool: PostalSpool) -> None:
    send_password_letter(pension, language="en")
    (letter,) = postal_spool.letters()
    on_disk = json.loads(letter.pdf.with_suffix(".json").read_text("utf-8"))
    assert on_disk["address"][0] == "Madame Hélène Lefèvre" and on_disk["language"] == "en"
