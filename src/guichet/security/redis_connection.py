"""The Redis connection shared by rate limits and single-use marks, when REDIS_URL is set."""

from __future__ import annotations

from functools import cache

import redis
from django.conf import settings


def redis_client() -> redis.Redis | None:
    """A client for settings.REDIS_URL, or None when the database is the shared store."""
    url = settings.REDIS_URL
    return _client_for(url) if url else None


@cache
def _client_for(url: str) -> redis.Redis:
    # One connection pool per process and URL; redis-py's pool is thread-safe.
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
