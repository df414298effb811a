"""Django's Redis cache (sessions live there when REDIS_URL is set), keeping one redis-py client per
connection pool.

Django's RedisCacheClient builds a new `redis.Redis` for every cache call, and each one copies
redis-py's table of response callbacks: about a millisecond of CPU per sign-in, which makes several
cache calls. A client holds no connection of its own (its pool does) and is safe to share between
threads, so one for writes and one for reads is enough.
"""

from __future__ import annotations

from typing import Any

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class _SharedClients(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[bool, redis.Redis] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> redis.Redis:
        # One client for writes and one for reads; with read replicas (LOCATION listing several servers),
        # a process keeps reading from the replica it first drew, and the processes spread over them.
        client = self._clients.get(write)
        if client is None:
            client = self._clients[write] = super().get_client(key, write=write)
        return client


class SharedClientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _SharedClients
