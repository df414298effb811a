"""Rate limit counters in Redis: one hash per key, updated by a Lua script (atomic on the server).

The hash holds, for each window length used with the key, the window's start and its count:
{"60:start": "1718000040", "60:count": "3"}. One Redis key per limiter key lets reset() delete
every window at once without scanning the keyspace.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import redis

if TYPE_CHECKING:
    from guichet.security.ratelimit import Window

PREFIX = "guichet:ratelimit:"
# Keep the hash a little past the window's end, so that nodes with slightly different clocks agree.
MARGIN_MS = 5_000

_INCREMENT = """
local start_field = ARGV[1] .. ':start'
local count_field = ARGV[1] .. ':count'
if redis.call('HGET', KEYS[1], start_field) ~= ARGV[2] then
  redis.call('HSET', KEYS[1], start_field, ARGV[2], count_field, 0)
end
local count = redis.call('HINCRBY', KEYS[1], count_field, 1)
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return count
"""


def increment(client: redis.Redis, window: Window, now: datetime) -> int:
    ttl_ms = int((window.end - now).total_seconds() * 1000) + MARGIN_MS
    script = client.register_script(_INCREMENT)
    return int(script(keys=[PREFIX + window.key_hash], args=[window.seconds, _start(window), ttl_ms]))


def count(client: redis.Redis, window: Window) -> int:
    fields = [f"{window.seconds}:start", f"{window.seconds}:count"]
    start, hits = client.hmget(PREFIX + window.key_hash, fields)
    if start is None or hits is None or _text(start) != _start(window):
        return 0
    return int(hits)


def forget(client: redis.Redis, key_hash: str) -> None:
    client.delete(PREFIX + key_hash)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _start(window: Window) -> str:
    return str(int(window.start.timestamp()))
