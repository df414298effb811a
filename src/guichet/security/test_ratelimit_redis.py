"""Rate limits and single-use marks on Redis: run when the REDIS_URL environment variable is set (CI does)."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from guichet.security import ratelimit, spent
from guichet.security.redis_connection import redis_client

REDIS_URL = os.environ.get("REDIS_URL", "")
MINUTE = timedelta(minutes=1)
T0 = datetime.now(UTC).replace(second=10, microsecond=0)

pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs a Redis server: set REDIS_URL=redis://host:6379/0")


@pytest.fixture(autouse=True)
def redis_backend() -> Iterator[None]:
    with override_settings(REDIS_URL=REDIS_URL):
        yield


@pytest.fixture
def key() -> str:
    """A key of this test's own, so that tests never see each other's counts (nor anyone's data)."""
    return f"test:{uuid.uuid4()}:anne@example.org"


def test_refuses_past_the_limit_then_opens_a_new_window(key: str) -> None:
    decisions = [ratelimit.hit(key, limit=2, window=MINUTE, now=T0) for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, False]
    assert decisions[2].retry_after == timedelta(seconds=50)
    assert ratelimit.peek(key, MINUTE, now=T0) == 3
    later = ratelimit.hit(key, limit=2, window=MINUTE, now=T0 + MINUTE)
    assert (later.allowed, later.count) == (True, 1)


def test_keys_hold_no_personal_data_and_expire(key: str) -> None:
    ratelimit.hit(key, limit=2, window=MINUTE, now=T0)
    client = redis_client()
    assert client is not None
    stored = "guichet:ratelimit:" + ratelimit.key_hash(key)
    assert "anne" not in stored
    assert 0 < client.pttl(stored) <= (50 + 5) * 1000


def test_window_lengths_are_apart_and_reset_forgets_all(key: str) -> None:
    ratelimit.hit(key, limit=1, window=MINUTE, now=T0)
    assert ratelimit.hit(key, limit=1, window=timedelta(hours=1), now=T0).allowed
    ratelimit.reset(key)
    assert ratelimit.peek(key, MINUTE, now=T0) == 0
    assert ratelimit.peek(key, timedelta(hours=1), now=T0) == 0


def test_concurrent_hits_all_count(key: str) -> None:
    threads, hits_each = 8, 25
    start = threading.Barrier(threads)

    def hammer() -> None:
        start.wait()
        for _ in range(hits_each):
            ratelimit.hit(key, limit=1000, window=MINUTE, now=T0)

    workers = [threading.Thread(target=hammer) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert ratelimit.peek(key, MINUTE, now=T0) == threads * hits_each


def test_a_token_is_spent_once(key: str) -> None:
    until = datetime.now(UTC) + MINUTE
    assert spent.spend("test", key, until=until)
    assert not spent.spend("test", key, until=until)
    assert spent.spend("other-purpose", key, until=until)
