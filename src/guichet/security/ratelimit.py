"""Rate limits that hold across every node: fixed windows counted in Redis or in the database.

    decision = ratelimit.hit(f"login:ip:{client_ip(request)}", limit=20, window=timedelta(minutes=1))
    if not decision.allowed: ...  # tell the member to wait decision.retry_after

Windows are fixed and aligned on the clock (a 1-minute window runs from :00 to :59), so every node
computes the same window without talking to the others. A burst across a boundary may reach twice
the limit; the limits here are coarse guards against scripts, the lockout (lockout.py) handles
password guessing per account.

Keys may hold emails or IP addresses; only their HMAC-SHA256 (keyed by SECRET_KEY) is stored.
Backend: Redis when settings.REDIS_URL is set, else the database (table security_ratecounter).
On the database, call hit() outside the journey's transaction when you can: a counter written
inside a transaction that is rolled back is rolled back too.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from guichet.security import ratelimit_database, ratelimit_redis
from guichet.security.redis_connection import redis_client


@dataclass(frozen=True)
class Window:
    key_hash: str
    seconds: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: int
    """Hits in the current window, this one included."""
    limit: int
    retry_after: timedelta | None
    """When refused: how long until the window ends."""


def hit(key: str, *, limit: int, window: timedelta, now: datetime | None = None) -> Decision:
    """Count one hit on `key`; allowed while the window's count stays within `limit`."""
    now = now or timezone.now()
    current = window_for(key, window, now)
    client = redis_client()
    if client is not None:
        count = ratelimit_redis.increment(client, current, now)
    else:
        count = ratelimit_database.increment(current, now)
    allowed = count <= limit
    retry_after = None if allowed else current.end - now
    return Decision(allowed=allowed, count=count, limit=limit, retry_after=retry_after)


def peek(key: str, window: timedelta, *, now: datetime | None = None) -> int:
    """Hits counted on `key` in the current window, without counting one more."""
    now = now or timezone.now()
    current = window_for(key, window, now)
    client = redis_client()
    if client is not None:
        return ratelimit_redis.count(client, current)
    return ratelimit_database.count(current)


def reset(key: str) -> None:
    """Forget every window of `key` (after a successful sign-in, for example)."""
    client = redis_client()
    if client is not None:
        ratelimit_redis.forget(client, key_hash(key))
    else:
        ratelimit_database.forget(key_hash(key))


def purge(now: datetime | None = None) -> int:
    """Delete the database's ended windows (also done now and then by hit()); Redis expires its own."""
    return ratelimit_database.purge(now or timezone.now())


def key_hash(key: str) -> str:
    return salted_hmac("guichet.security.ratelimit", key, algorithm="sha256").hexdigest()


def window_for(key: str, window: timedelta, now: datetime) -> Window:
    seconds = int(window.total_seconds())
    if seconds < 1:
        raise ValueError(f"a rate limit window must last at least one second, not {window}")
    epoch = int(now.timestamp())
    start = datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)
    end = start + timedelta(seconds=seconds)
    return Window(key_hash=key_hash(key), seconds=seconds, start=start, end=end)


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or X-Forwarded-For behind TRUSTED_PROXY_COUNT proxies.

    Each proxy appends the address it received the request from, so with N trusted proxies the
    client is the N-th address from the right; anything further left was written by the client
    itself and is ignored (anyone can send an X-Forwarded-For header).
    """
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted <= 0:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    if not forwarded:
        return remote
    candidate = _address(forwarded[-trusted] if len(forwarded) >= trusted else forwarded[0])
    return candidate or remote


def _address(text: str) -> str | None:
    """'203.0.113.7', '203.0.113.7:443' or '[2001:db8::1]:443' -> the address; None when not one."""
    text = text.strip()
    if text.startswith("["):  # [IPv6]:port
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # IPv4:port
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None
