"""Sending and checking one-time codes inside a journey run, the same way in every journey.

The run is the scope of the code: a code sent for one sign-in attempt cannot finish another. Every code
of a run is issued here (`issue`), so that the run stays open as long as its latest code lives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from guichet.challenges import secrets
from guichet.challenges.secrets import Check, Issued
from guichet.channels import outbox
from guichet.identities.lookup import mask_email, mask_phone
from guichet.journeys.engine import Context, keep_open_until
from guichet.journeys.models import Run
from guichet.journeys.screens import Notice, Stay
from guichet.policy.model import Code


@dataclass(frozen=True)
class Destination:
    channel: str      # email or sms
    address: str

    @property
    def masked(self) -> str:
        return mask_email(self.address) if self.channel == "email" else mask_phone(self.address)


# A code typed in its last seconds leads to one or two more screens ("Accéder à mon espace"): the run lives
# this much longer than its last code, so they are not already closed.
AFTER_THE_CODE = timedelta(minutes=10)


def issue(ctx: Context, run: Run, *, purpose: str, rule: Code, account: Any = None, channel: str = "") -> Issued:
    """A new code for this run, which stays open until the code expires, and a little more: the member must
    be able to type the code for as long as the message says, then finish the screens that follow it."""
    issued = secrets.issue_code(organisation=ctx.organisation, purpose=purpose, scope=str(run.pk),
                                length=rule.length, lifetime=rule.lifetime, max_attempts=rule.max_attempts,
                                now=ctx.now, account=account, channel=channel)
    keep_open_until(run, issued.challenge.expires_at + AFTER_THE_CODE)
    return issued


def send(ctx: Context, run: Run, *, purpose: str, rule: Code, to: Destination, account: Any = None,
         template: str = "login_code") -> Notice:
    issued = issue(ctx, run, purpose=purpose, rule=rule, account=account, channel=to.channel)
    minutes = int(rule.lifetime.total_seconds() // 60)
    context = {"code": issued.secret, "minutes": minutes}
    account_id = getattr(account, "pk", None)
    if to.channel == "sms":
        outbox.send_sms(ctx.organisation, to=to.address, template=template, context=context,
                        language=ctx.language, account_id=account_id)
    else:
        outbox.send_email(ctx.organisation, to=to.address, template=template, context=context,
                          language=ctx.language, account_id=account_id)
    run.state[f"code_sent_at:{purpose}"] = ctx.now.isoformat()
    return Notice.of(f"code.sent_{to.channel}", "info", destination=to.masked, minutes=minutes)


def resend(ctx: Context, run: Run, *, purpose: str, rule: Code, to: Destination, account: Any = None,
           template: str = "login_code") -> Stay:
    """A new code, unless the member asked too soon or too often."""
    from datetime import datetime

    sent_at = run.state.get(f"code_sent_at:{purpose}")
    if sent_at:
        waited = (ctx.now - datetime.fromisoformat(sent_at)).total_seconds()
        if waited < rule.resend_cooldown.total_seconds():
            return Stay((Notice.of("code.wait", "warning",
                                   seconds=int(rule.resend_cooldown.total_seconds() - waited)),))
    if secrets.sends(str(run.pk), purpose) >= rule.max_sends:
        return Stay((Notice.of("code.too_many_sends", "error"),), restart=True)
    send(ctx, run, purpose=purpose, rule=rule, to=to, account=account, template=template)
    return Stay((Notice.of("code.resent", "success"),))


def check(ctx: Context, run: Run, *, purpose: str, code: str, field: str = "code") -> Stay | None:
    """None when the code is right; otherwise what to tell the member."""
    result = secrets.check_code(scope=str(run.pk), purpose=purpose, code=code, now=ctx.now)
    if result.ok:
        return None
    if result.check is Check.WRONG:
        return Stay(field_errors={field: (Notice.of("code.wrong", "error", remaining=result.remaining),)})
    if result.check is Check.EXHAUSTED:
        return Stay((Notice.of("code.exhausted", "error"),), restart=True)
    if result.check is Check.EXPIRED:
        return Stay(field_errors={field: (Notice.of("code.expired", "error"),)})
    return Stay(field_errors={field: (Notice.of("code.missing", "error"),)})
