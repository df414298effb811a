"""Lock-out of console sign-ins: 5 failures lock for 15 minutes, then each failure locks again, longer.

The identity keys and the escalation are security.lockout's; only the table differs (agents belong
to no single organisation). An unknown email is counted too, and answered the same way.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from guichet.backoffice.models import Agent, AgentThrottle
from guichet.policy.model import Lockout
from guichet.security import lockout

RULE = Lockout(max_failures=5, duration=timedelta(minutes=15), escalate=True, max_duration=timedelta(hours=24))


def key_for(agent: Agent | None, email: str) -> str:
    if agent is not None:
        return lockout.identity_key("agent", str(agent.pk))
    return lockout.identity_key("agent-email", email.strip().lower())


def is_locked(key: str, now: datetime) -> bool:
    row = AgentThrottle.objects.filter(key_hash=key).only("locked_until").first()
    return lockout.Status(row.locked_until if row else None).locked(now)


def _row_for_update(key: str) -> AgentThrottle:
    row = AgentThrottle.objects.select_for_update().filter(key_hash=key).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return AgentThrottle.objects.create(key_hash=key)
    except IntegrityError:  # another node created it first
        return AgentThrottle.objects.select_for_update().get(key_hash=key)


@transaction.atomic
def record_failure(key: str, now: datetime) -> lockout.Status:
    row = _row_for_update(key)
    row.failures += 1
    row.last_failure_at = now
    already_locked = row.locked_until is not None and now < row.locked_until
    lock = not already_locked and (row.locks > 0 or row.failures >= RULE.max_failures)
    if lock:
        row.locked_until = now + lockout.lock_duration(RULE, row.locks)
        row.locks += 1
    row.save()
    return lockout.Status(row.locked_until, just_locked=lock)


def record_success(key: str) -> None:
    AgentThrottle.objects.filter(key_hash=key).delete()


def unlock(agent: Agent) -> None:
    AgentThrottle.objects.filter(key_hash=key_for(agent, agent.email)).delete()
