"""What journeys for a signed-in member share: who is signed in, and checking their current password again.

A session left open on a shared computer must not be enough to change credentials, so these journeys ask
the current password again; a wrong one counts towards the sign-in lock-out like any other guess.
"""

from __future__ import annotations

from django.db import transaction

from guichet.identities import lookup
from guichet.identities.models import Account
from guichet.journeys.engine import Context
from guichet.journeys.failures import count_failure, lockout_key
from guichet.journeys.screens import Notice, Stay
from guichet.security import lockout


def signed_in(ctx: Context) -> Account | None:
    """The signed-in member, if they belong to this organisation (a session never crosses organisations)."""
    if ctx.account_id is None:
        return None
    return Account.objects.select_related("organisation", "member").filter(
        pk=ctx.account_id, organisation=ctx.organisation, state=Account.State.ACTIVE).first()


def check_current_password(ctx: Context, account: Account, password: str, *, reason: str) -> Stay | None:
    """None when `password` is the member's current one. Otherwise the failure is counted (a locked account is
    refused whatever the password, and without counting), audited with `reason`, and the member is told by
    email when this failure locked the account."""
    key = lockout_key(ctx, account)
    right = lookup.password_matches(account, password)
    with transaction.atomic():
        # Read after the hash, under the counter's row lock, as at sign-in: a burst of guesses sent together
        # counts before a right password can pass.
        locked = lockout.status(ctx.organisation, key, for_update=True).locked(ctx.now)
        if right and not locked:
            return None
        count_failure(ctx, account, key, reason=reason, locked=locked)
    return Stay(field_errors={"current_password": (Notice.of("password.current_wrong", "error"),)})
