"""Lock-out after repeated sign-in failures, counted per identity in the shared database.

The identity key is the account when the identifier is known, else the normalised identifier, so
"Jean.Dupont@x.fr" and "jean.dupont@x.fr " share one counter, and unknown identifiers are throttled too
(the member sees the same answer either way). Escalation: after a first lock, every further failure
locks again, each time twice as long (capped), until a successful sign-in clears the record, or until
`forget_after` has passed with no failure and no lock (a typo today does not add to failures of last month).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max

from guichet.identities.models import LoginThrottle, RememberedDevice
from guichet.policy.model import Lockout


def identity_key(kind: str, value: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"lockout:{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def account_key(account: Any, device_id: int | None = None) -> str:
    """The counter a failure about this account goes to: the account's, or, on a device the member had
    remembered (`lockout.spare_remembered_devices`), that device's own, so that a stranger's guesses elsewhere
    cannot lock the member out of it."""
    return identity_key("device", str(device_id)) if device_id is not None else identity_key("account", str(account.pk))


def _account_keys(account: Any) -> list[str]:
    """The account's own counter and those of every device it ever had remembered."""
    return [account_key(account), *(account_key(account, pk) for pk in
                                    RememberedDevice.objects.filter(account=account).values_list("pk", flat=True))]


def clear_account(organisation: Any, account: Any) -> None:
    """Every counter of the account goes, its devices' as well: an agent's unlock, or the member proving who
    they are again (recovery)."""
    LoginThrottle.objects.filter(organisation=organisation, key_hash__in=_account_keys(account)).delete()


def locked_until(organisation: Any, account: Any, now: datetime) -> datetime | None:
    """When the latest lock among the account's counters ends (for agents: the member is blocked somewhere,
    on their own device or everywhere else), or None."""
    latest: datetime | None = LoginThrottle.objects.filter(
        organisation=organisation, key_hash__in=_account_keys(account), locked_until__gt=now,
    ).aggregate(latest=Max("locked_until"))["latest"]
    return latest


@dataclass(frozen=True)
class Status:
    locked_until: datetime | None = None
    just_locked: bool = False
    recorded: bool = True   # False: no failure was on record when the status was read

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


def status(organisation: Any, key: str, *, for_update: bool = False) -> Status:
    """The counter's lock; `for_update` (inside a transaction) holds its row until the transaction ends."""
    rows = LoginThrottle.objects.filter(organisation=organisation, key_hash=key)
    row = (rows.select_for_update() if for_update else rows).only("locked_until").first()
    return Status(row.locked_until if row else None, recorded=row is not None)


def _row_for_update(organisation: Any, key: str) -> LoginThrottle:
    row = LoginThrottle.objects.select_for_update().filter(organisation=organisation, key_hash=key).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return LoginThrottle.objects.create(organisation=organisation, key_hash=key)
    except IntegrityError:  # another node created it first
        return LoginThrottle.objects.select_for_update().get(organisation=organisation, key_hash=key)


def lock_duration(rule: Lockout, locks_before: int) -> timedelta:
    if not rule.escalate:
        return rule.duration
    return min(rule.duration * (2 ** locks_before), max(rule.max_duration, rule.duration))


@transaction.atomic
def record_failure(organisation: Any, key: str, rule: Lockout, now: datetime) -> Status:
    row = _row_for_update(organisation, key)
    if _forgotten(row, rule, now):
        row.failures, row.locks, row.locked_until = 0, 0, None
    row.failures += 1
    row.last_failure_at = now
    lock = False
    if row.locked_until and now < row.locked_until:
        lock = False  # already locked: counted, not extended (no way for a stranger to extend a lock forever)
    elif row.locks and rule.escalate:
        lock = True
    elif row.failures >= rule.max_failures * (row.locks + 1):
        lock = True
    if lock:
        row.locked_until = now + lock_duration(rule, row.locks)
        row.locks += 1
    row.save()
    return Status(row.locked_until, just_locked=lock)


def _forgotten(row: LoginThrottle, rule: Lockout, now: datetime) -> bool:
    quiet_since = max(filter(None, (row.last_failure_at, row.locked_until)), default=None)
    return quiet_since is not None and now - quiet_since >= rule.forget_after


def record_success(organisation: Any, key: str) -> None:
    """A whole sign-in succeeded on this counter: its failures go (an agent's unlock: clear_account)."""
    LoginThrottle.objects.filter(organisation=organisation, key_hash=key).delete()
