"""Failing to prove who one is, on any path: a wrong password at sign-in, a wrong second factor, a wrong
current password when changing it. All count towards the same lock-out, are audited the same way, and tell
the member of a lock only as the policy says (`login.lockout.notify_member`), whichever path locked."""

from __future__ import annotations

from guichet.identities import actions
from guichet.identities.models import Account
from guichet.journeys.engine import Context
from guichet.security import devices, lockout


def lockout_key(ctx: Context, account: Account) -> str:
    """The lock-out counter an attempt about `account` counts towards (security.lockout.account_key): the
    device's own when the request comes from a device the member had remembered and the policy spares them."""
    login = ctx.policy.login
    device = None
    if login.lockout.spare_remembered_devices and login.remember_device.enabled:
        device = devices.recognised(account, ctx.cookies.get(devices.cookie_name(ctx.organisation.slug)), ctx.now)
    return lockout.account_key(account, device)


def count_failure(ctx: Context, account: Account | None, key: str, *, reason: str,
                  locked: bool = False) -> lockout.Status:
    """Records the failure, or, when the identity is `locked` already, only reads the lock (a stranger's
    guesses never extend it); audits it; emails the member if this very failure locked the account."""
    status = lockout.status(ctx.organisation, key) if locked else \
        lockout.record_failure(ctx.organisation, key, ctx.policy.login.lockout, ctx.now)
    actions.record_sign_in_failure(ctx.organisation, account=account, ip=ctx.ip, reason=reason,
                                   locked_until=status.locked_until if status.just_locked else None)
    if status.just_locked and account is not None and account.email and ctx.policy.login.lockout.notify_member:
        actions.notify_locked(account, until=status.locked_until, language=ctx.language)
    return status
