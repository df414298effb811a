"""The Redis cache backend on a real Redis: run when REDIS_URL is set (CI does)."""

from __future__ import annotations

import os

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"),
                                reason="needs a Redis server: set REDIS_URL=redis://host:6379/0")


def test_values_round_trip_and_one_client_serves_every_call() -> None:
    cache.set("guichet:test", {"a": 1}, 30)
    assert cache.get("guichet:test") == {"a": 1}
    assert cache.delete("guichet:test") and cache.get("guichet:test") is None
    client = cache._cache  # type: ignore[attr-defined]   # the backend's client, to see that it is reused
    assert client.get_client(write=True) is client.get_client(write=True)


def test_set_if_present_writes_only_a_key_that_exists() -> None:
    assert cache.set_if_present("guichet:test:absent", 1, 30) is False   # type: ignore[attr-defined]
    assert cache.get("guichet:test:absent") is None
    cache.set("guichet:test:present", 1, 30)
    assert cache.set_if_present("guichet:test:present", 2, 30) is True   # type: ignore[attr-defined]
    assert cache.get("guichet:test:present") == 2


def commands() -> dict[str, int]:
    """How many times this Redis server ran each command so far (INFO commandstats): counted for the
    sessions' commands only, so that what a test's own connection runs does not count."""
    import redis
    from django.conf import settings

    stats = redis.Redis.from_url(settings.REDIS_URL).info("commandstats")
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}


def ran(before: dict[str, int]) -> dict[str, int]:
    after = commands()
    return {name: calls - before.get(name, 0) for name, calls in after.items()
            if calls != before.get(name, 0) and name in ("get", "set", "exists", "del", "setnx")}


def test_a_session_is_created_and_saved_in_one_command_each() -> None:
    from guichet.project.redis_sessions import SessionStore

    before = commands()
    session = SessionStore()
    session["a"] = 1
    session.create()
    assert ran(before) == {"set": 1}   # SET NX, without looking the new key up first
    before = commands()
    session["a"] = 2
    session.save()
    assert ran(before) == {"set": 1}   # SET XX, without reading it first
    assert SessionStore(session.session_key).load() == {"a": 2}


def test_a_session_ended_elsewhere_is_not_written_back() -> None:
    """Another node ends the session (sign-out, an agent's "end all sessions") while a request that loaded
    it is still running: that request's save must not bring it back."""
    from django.contrib.sessions.backends.base import UpdateError

    from guichet.project.redis_sessions import SessionStore

    session = SessionStore()
    session["member"] = "x"
    session.create()
    key = session.session_key
    assert key is not None
    running = SessionStore(key)
    assert running["member"] == "x"   # read by a request, as the session middleware does
    SessionStore(key).delete()   # elsewhere
    running["seen_at"] = 1
    with pytest.raises(UpdateError):
        running.save()
    assert not SessionStore().exists(key)
