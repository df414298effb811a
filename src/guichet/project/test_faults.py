"""Faults an operator will meet, with real processes: the SMTP server away for a while, a delivery worker
killed in the middle of a batch. No message may be lost; duplicates only where at-least-once allows them.

`guichet worker` runs as a subprocess with production settings against a shared SQLite file; a real
aiosmtpd server receives the emails and counts their Message-IDs (the outbox row's id).
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings

from guichet.project.test_serve import free_port, guichet, production_environment

PENSION = "caisse-retraite-exemple"
ENQUEUE = """
from guichet.channels import outbox
from guichet.organisations.models import Organisation
pension = Organisation.objects.get(slug="{slug}")
for n in range({count}):
    outbox.send_email(pension, to=f"member{{n}}@example.fr", template="login_code", language="fr",
                      context={{"code": f"{{n:06d}}", "minutes": 10}})
"""


class CountingSmtp:
    """An SMTP server's handler that counts the Message-IDs it received; it can answer slowly."""

    def __init__(self, answer_after: float = 0.0):
        self.answer_after = answer_after
        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd)
        content = envelope.original_content.decode("utf-8", "replace")
        message_id = next(line.split(":", 1)[1].strip() for line in content.splitlines()
                          if line.lower().startswith("message-id:"))
        with self.lock:  # counted on receipt: a worker killed before our answer still delivered it
            self.received[message_id] += 1
        await asyncio.sleep(self.answer_after)
        return "250 OK"

    def distinct(self) -> int:
        with self.lock:
            return len(self.received)

    def total(self) -> int:
        with self.lock:
            return sum(self.received.values())


@contextmanager
def smtp_server(handler: CountingSmtp, port: int) -> Iterator[CountingSmtp]:
    from aiosmtpd.controller import Controller

    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


def prepared(tmp_path: Path, smtp_port: int, count: int, **variables: str) -> dict[str, str]:
    """A production-like environment whose SQLite file holds the demo organisations and `count` emails."""
    environment = production_environment(tmp_path) | {"EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}"} | variables
    for command in (("migrate", "--verbosity", "0"), ("organisations", "apply"),
                    ("shell", "-c", ENQUEUE.format(slug=PENSION, count=count))):
        subprocess.run(guichet(*command), env=environment, cwd=settings.BASE_DIR, check=True,  # noqa: S603
                       stdin=subprocess.DEVNULL, capture_output=True)
    return environment


@contextmanager
def worker(environment: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`guichet worker` as an operator runs it; stopped (or already killed) afterwards."""
    with log.open("ab") as output:
        process = subprocess.Popen(guichet("worker", "--poll", "0.2"), env=environment,  # noqa: S603
                                   cwd=settings.BASE_DIR, stdout=output, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def outbox_rows(tmp_path: Path) -> list[tuple[str, str, int, str | None]]:
    """(id, status, attempts, lease_until) of every message, read straight from the shared file."""
    with sqlite3.connect(tmp_path / "guichet.sqlite3", timeout=30) as database:
        return database.execute("SELECT id, status, attempts, lease_until FROM channels_message").fetchall()


def wait_until(condition: Callable[[], bool], what: str, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}; worker log:\n{log.read_text()}")
        time.sleep(0.1)


def test_messages_queued_while_smtp_is_down_are_all_delivered_once_it_is_back(tmp_path: Path) -> None:
    count, port, log = 20, free_port(), tmp_path / "worker.log"
    environment = prepared(tmp_path, port, count)
    handler = CountingSmtp()
    with worker(environment, log):
        # Nothing listens on the SMTP port: every message fails once and waits for its retry.
        wait_until(lambda: all(attempts >= 1 for _, _, attempts, _ in outbox_rows(tmp_path)),
                   "a failed try of every message", log)
        assert {status for _, status, _, _ in outbox_rows(tmp_path)} == {"pending"}
        with smtp_server(handler, port):
            # The first retry comes 24–36 s later; bring it forward rather than wait (the delay is tested
            # in channels/test_worker.py). The worker is running meanwhile: SQLite's lock serialises us.
            with sqlite3.connect(tmp_path / "guichet.sqlite3", timeout=30) as database:
                database.execute("UPDATE channels_message SET next_attempt_at = '2000-01-01 00:00:00' "
                                 "WHERE status = 'pending'")
            wait_until(lambda: all(status == "sent" for _, status, _, _ in outbox_rows(tmp_path)),
                       "every message marked sent", log)
            time.sleep(0.5)  # a duplicate, if any, would arrive now
    assert handler.distinct() == count, handler.received
    assert handler.total() == count, f"duplicates: {[m for m, n in handler.received.items() if n > 1]}"
    assert "will retry" in log.read_text()


def test_a_worker_killed_mid_delivery_loses_nothing_a_second_worker_takes_over(tmp_path: Path) -> None:
    count, port, log = 8, free_port(), tmp_path / "worker.log"
    environment = prepared(tmp_path, port, count, OUTBOX_LEASE_SECONDS="30")  # production's least
    handler = CountingSmtp(answer_after=0.5)  # slow enough to be killed while waiting for its answer
    with smtp_server(handler, port):
        with worker(environment, log) as first:
            wait_until(lambda: handler.total() >= 3, "three emails from the first worker", log)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        left = [row for row in outbox_rows(tmp_path) if row[1] == "pending"]
        assert left, "the first worker was killed too late: nothing left to take over"
        assert any(lease for *_, lease in left), "the message in hand when killed keeps its lease"
        started = time.monotonic()
        with worker(environment, log):
            wait_until(lambda: all(status == "sent" for _, status, _, _ in outbox_rows(tmp_path)),
                       "every message marked sent by the second worker", log)
        took = time.monotonic() - started
    assert handler.distinct() == count, handler.received   # none lost
    assert handler.total() <= count + 1                     # at most the one in hand delivered twice
    assert took >= 20, "the message leased by the dead worker was taken before its lease ran out"
