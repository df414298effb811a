"""Lock-out of console sign-ins: 5 failures lock for 15 minutes, then each failure locks again, longer.

The identity keys and the escalation are security.lockout's; only the table differs (agents belong
to no single organisation). An unknown email is counted too, and answered the same way. As for members, the
record is forgotten after a quiet day (RULE.forget_after, 24 hours counted from the last failure or the end of
the last lock, whichever is later): a lock over long ago does not make the next single failure lock again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q

from guichet.backoffice.models import Agent, AgentThrottle
from guichet.policy.model import Lockout
from guichet.security import lockout

RULE = Lockout(max_failures=5, duration=timedelta(minutes=15), escalate=True, max_duration=timedelta(hours=24),
               forget_after=timedelta(hours=24))


def key_for(agent: Agent | None, email: str, device: str | None = None) -> str:
    """The counter of an attempt: the agent's, or, from a browser where this agent signed in before (`device`,
    read from the console's device cookie), that browser's own, so that a stranger's guesses cannot lock the
    agent out of it (as members' remembered devices: security.lockout.account_key)."""
    if agent is not None and device:
        return lockout.identity_key("agent-device", f"{agent.pk}:{device}")
    if agent is not None:
        return lockout.identity_key("agent", str(agent.pk))
    return lockout.identity_key("agent-email", email.strip().lower())


def _row_for_update(key: str, agent: Agent | None) -> AgentThrottle:
    row = AgentThrottle.objects.select_for_update().filter(key_hash=key).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return AgentThrottle.objects.create(key_hash=key, agent=agent)
    except IntegrityError:  # another node created it first
        return AgentThrottle.objects.select_for_update().get(key_hash=key)


@dataclass(frozen=True)
class Attempt:
    allowed: bool              # False: locked; the credentials must not be checked
    status: lockout.Status     # just_locked: this attempt set the lock


@transaction.atomic
def reserve(key: str, now: datetime, agent: Agent | None = None) -> Attempt:
    """Counts a sign-in attempt as a failure BEFORE its credentials are checked; record_success clears it.

    Under the row's lock, the lock is read and the attempt counted in one step. Read first and counted after
    the (slow, argon2) check, a burst of parallel requests would all read "not locked" and all be checked:
    far more guesses than RULE allows. Reserved, the sixth of a burst finds the lock that the fifth set.
    Works alike on PostgreSQL (row lock) and SQLite (IMMEDIATE transactions lock the database).
    """
    row = _row_for_update(key, agent)
    if row.locked_until is not None and now < row.locked_until:
        return Attempt(False, lockout.Status(row.locked_until))   # refused unchecked, not counted
    if _forgotten(row, now):
        row.failures, row.locks, row.locked_until = 0, 0, None
    row.failures += 1
    row.last_failure_at = now
    lock = row.locks > 0 or row.failures >= RULE.max_failures
    if lock:
        row.locked_until = now + lockout.lock_duration(RULE, row.locks)
        row.locks += 1
    row.save()
    return Attempt(True, lockout.Status(row.locked_until, just_locked=lock))


def _forgotten(row: AgentThrottle, now: datetime) -> bool:
    """Quiet for RULE.forget_after since the last failure and since the end of the last lock."""
    quiet_since = max(filter(None, (row.last_failure_at, row.locked_until)), default=None)
    return quiet_since is not None and now - quiet_since >= RULE.forget_after


def record_success(key: str) -> None:
    """Every check passed: the attempt reserved as a failure, and earlier ones, are forgotten."""
    AgentThrottle.objects.filter(key_hash=key).delete()


def unlock(agent: Agent) -> None:
    """Every counter of the agent goes: their own and their browsers'."""
    AgentThrottle.objects.filter(Q(key_hash=key_for(agent, agent.email)) | Q(agent=agent)).delete()
