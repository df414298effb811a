"""Rate limit counters in the database: an atomic increment, correct on PostgreSQL and SQLite.

Why not bulk_create(update_conflicts=True)? It cannot express count = count + 1. Instead: UPDATE
with F("count") + 1 (the row lock serialises concurrent hits), and when no row exists yet, INSERT;
if another node inserted it first, the unique constraint refuses ours and we UPDATE after all.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F

from guichet.security.models import RateCounter

if TYPE_CHECKING:
    from guichet.security.ratelimit import Window

# One hit in this many that opens a new window also deletes every ended window of every key.
PURGE_ONE_IN = 50
SQLITE_ATTEMPTS = 50


def increment(window: Window, now: datetime) -> int:
    return _retrying_sqlite_locks(lambda: _increment(window, now))


def _retrying_sqlite_locks(write: Callable[[], int]) -> int:
    # PostgreSQL and file SQLite (busy_timeout) wait for the lock. SQLite's shared-cache memory
    # databases (the test suite's) report "table is locked" at once instead: try again shortly.
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return write()
    for attempt in range(SQLITE_ATTEMPTS):
        try:
            return write()
        except OperationalError as error:
            if "locked" not in str(error) or attempt == SQLITE_ATTEMPTS - 1:
                raise
            time.sleep(0.002 * (attempt + 1))
    raise AssertionError("unreachable")


def _increment(window: Window, now: datetime) -> int:
    rows = RateCounter.objects.filter(
        key_hash=window.key_hash, window_seconds=window.seconds, window_start=window.start
    )
    with transaction.atomic():
        if rows.update(count=F("count") + 1):
            return rows.values_list("count", flat=True).get()
        try:
            with transaction.atomic():  # a savepoint: the IntegrityError must not poison the outer block
                RateCounter.objects.create(
                    key_hash=window.key_hash, window_seconds=window.seconds, window_start=window.start,
                    count=1, expires_at=window.end,
                )
        except IntegrityError:
            rows.update(count=F("count") + 1)
            return rows.values_list("count", flat=True).get()
        _forget_ended(window, now)
    return 1


def count(window: Window) -> int:
    found = RateCounter.objects.filter(
        key_hash=window.key_hash, window_seconds=window.seconds, window_start=window.start
    ).values_list("count", flat=True)
    return next(iter(found), 0)


def forget(key_hash: str) -> None:
    RateCounter.objects.filter(key_hash=key_hash).delete()


def purge(now: datetime) -> int:
    deleted, _by_model = RateCounter.objects.filter(expires_at__lte=now).delete()
    return deleted


def _forget_ended(window: Window, now: datetime) -> None:
    # A new window began: the key's ended windows are of no more use; now and then, everyone's.
    RateCounter.objects.filter(key_hash=window.key_hash, expires_at__lte=now).delete()
    if secrets.randbelow(PURGE_ONE_IN) == 0:
        purge(now)
