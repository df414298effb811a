"""Enqueueing: messages are rendered at once, in the member's language, inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils.translation import gettext_lazy

from guichet.channels import outbox
from guichet.channels.models import Message
from guichet.channels.testing import SmtpSink, deliver_all
from guichet.organisations.models import Organisation

pytestmark = pytest.mark.django_db


def test_login_code_email_in_french(pension: Organisation) -> None:
    message = outbox.send_email(pension, to="marie.dupont@example.fr", template="login_code",
                                context={"code": "493027", "minutes": 10}, language="fr")
    assert message.status == Message.Status.PENDING and message.channel == "email"
    assert message.subject == "Votre code de vérification – Caisse de retraite Exemple"
    assert "    493027\n" in message.body
    assert "Il est valable 10 minutes." in message.body
    assert "assistance@caisse-retraite.example" in message.body
    assert "493027" not in message.subject, "the subject is kept after delivery: never a secret in it"


def test_login_code_email_in_english_and_singular(pension: Organisation) -> None:
    message = outbox.send_email(pension, to="john@example.com", template="login_code",
                                context={"code": "111222", "minutes": 1}, language="en-GB")
    assert message.language == "en"
    assert message.subject == "Your verification code – Example Pension Fund"
    assert "It is valid for 1 minute." in message.body


def test_plain_text_is_not_html_escaped(pension: Organisation) -> None:
    message = outbox.send_email(pension, to="a@example.fr", template="notice", language="fr",
                                context={"title": "L'accès <nouveau>", "text": "C'est “prêt” & à jour."})
    assert message.subject == "L'accès <nouveau>"
    assert "C'est “prêt” & à jour." in message.body


def test_lazy_translations_in_the_context_follow_the_message_language(pension: Organisation) -> None:
    message = outbox.send_email(pension, to="a@example.fr", template="link", language="fr", context={
        "url": "https://guichet.example/r/abc", "hours": 24, "purpose": gettext_lazy("Questions? Contact us.")})
    assert "\nDes questions ? Contactez-nous.\n" in message.body
    assert "Ce lien ne fonctionne qu’une fois, pendant 24 heures." in message.body


def test_account_locked_shows_paris_time(farm: Organisation) -> None:
    until = datetime(2026, 3, 2, 14, 30, tzinfo=ZoneInfo("UTC"))
    message = outbox.send_sms(farm, to="06 12 34 56 78", template="account_locked", language="fr",
                              context={"until": until})
    assert message.recipient == "+33612345678"
    assert "02/03/2026 15:30" in message.body
    email = outbox.send_email(farm, to="a@example.fr", template="account_locked", language="en",
                              context={"until": until})
    assert "2 March 2026, 15:30" in email.body


def test_every_bundled_template_renders_in_both_languages(health: Organisation) -> None:
    contexts: dict[str, dict[str, Any]] = {
        "login_code": {"code": "123456", "minutes": 10},
        "link": {"url": "https://x.example/l", "hours": 2, "purpose": "Purpose."},
        "temporary_password": {"password": "Xk7-pq9-Lm2", "days": 30},
        "account_locked": {"until": datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC"))},
        "notice": {"title": "Title", "text": "Text."},
    }
    for template, context in contexts.items():
        for language in ("fr", "en"):
            email = outbox.send_email(health, to="a@example.fr", template=template, context=context,
                                      language=language)
            sms = outbox.send_sms(health, to="+33612345678", template=template, context=context,
                                  language=language)
            assert email.subject and email.body.strip() and sms.body.strip()
            assert "{%" not in email.body + sms.body + email.subject


@pytest.mark.parametrize(("send", "recipient"), [
    (outbox.send_email, "not an address"),
    (outbox.send_email, "a@example.fr\nBcc: victim@example.fr"),
    (outbox.send_sms, "12"),
    (outbox.send_sms, "call me"),
])
def test_bad_recipient_is_refused_and_nothing_is_written(pension: Organisation, send, recipient: str) -> None:
    with pytest.raises(outbox.RecipientError):
        send(pension, to=recipient, template="notice", context={"title": "t", "text": "t"}, language="fr")
    assert not Message.objects.exists()


@pytest.mark.parametrize(("typed", "reason"), [
    ("01 45 67 89 12", "n'est pas un numéro de téléphone portable"),   # a landline
    ("+33 1 45 67 89 12", "n'est pas un numéro de téléphone portable"),
    ("00 00 00 00 00", "n'est pas un numéro de téléphone valide"),     # possible, but no one can have it
    ("+44 7700 900123", "n'est pas un numéro de téléphone valide"),    # the UK's range for fiction
])
def test_text_messages_go_only_to_valid_mobile_numbers(pension: Organisation, typed: str, reason: str) -> None:
    with pytest.raises(outbox.RecipientError, match=reason):
        outbox.send_sms(pension, to=typed, template="login_code", language="fr",
                        context={"code": "123456", "minutes": 10})
    assert not Message.objects.exists()


@pytest.mark.parametrize(("typed", "stored"), [
    ("06 12 34 56 78", "+33612345678"),
    ("0690 12 34 56", "+590690123456"),    # Guadeloupe: French numbering, its own country code
    ("+44 7911 123456", "+447911123456"),
    ("+1 650 253 0000", "+16502530000"),   # the United States do not tell mobiles apart
])
def test_text_messages_go_to_french_overseas_and_foreign_mobiles(pension: Organisation, typed: str,
                                                                  stored: str) -> None:
    message = outbox.send_sms(pension, to=typed, template="login_code", language="fr",
                              context={"code": "123456", "minutes": 10})
    assert message.recipient == stored


def test_bad_postal_address_is_refused(pension: Organisation) -> None:
    for address in ("", [" ", ""], [f"line {n}" for n in range(8)]):
        with pytest.raises(outbox.RecipientError):
            outbox.send_letter(pension, address=address, template="notice", language="fr",
                               context={"title": "t", "text": "t"})
    assert not Message.objects.exists()


def test_unknown_template_is_an_error(pension: Organisation) -> None:
    from django.template import TemplateDoesNotExist

    with pytest.raises(TemplateDoesNotExist):
        outbox.send_email(pension, to="a@example.fr", template="no_such_message", context={}, language="fr")
    with pytest.raises(ValueError, match="template name"):
        outbox.send_email(pension, to="a@example.fr", template="../secrets", context={}, language="fr")


def test_rolled_back_cause_sends_nothing(pension: Organisation, smtp_sink: SmtpSink) -> None:
    class CauseFailed(Exception):
        pass

    with pytest.raises(CauseFailed), transaction.atomic():
        outbox.send_email(pension, to="marie@example.fr", template="login_code",
                          context={"code": "123456", "minutes": 10}, language="fr")
        raise CauseFailed
    assert not Message.objects.exists()
    assert deliver_all() == 0
    assert smtp_sink.messages == []
