"""Issuing and checking one-time secrets.

Codes are short and therefore guessable by brute force: they are bound to a scope (a journey run),
expire quickly and allow few attempts. Links carry 256 random bits. Both are stored as an HMAC keyed
with SECRET_KEY, so a database leak alone yields nothing usable.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from django.conf import settings
from django.db import transaction

from guichet.challenges.models import Challenge


def _digest(secret: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), secret.encode(), hashlib.sha256).hexdigest()


def new_code(length: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(length))


class Check(Enum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"   # too many wrong attempts: this secret is dead
    MISSING = "missing"       # none issued, already used, or replaced


@dataclass(frozen=True)
class Result:
    check: Check
    challenge: Challenge | None = None
    remaining: int = 0

    @property
    def ok(self) -> bool:
        return self.check is Check.OK


@dataclass(frozen=True)
class Issued:
    challenge: Challenge
    secret: str


def active(scope: str, purpose: str) -> Challenge | None:
    return (Challenge.objects.filter(scope=scope, purpose=purpose, used_at=None, replaced_at=None)
            .order_by("-created_at").first())


def sends(scope: str, purpose: str) -> int:
    return Challenge.objects.filter(scope=scope, purpose=purpose).count()


@transaction.atomic
def issue_code(*, organisation: Any, purpose: str, scope: str, length: int, lifetime: timedelta,
               max_attempts: int, now: datetime, account: Any = None, channel: str = "",
               data: dict[str, Any] | None = None, carry_failures: bool = True) -> Issued:
    """A new code for this scope and purpose; the one it replaces stops working.

    The wrong attempts of the replaced code carry over: asking for a new code never buys more guesses.
    `carry_failures=False` is for codes whose sending is itself scarce and limited (a letter: a few a month),
    where a fresh code must not be born spent.
    """
    previous = list(Challenge.objects.select_for_update().filter(
        scope=scope, purpose=purpose, used_at=None, replaced_at=None))
    carried = max((c.attempts for c in previous), default=0) if carry_failures else 0
    Challenge.objects.filter(pk__in=[c.pk for c in previous]).update(replaced_at=now)
    code = new_code(length)
    challenge = Challenge.objects.create(
        organisation=organisation, account=account, purpose=purpose, kind=Challenge.Kind.CODE, scope=scope,
        secret_hash=_digest(f"{scope}:{purpose}:{code}"), channel=channel, created_at=now,
        expires_at=now + lifetime, attempts=carried, max_attempts=max_attempts, data=data or {},
    )
    return Issued(challenge, code)


@transaction.atomic
def check_code(*, scope: str, purpose: str, code: str, now: datetime) -> Result:
    challenge = (Challenge.objects.select_for_update()
                 .filter(scope=scope, purpose=purpose, used_at=None, replaced_at=None)
                 .order_by("-created_at").first())
    if challenge is None:
        return Result(Check.MISSING)
    if challenge.attempts >= challenge.max_attempts:
        return Result(Check.EXHAUSTED, challenge)
    if now >= challenge.expires_at:
        return Result(Check.EXPIRED, challenge)
    expected = challenge.secret_hash
    if hmac.compare_digest(expected, _digest(f"{scope}:{purpose}:{code.strip()}")):
        challenge.used_at = now
        challenge.save(update_fields=["used_at"])
        return Result(Check.OK, challenge)
    challenge.attempts += 1
    challenge.save(update_fields=["attempts"])
    remaining = challenge.max_attempts - challenge.attempts
    return Result(Check.WRONG if remaining else Check.EXHAUSTED, challenge, remaining)


@transaction.atomic
def issue_link(*, organisation: Any, purpose: str, lifetime: timedelta, now: datetime, account: Any = None,
               scope: str = "", channel: str = "email", data: dict[str, Any] | None = None) -> Issued:
    """A link token; earlier unused links of the same account and purpose stop working."""
    if account is not None:
        Challenge.objects.filter(account=account, purpose=purpose, kind=Challenge.Kind.LINK,
                                 used_at=None, replaced_at=None).update(replaced_at=now)
    token = secrets.token_urlsafe(32)
    challenge = Challenge.objects.create(
        organisation=organisation, account=account, purpose=purpose, kind=Challenge.Kind.LINK, scope=scope,
        secret_hash=_digest(f"link:{purpose}:{token}"), channel=channel, created_at=now,
        expires_at=now + lifetime, max_attempts=1, data=data or {},
    )
    return Issued(challenge, token)


def cancel_for_account(account: Any, *, now: datetime) -> int:
    """Every outstanding code and link of the account stops working, as if replaced; returns how many.

    For an account that must not act any more (disabled): a link or code sent before must not let its
    holder set a password that would be live again once the account is enabled.
    """
    return Challenge.objects.filter(account=account, used_at=None, replaced_at=None).update(replaced_at=now)


def _state(challenge: Challenge | None, now: datetime) -> Result:
    """Whether a link (found by its token or id) may still be used."""
    if challenge is None or challenge.used_at or challenge.replaced_at:
        return Result(Check.MISSING, challenge)
    if now >= challenge.expires_at:
        return Result(Check.EXPIRED, challenge)
    return Result(Check.OK, challenge)


def _consume(challenge: Challenge | None, now: datetime) -> Result:
    result = _state(challenge, now)
    if result.ok and challenge is not None:
        challenge.used_at = now
        challenge.save(update_fields=["used_at"])
    return result


def peek_link(*, purpose: str, token: str, now: datetime) -> Result:
    """Whether a link is usable, without using it (to show the form the link leads to)."""
    return _state(Challenge.objects.filter(secret_hash=_digest(f"link:{purpose}:{token}"), purpose=purpose).first(),
                  now)


@transaction.atomic
def redeem_link(*, purpose: str, token: str, now: datetime) -> Result:
    """Use a link: succeeds once."""
    return _consume(Challenge.objects.select_for_update()
                    .filter(secret_hash=_digest(f"link:{purpose}:{token}"), purpose=purpose).first(), now)


@transaction.atomic
def use(challenge_id: Any, *, now: datetime) -> Result:
    """Use a link found earlier with peek_link, by its id: succeeds once, and only before it expires."""
    return _consume(Challenge.objects.select_for_update().filter(pk=challenge_id).first(), now)
