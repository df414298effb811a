"""Django's Redis cache (sessions live there when REDIS_URL is set), keeping one redis-py client per
connection pool, with one command Django's cache lacks: `set_if_present` (SET XX), for sessions.

Django's RedisCacheClient builds a new `redis.Redis` for every cache call, and each one copies
redis-py's table of response callbacks: about a millisecond of CPU per sign-in, which makes several
cache calls. A client holds no connection of its own (its pool does) and is safe to share between
threads, so one for writes and one for reads is enough.
"""

from __future__ import annotations

from typing import Any, cast

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class _SharedClients(RedisCacheClient):
    _serializer: Any   # Django's, left out of its type stubs

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

    def set_if_present(self, key: Any, value: Any, timeout: float | None) -> bool:
        client = self.get_client(key, write=True)
        seconds = None if timeout is None else max(1, int(timeout))
        return bool(client.set(key, self._serializer.dumps(value), ex=seconds, xx=True))


class SharedClientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _SharedClients

    def set_if_present(self, key: Any, value: Any, timeout: float | None = DEFAULT_TIMEOUT) -> bool:
        """Writes the value only if the key still exists, in one command; whether it was written."""
        backend_timeout = self.get_backend_timeout(timeout)
        assert backend_timeout != 0, "a zero timeout would delete the key"
        return cast(_SharedClients, self._cache).set_if_present(self.make_and_validate_key(key), value,
                                                                backend_timeout)
