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
