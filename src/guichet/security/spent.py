"""Single-use marks: remember that a CAPTCHA solution or a text challenge was used, until it expires.

Kept in Redis when REDIS_URL is set (SET NX), else in the database (unique digest), so that a
solution used on one node is refused on every other. On the database, a mark written inside a
transaction that is rolled back is rolled back too: spend before the step's transaction, or in one
that commits even when the form is refused.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from guichet.security.models import SpentToken
from guichet.security.redis_connection import redis_client

PREFIX = "guichet:spent:"
PURGE_ONE_IN = 20


def spend(purpose: str, token: str, *, until: datetime, now: datetime | None = None) -> bool:
    """Mark `token` used; True the first time, False if it was already used or has expired."""
    now = now or timezone.now()
    if until <= now:
        return False
    digest = salted_hmac(f"guichet.security.spent.{purpose}", token, algorithm="sha256").hexdigest()
    client = redis_client()
    if client is not None:
        ttl_ms = max(1, int((until - now).total_seconds() * 1000))
        return bool(client.set(PREFIX + digest, b"1", nx=True, px=ttl_ms))
    try:
        with transaction.atomic():
            SpentToken.objects.create(digest=digest, expires_at=until)
    except IntegrityError:
        return False
    if secrets.randbelow(PURGE_ONE_IN) == 0:
        purge(now)
    return True


def purge(now: datetime | None = None) -> int:
    deleted, _by_model = SpentToken.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
