"""Rate limits on the database backend (the Redis backend: test_ratelimit_redis.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import RequestFactory, override_settings

from guichet.security import ratelimit
from guichet.security.models import RateCounter

MINUTE = timedelta(minutes=1)
# 12:00:10 UTC: ten seconds into a one-minute window.
T0 = datetime(2025, 3, 14, 12, 0, 10, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def database_backend() -> Iterator[None]:
    with override_settings(REDIS_URL=""):
        yield


def test_refuses_past_the_limit_and_says_how_long_to_wait() -> None:
    key = "recovery:email:anne@example.org"
    decisions = [ratelimit.hit(key, limit=3, window=MINUTE, now=T0) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.count for d in decisions] == [1, 2, 3, 4]
    assert decisions[2].retry_after is None
    assert decisions[3].retry_after == timedelta(seconds=50)
    assert ratelimit.peek(key, MINUTE, now=T0) == 4


def test_a_new_window_starts_from_zero() -> None:
    for _ in range(3):
        ratelimit.hit("login:ip:203.0.113.7", limit=3, window=MINUTE, now=T0)
    last_second = T0 + timedelta(seconds=49)
    assert not ratelimit.hit("login:ip:203.0.113.7", limit=3, window=MINUTE, now=last_second).allowed
    next_second = last_second + timedelta(seconds=1)
    next_window = ratelimit.hit("login:ip:203.0.113.7", limit=3, window=MINUTE, now=next_second)
    assert next_window.allowed
    assert next_window.count == 1
    # The ended window was deleted when the new one opened.
    assert RateCounter.objects.count() == 1


def test_keys_and_window_lengths_are_counted_apart() -> None:
    ratelimit.hit("a", limit=1, window=MINUTE, now=T0)
    assert ratelimit.hit("b", limit=1, window=MINUTE, now=T0).allowed
    assert ratelimit.hit("a", limit=1, window=timedelta(hours=1), now=T0).allowed
    assert not ratelimit.hit("a", limit=1, window=MINUTE, now=T0).allowed


def test_reset_forgets_every_window_of_the_key() -> None:
    ratelimit.hit("a", limit=1, window=MINUTE, now=T0)
    ratelimit.hit("a", limit=1, window=timedelta(hours=1), now=T0)
    ratelimit.hit("b", limit=1, window=MINUTE, now=T0)
    ratelimit.reset("a")
    assert ratelimit.peek("a", MINUTE, now=T0) == 0
    assert ratelimit.peek("a", timedelta(hours=1), now=T0) == 0
    assert ratelimit.peek("b", MINUTE, now=T0) == 1


def test_no_personal_data_is_stored() -> None:
    ratelimit.hit("recovery:email:anne@example.org", limit=3, window=MINUTE, now=T0)
    stored = RateCounter.objects.get()
    assert "anne" not in stored.key_hash
    assert stored.key_hash == ratelimit.key_hash("recovery:email:anne@example.org")
    with override_settings(SECRET_KEY="another-secret-" + "y" * 40):
        assert ratelimit.key_hash("recovery:email:anne@example.org") != stored.key_hash


def test_purge_deletes_ended_windows_only() -> None:
    ratelimit.hit("a", limit=1, window=MINUTE, now=T0)
    ratelimit.hit("b", limit=1, window=timedelta(hours=1), now=T0)
    assert ratelimit.purge(now=T0 + timedelta(minutes=5)) == 1
    assert ratelimit.peek("b", timedelta(hours=1), now=T0) == 1


def test_windows_shorter_than_a_second_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one second"):
        ratelimit.hit("a", limit=1, window=timedelta(milliseconds=10))


@pytest.mark.django_db(transaction=True)
def test_concurrent_hits_all_count() -> None:
    threads, hits_each = 8, 10
    failures: list[BaseException] = []
    start = threading.Barrier(threads)

    def hammer() -> None:
        try:
            start.wait()
            for _ in range(hits_each):
                ratelimit.hit("busy", limit=1000, window=MINUTE, now=T0)
        except BaseException as error:  # reported below: an exception in a thread would be lost
            failures.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=hammer) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    assert ratelimit.peek("busy", MINUTE, now=T0) == threads * hits_each
    assert RateCounter.objects.count() == 1


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "10.0.0.2"),  # no proxy trusted: the header is ignored
        (1, "", "10.0.0.2"),
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the client wrote 6.6.6.6 itself
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.1", "198.51.100.1"),
        (2, "198.51.100.1", "198.51.100.1"),
        (1, "198.51.100.1:5123", "198.51.100.1"),
        (1, "[2001:db8::7]:443", "2001:db8::7"),
        (1, "not-an-address", "10.0.0.2"),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(proxies: int, forwarded: str, expected: str) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert ratelimit.client_ip(request) == expected
