"""What the second-factor steps of the sign-in journey share: the account the run is about, and wrong
answers counting towards the lock-out."""

from __future__ import annotations

from guichet.identities.models import Account
from guichet.journeys.engine import Context
from guichet.journeys.failures import count_failure, lockout_key
from guichet.journeys.models import Run
from guichet.journeys.screens import Notice, Stay


def account_of(run: Run) -> Account:
    return Account.objects.select_related("organisation").get(pk=run.state["account"])


def wrong_second_factor(ctx: Context, account: Account, stay: Stay) -> Stay:
    """Wrong codes count towards the lock-out too: a stolen password does not buy unlimited guesses."""
    status = count_failure(ctx, account, lockout_key(ctx, account), reason="second_factor")
    if status.locked(ctx.now):
        # The password was right, so saying "start again" reveals nothing; the lock email (per policy) says the rest.
        return Stay((Notice.of("code.exhausted", "error"),), restart=True)
    return stay
