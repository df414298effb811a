"""The delivery worker: takes due messages from the outbox and hands them to their transport.

Delivery is AT LEAST ONCE. A message is marked sent after its transport accepted it; if the worker
dies in between (or its lease runs out during a very slow delivery), the message is delivered again
once its lease has expired. Receivers can recognise the duplicate: an email's Message-ID and a
letter's file names are the outbox row's id. Never at most once: a lost one-time code is worse than a
repeated one.

Several workers may run at once (several nodes, or `guichet worker` beside the demo's thread). Each
message is claimed just before its delivery by writing a lease (`lease_until`); only the worker whose
claim succeeded delivers it:
- PostgreSQL: the due row is read with SELECT … FOR UPDATE SKIP LOCKED, and leased in that transaction;
- SQLite and others: a conditional UPDATE that only succeeds if the lease is still the one just read.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from guichet.channels import outbox
from guichet.channels.models import Message
from guichet.channels.transports import DeliveryError, deliver

logger = logging.getLogger("guichet.channels")

Clock = Callable[[], datetime]

MAX_ATTEMPTS = 10
# Well above the slowest transport (SMTP timeout: 20 s); 2 minutes unless the operator sets OUTBOX_LEASE_SECONDS.
LEASE = timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)


def deliver_due(limit: int = 50, now: datetime | Clock | None = None) -> int:
    """Deliver up to `limit` due messages; returns how many were tried (delivered or failed).

    The time is read again at each claim and each outcome (`now`: a fixed time or a clock, for tests): a
    round of 50 slow deliveries lasts longer than a lease, and a lease measured from the round's start
    would already have run out when a late message is claimed."""
    clock = _clock(now)
    tried = 0
    for message in claim_due(limit, clock):
        attempt(message, clock())
        tried += 1
    return tried


def claim_due(limit: int, now: datetime | Clock) -> Iterator[Message]:
    """Due messages, each leased to this worker (for LEASE from the clock's time then) just before it is yielded."""
    clock = _clock(now)
    if connection.features.has_select_for_update_skip_locked:
        for _ in range(limit):
            message = _claim_next_locked(clock())
            if message is None:
                return
            yield message
        return
    candidates = list(_due(clock()).order_by("next_attempt_at").values_list("pk", "lease_until")[:limit])
    for pk, lease in candidates:
        current = clock()
        claimed = _due(current).filter(pk=pk, lease_until=lease).update(lease_until=current + LEASE)
        if claimed == 1:  # 0: another worker claimed it since we read it
            yield Message.objects.select_related("organisation").get(pk=pk)


def attempt(message: Message, now: datetime) -> None:
    """Try one claimed message and record the outcome."""
    try:
        deliver(message)
    except DeliveryError as error:
        _failed(message, now, error.reason, permanent=error.permanent)
    except Exception as error:  # a bug must not stop the worker: the message is retried, the bug logged
        logger.exception("bug while delivering message %s", message.pk)
        _failed(message, now, f"internal error: {type(error).__name__}", permanent=False)
    else:
        _sent(message, now)


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … doubling up to 1 h, ±20 % so that retries after an outage spread out."""
    exponent = min(max(attempts - 1, 0), 20)
    base = min(FIRST_RETRY * (2 ** exponent), LONGEST_RETRY)
    return min(base * random.uniform(0.8, 1.2), LONGEST_RETRY)


def run(stop: threading.Event, poll_seconds: float = 1.0) -> None:
    """Deliver until `stop` is set; `guichet worker` and the demo's thread run this."""
    logger.info("delivery worker started")
    try:
        while not stop.is_set():
            close_old_connections()
            try:
                tried = deliver_due()
            except Exception:  # the database may be away for a moment; try again at the next poll
                logger.exception("delivery round failed")
                connection.close()
                tried = 0
            if not tried and not stop.is_set():
                outbox.wait_for_new(poll_seconds)
    finally:
        connection.close()
        logger.info("delivery worker stopped")


def _clock(now: datetime | Clock | None) -> Clock:
    if now is None:
        return timezone.now
    if isinstance(now, datetime):
        return lambda: now
    return now


def _due(now: datetime) -> QuerySet[Message]:
    return Message.objects.filter(status=Message.Status.PENDING, next_attempt_at__lte=now).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lte=now))


def _claim_next_locked(now: datetime) -> Message | None:
    with transaction.atomic():
        message = (_due(now).select_for_update(skip_locked=True, of=("self",))
                   .select_related("organisation").order_by("next_attempt_at").first())
        if message is not None:
            message.lease_until = now + LEASE
            message.save(update_fields=["lease_until"])
    return message


def _sent(message: Message, now: datetime) -> None:
    changes: dict[str, object] = {"status": Message.Status.SENT, "sent_at": now, "lease_until": None,
                                  "last_error": ""}
    _erase_secrets(changes)
    _record(message, changes)


def _failed(message: Message, now: datetime, reason: str, *, permanent: bool) -> None:
    attempts = message.attempts + 1
    gives_up = permanent or attempts >= MAX_ATTEMPTS
    changes: dict[str, object] = {"attempts": attempts, "last_error": reason[:1000], "lease_until": None}
    if gives_up:
        changes["status"] = Message.Status.FAILED
        _erase_secrets(changes)
        logger.error("message %s (%s) not delivered, giving up after %d attempt(s): %s",
                     message.pk, message.channel, attempts, reason)
    else:
        changes["next_attempt_at"] = now + retry_delay(attempts)
        logger.warning("message %s (%s) not delivered (attempt %d), will retry: %s",
                       message.pk, message.channel, attempts, reason)
    _record(message, changes)


def _erase_secrets(changes: dict[str, object]) -> None:
    """A message that is done with (delivered, or given up on) loses its body and its letter's PDF, unless
    the settings keep them (the demo's mailbox): they may hold a one-time code or a temporary password that
    nobody needs any more. The template, recipient, subject, dates and last error stay for agents."""
    if not settings.KEEP_DELIVERED_MESSAGE_BODIES:
        changes.update(body="", attachment=None)


def _record(message: Message, changes: dict[str, object]) -> None:
    # Only while our lease holds: if it ran out and another worker took the message over, its outcome wins.
    updated = Message.objects.filter(pk=message.pk, lease_until=message.lease_until).update(**changes)
    if updated != 1:
        logger.warning("message %s: lease lost during delivery; another worker owns it now", message.pk)
    for field, value in changes.items():
        setattr(message, field, value)
