"""Emails through a real SMTP server (aiosmtpd): headers, body, language, retries, erasure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings

from guichet.channels import outbox
from guichet.channels.models import Message
from guichet.channels.testing import SmtpSink, deliver_all, free_port
from guichet.channels.worker import deliver_due
from guichet.organisations.models import Organisation

pytestmark = pytest.mark.django_db


def send_code(organisation: Organisation, to: str = "marie.dupont@example.fr", language: str = "fr",
              code: str = "493027") -> Message:
    return outbox.send_email(organisation, to=to, template="login_code", language=language,
                             context={"code": code, "minutes": 10})


def test_email_arrives_in_french_with_the_right_headers(pension: Organisation, smtp_sink: SmtpSink) -> None:
    message = send_code(pension)
    email = smtp_sink.last_to("marie.dupont@example.fr")
    assert email.to == "marie.dupont@example.fr"
    assert email["From"] == "Caisse de retraite Exemple <noreply@caisse-retraite.example>"
    assert email.subject == "Votre code de vérification – Caisse de retraite Exemple"
    assert email["Message-ID"] == f"<{message.id}@caisse-retraite.example>"
    assert email["Content-Language"] == "fr"
    assert email["Auto-Submitted"] == "auto-generated"
    assert email.get_content_type() == "text/plain" and email.get_content_charset() == "utf-8"
    assert email.code == "493027"
    assert "Il est valable 10 minutes." in email.body
    assert smtp_sink.envelopes == [("noreply@caisse-retraite.example", ["marie.dupont@example.fr"])]
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.sent_at is not None and message.attempts == 0


def test_email_arrives_in_english(health: Organisation, smtp_sink: SmtpSink) -> None:
    send_code(health, to="john@example.com", language="en", code="777123")
    email = smtp_sink.last_to("john@example.com")
    assert email.subject == "Your verification code – Example Health Mutual"
    assert email["Content-Language"] == "en"
    assert email.code == "777123"
    assert "It is valid for 10 minutes." in email.body and "Hello," in email.body


def test_sender_falls_back_to_the_email_from_setting(pension: Organisation, smtp_sink: SmtpSink,
                                                     settings: Settings) -> None:
    Organisation.objects.filter(pk=pension.pk).update(
        document={**pension.document, "email_from": None}, fingerprint="no-sender")
    pension.refresh_from_db()
    settings.EMAIL_FROM = "Guichet <robot@guichet.example>"
    message = send_code(pension)
    email = smtp_sink.last_to("marie.dupont@example.fr")
    assert email["From"] == "Guichet <robot@guichet.example>"
    assert email["Message-ID"] == f"<{message.id}@guichet.example>"


def test_smtp_down_then_up_delivers_exactly_once(pension: Organisation, smtp_sink: SmtpSink,
                                                 settings: Settings) -> None:
    message = send_code(pension)
    settings.EMAIL_URL = f"smtp://127.0.0.1:{free_port()}"  # nobody listens there
    now = timezone.now()
    assert deliver_due(now=now) == 1
    message.refresh_from_db()
    assert message.status == Message.Status.PENDING and message.attempts == 1
    assert message.next_attempt_at > now + timedelta(seconds=20)
    assert "SMTP 127.0.0.1" in message.last_error and message.lease_until is None
    assert deliver_due(now=now) == 0, "not due again before its retry time"

    settings.EMAIL_URL = smtp_sink.url
    later = message.next_attempt_at + timedelta(seconds=1)
    assert deliver_all(now=later) == 1
    assert deliver_all(now=later + timedelta(hours=2)) == 0
    assert [e.to for e in smtp_sink.wait_for(1, deliver=False)] == ["marie.dupont@example.fr"]
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.last_error == ""


def test_wrong_credentials_are_a_failure_without_the_password(pension: Organisation, smtp_sink: SmtpSink,
                                                              settings: Settings) -> None:
    port = smtp_sink.url.rsplit(":", 1)[1]
    settings.EMAIL_URL = f"smtp://guichet:Wr0ngSecret@127.0.0.1:{port}"
    message = send_code(pension)
    deliver_all()
    message.refresh_from_db()
    assert message.status == Message.Status.PENDING and message.attempts == 1
    assert "535" in message.last_error and "Wr0ngSecret" not in message.last_error
    assert smtp_sink.messages == []


def test_body_is_erased_after_delivery_unless_kept(pension: Organisation, smtp_sink: SmtpSink,
                                                   settings: Settings) -> None:
    settings.KEEP_DELIVERED_MESSAGE_BODIES = False
    message = send_code(pension)
    assert smtp_sink.last_to("marie.dupont@example.fr").code == "493027"
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.body == "" and message.attachment is None
    assert message.subject == "Votre code de vérification – Caisse de retraite Exemple"

    settings.KEEP_DELIVERED_MESSAGE_BODIES = True
    kept = send_code(pension, to="other@example.fr")
    smtp_sink.last_to("other@example.fr")
    kept.refresh_from_db()
    assert "493027" in kept.body


def test_mailbox_url_delivers_nowhere_but_marks_sent(pension: Organisation,
                                                     settings: Settings) -> None:
    settings.EMAIL_URL = "mailbox:"
    message = send_code(pension)
    assert deliver_all() == 1
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and "493027" in message.body
