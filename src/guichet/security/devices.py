"""Remembered devices: a random token in a long-lived cookie, stored hashed, bound to one account."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from guichet.identities.models import RememberedDevice


def cookie_name(organisation_slug: str) -> str:
    return f"guichet_device_{organisation_slug.replace('-', '_')}"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def remember(account: Any, *, days: int, label: str, now: datetime) -> str:
    """Returns the token to put in the cookie."""
    token = secrets.token_urlsafe(32)
    RememberedDevice.objects.create(account=account, token_hash=_hash(token), label=label[:200],
                                    created_at=now, expires_at=now + timedelta(days=days))
    return token


def is_remembered(account: Any, token: str | None, now: datetime) -> bool:
    if not token:
        return False
    updated = RememberedDevice.objects.filter(
        account=account, token_hash=_hash(token), revoked_at=None, expires_at__gt=now
    ).update(last_used_at=now)
    return updated == 1


def recognised(account: Any, token: str | None, now: datetime) -> int | None:
    """The id of the remembered device this cookie token names for this account, if it is still valid; reads
    only (a device is "used" when it spares a second factor: is_remembered)."""
    if not token:
        return None
    return RememberedDevice.objects.filter(account=account, token_hash=_hash(token), revoked_at=None,
                                           expires_at__gt=now).values_list("pk", flat=True).first()


def revoke_all(account: Any, now: datetime) -> int:
    return RememberedDevice.objects.filter(account=account, revoked_at=None).update(revoked_at=now)


def active(account: Any, now: datetime) -> list[RememberedDevice]:
    return list(RememberedDevice.objects.filter(account=account, revoked_at=None, expires_at__gt=now)
                .order_by("-created_at"))
