"""The delivery worker: leases, concurrent workers, retries with backoff, giving up, the loop."""

from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import nullcontext
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone, translation
from pytest_django.fixtures import Settings

from guichet.channels import outbox, worker
from guichet.channels.models import Message
from guichet.channels.testing import SmtpSink, deliver_all, free_port
from guichet.organisations.models import Organisation


def send_notice(organisation: Organisation, to: str) -> Message:
    return outbox.send_email(organisation, to=to, template="notice", language="fr",
                             context={"title": "Information", "text": f"Message pour {to}"})


@pytest.mark.django_db
def test_two_interleaved_workers_never_send_the_same_message(pension: Organisation,
                                                             smtp_sink: SmtpSink) -> None:
    sent = [send_notice(pension, f"member{n}@example.fr") for n in range(5)]
    now = timezone.now()
    first = worker.claim_due(50, now)          # worker A reads the due messages and claims one...
    claimed_by_a = next(first)
    assert worker.deliver_due(now=now) == 4    # ...worker B runs meanwhile: it skips A's message
    worker.attempt(claimed_by_a, now)          # A delivers its message,
    assert list(first) == []                   # then finds every other one already taken.
    received = sorted(e.to for e in smtp_sink.wait_for(5, deliver=False))
    assert received == sorted(m.recipient for m in sent)
    assert Message.objects.filter(status=Message.Status.SENT).count() == 5


@pytest.mark.django_db
def test_a_crashed_workers_lease_expires_and_the_message_is_delivered(pension: Organisation,
                                                                       smtp_sink: SmtpSink) -> None:
    send_notice(pension, "marie@example.fr")
    now = timezone.now()
    abandoned = next(worker.claim_due(1, now))  # claimed, then the worker "dies" before delivering
    assert deliver_all(now=now + timedelta(seconds=30)) == 0, "the lease still holds"
    assert deliver_all(now=now + worker.LEASE + timedelta(seconds=1)) == 1
    assert [e.to for e in smtp_sink.wait_for(1, deliver=False)] == ["marie@example.fr"]
    abandoned.refresh_from_db()
    assert abandoned.status == Message.Status.SENT and abandoned.lease_until is None


@pytest.mark.django_db
def test_gives_up_after_the_last_attempt(pension: Organisation, settings: Settings) -> None:
    settings.EMAIL_URL = f"smtp://127.0.0.1:{free_port()}"
    message = send_notice(pension, "marie@example.fr")
    now = timezone.now()
    delays = []
    for attempt in range(1, worker.MAX_ATTEMPTS + 1):
        assert worker.deliver_due(now=now) == 1
        message.refresh_from_db()
        assert message.attempts == attempt
        if attempt < worker.MAX_ATTEMPTS:
            assert message.status == Message.Status.PENDING
            delays.append(message.next_attempt_at - now)
            now = message.next_attempt_at
    assert message.status == Message.Status.FAILED and "ConnectionRefusedError" in message.last_error
    assert worker.deliver_due(now=now + timedelta(days=1)) == 0
    assert timedelta(seconds=24) <= delays[0] <= timedelta(seconds=36)
    assert all(later > earlier for earlier, later in zip(delays[:5], delays[1:6], strict=True))
    assert max(delays) <= worker.LONGEST_RETRY


@pytest.mark.django_db
def test_each_lease_runs_from_its_own_claim_however_long_the_round(pension: Organisation,
                                                                   smtp_sink: SmtpSink) -> None:
    """A round delivers up to 50 messages, each up to 20 s over SMTP: a message claimed late in the round is
    leased from the time of its claim, so another worker cannot take it (and deliver it twice) meanwhile."""
    for n in range(3):
        send_notice(pension, f"member{n}@example.fr")
    round_start = timezone.now()
    clock = [round_start]   # the time as worker A reads it, however often
    worker_a = worker.claim_due(50, lambda: clock[0])
    worker.attempt(next(worker_a), round_start)             # A delivers its first message (slowly)...
    claimed_at = clock[0] = round_start + worker.LEASE + timedelta(seconds=1)
    second = next(worker_a)                                 # ...and claims the second one a lease later
    assert second.lease_until == claimed_at + worker.LEASE
    taken_by_b = [m.pk for m in worker.claim_due(50, claimed_at)]   # worker B's round starts then
    assert second.pk not in taken_by_b and len(taken_by_b) == 1


def test_retry_delay_doubles_with_jitter_up_to_an_hour() -> None:
    for attempts, base in ((1, 30), (2, 60), (3, 120), (5, 480), (8, 3600), (30, 3600)):
        delay = worker.retry_delay(attempts).total_seconds()
        assert base * 0.8 <= delay <= min(base * 1.2, 3600)


@pytest.mark.django_db
def test_a_refused_recipient_is_not_retried(pension: Organisation, smtp_sink: SmtpSink) -> None:
    smtp_sink.refuse("gone@example.fr")
    message = send_notice(pension, "gone@example.fr")
    deliver_all()
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED and message.attempts == 1
    assert "refused the recipient ([550])" in message.last_error
    assert smtp_sink.messages == []


@pytest.mark.django_db
def test_a_message_given_up_on_loses_its_secret_but_keeps_what_agents_need(
        pension: Organisation, smtp_sink: SmtpSink, settings: Settings) -> None:
    settings.KEEP_DELIVERED_MESSAGE_BODIES = False
    smtp_sink.refuse("gone@example.fr")   # 550: permanent, given up at once
    message = outbox.send_email(pension, to="gone@example.fr", template="temporary_password", language="fr",
                                context={"password": "Secret-Temp-Pass-42", "days": 30})
    assert "Secret-Temp-Pass-42" in message.body
    deliver_all()
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED and message.body == "" and message.attachment is None
    assert (message.template, message.recipient) == ("temporary_password", "gone@example.fr")
    assert "refused the recipient" in message.last_error


@pytest.mark.django_db
def test_a_message_still_retried_keeps_its_body(pension: Organisation, settings: Settings) -> None:
    settings.KEEP_DELIVERED_MESSAGE_BODIES = False
    settings.EMAIL_URL = f"smtp://127.0.0.1:{free_port()}"
    message = send_notice(pension, "marie@example.fr")
    worker.deliver_due()
    message.refresh_from_db()
    assert message.status == Message.Status.PENDING and "Message pour marie@example.fr" in message.body


@pytest.mark.django_db
def test_worker_command_once_delivers_what_is_due(pension: Organisation, smtp_sink: SmtpSink,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    send_notice(pension, "a@example.fr")
    send_notice(pension, "b@example.fr")
    call_command("worker", "--once")
    assert capsys.readouterr().out == "Envoi tenté pour 2 messages.\n"   # in French, as every command
    assert sorted(e.to for e in smtp_sink.wait_for(2, deliver=False)) == ["a@example.fr", "b@example.fr"]
    call_command("worker", "--once")
    assert capsys.readouterr().out == "Envoi tenté pour 0 message.\n"
    send_notice(pension, "c@example.fr")
    with translation.override("en"):
        call_command("worker", "--once")
    assert capsys.readouterr().out == "1 message tried.\n"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language, said", [
    (None, ["Envoi des messages en attente ; arrêt avec Ctrl+C ou SIGTERM.",
            "Signal SIGTERM : arrêt après le message en cours."]),
    ("en", ["Delivering the outbox; stop with Ctrl+C or SIGTERM.",
            "Signal SIGTERM: stopping after the message in hand."]),
])
def test_worker_command_stops_on_sigterm_and_says_so(language: str | None, said: list[str],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The real command, stopped by a real SIGTERM once it has put its handler in place."""
    before = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}

    def terminate_once_handled() -> None:
        deadline = time.monotonic() + 30
        while signal.getsignal(signal.SIGTERM) is before[signal.SIGTERM]:
            if time.monotonic() > deadline:
                return   # never sent to pytest itself: the test then fails on its timeout
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGTERM)

    sender = threading.Thread(target=terminate_once_handled, daemon=True)
    sender.start()
    try:
        with translation.override(language) if language else nullcontext():
            call_command("worker", "--poll", "0.05")
    finally:
        sender.join()
        for number, handler in before.items():
            signal.signal(number, handler)
    assert capsys.readouterr().out.splitlines() == said


@pytest.mark.django_db(transaction=True)
def test_run_delivers_in_a_background_thread_until_stopped(pension: Organisation,
                                                           smtp_sink: SmtpSink) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), kwargs={"poll_seconds": 0.1}, daemon=True)
    thread.start()
    try:
        send_notice(pension, "marie@example.fr")
        assert smtp_sink.wait_for(1, deliver=False)[0].to == "marie@example.fr"
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert Message.objects.get().status == Message.Status.SENT
