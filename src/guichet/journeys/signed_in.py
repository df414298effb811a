"""What journeys for a signed-in member share: who is signed in, and checking their current password again.

A session left open on a shared computer must not be enough to change credentials, so these journeys ask
the current password again; a wrong one counts towards the sign-in lock-out like any other guess.
"""

from __future__ import annotations

from guichet.identities import actions, lookup
from guichet.identities.models import Account
from guichet.journeys.engine import Context
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
    refused without checking, and without counting), audited with `reason`, and the member is told by email
    when this failure locked the account."""
    key = lockout.identity_key("account", str(account.pk))
    locked = lockout.status(ctx.organisation, key).locked(ctx.now)
    if not locked and lookup.password_matches(account, password):
        return None
    status = lockout.status(ctx.organisation, key) if locked else \
        lockout.record_failure(ctx.organisation, key, ctx.policy.login.lockout, ctx.now)
    actions.record_sign_in_failure(ctx.organisation, account=account, ip=ctx.ip, reason=reason,
                                   locked_until=status.locked_until if status.just_locked else None)
    if status.just_locked and account.email and ctx.policy.login.lockout.notify_member:
        actions.notify_locked(account, until=status.locked_until, language=ctx.language)
    return Stay(field_errors={"current_password": (Notice.of("password.current_wrong", "error"),)})
