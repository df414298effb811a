"""Writing security events. Callers pass what happened; secrets are refused, not filtered."""

from __future__ import annotations

from typing import Any

from guichet.audit.models import Event

_FORBIDDEN_KEYS = {"password", "code", "token", "secret", "answer", "otp"}


def record(kind: str, *, organisation: Any = None, account_id: Any = None, actor: str = "member",
           ip: str | None = None, **data: Any) -> Event:
    leaked = _FORBIDDEN_KEYS & {key.lower() for key in data}
    if leaked:
        raise ValueError(f"audit data must not hold secrets: {sorted(leaked)}")
    return Event.objects.create(
        kind=kind, organisation=organisation, account_id=account_id, actor=actor, ip=ip or None, data=data,
    )
