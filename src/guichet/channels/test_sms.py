"""Text messages through a real HTTP provider endpoint: JSON, bearer token, failures retried."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from guichet.channels import outbox
from guichet.channels.models import Message
from guichet.channels.testing import SmsSink, deliver_all
from guichet.channels.worker import deliver_due
from guichet.organisations.models import Organisation

pytestmark = pytest.mark.django_db


def send_code(organisation: Organisation, to: str = "06 12 34 56 78", language: str = "fr") -> Message:
    return outbox.send_sms(organisation, to=to, template="login_code", language=language,
                           context={"code": "4821", "minutes": 30})


def test_sms_is_posted_as_json_with_the_bearer_token(farm: Organisation, sms_sink: SmsSink) -> None:
    send_code(farm)
    sms = sms_sink.last_to("+33612345678")
    assert sms.authorization == "Bearer test-token"
    assert sms.path == "/v1/sms"
    assert sms.to == "+33612345678"
    assert sms.sender == "Caisse"  # “Caisse agricole” is longer than the 11 characters allowed
    assert sms.text == ("Caisse agricole Exemple : votre code est 4821, valable 30 minutes. "
                        "Ne le donnez à personne.")
    assert sms.code == "4821"


def test_sms_in_english_with_a_short_sender(health: Organisation, sms_sink: SmsSink) -> None:
    send_code(health, to="+44 7911 123456", language="en")
    sms = sms_sink.last_to("+447911123456")
    assert sms.sender == "Example"
    assert sms.text.startswith("Example Health Mutual: your code is 4821, valid for 30 minutes.")


def test_provider_error_is_retried_then_delivered(farm: Organisation, sms_sink: SmsSink) -> None:
    sms_sink.answer_with(500)
    message = send_code(farm)
    now = timezone.now()
    assert deliver_due(now=now) == 1
    message.refresh_from_db()
    assert message.status == Message.Status.PENDING and message.attempts == 1
    assert "HTTP 500" in message.last_error and "test-token" not in message.last_error
    assert message.next_attempt_at > now

    sms_sink.answer_with(200)
    assert deliver_all(now=message.next_attempt_at) == 1
    assert len(sms_sink.wait_for(1, deliver=False)) == 1
    message.refresh_from_db()
    assert message.status == Message.Status.SENT


def test_an_invalid_number_refused_by_the_provider_is_not_retried(farm: Organisation,
                                                                  sms_sink: SmsSink) -> None:
    sms_sink.answer_with(400)
    message = send_code(farm)
    deliver_all(now=timezone.now() + timedelta(days=1))
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED and message.attempts == 1
