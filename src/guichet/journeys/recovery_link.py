"""Recovery by a link in an email (styles `link` and `link_and_code`).

With `link_and_code` the email also holds a verification code; the page the link opens asks for the
member's identifier and that code before the new password, so a forwarded or intercepted link alone
is not enough. The code is bound to the link (scope `link:<challenge id>`), not to a run.
"""

from __future__ import annotations

import hmac

from django.utils.translation import gettext as _

from guichet.challenges import secrets
from guichet.challenges.models import Challenge
from guichet.challenges.secrets import Check
from guichet.channels import outbox
from guichet.identities import actions, lookup
from guichet.identities.models import Account
from guichet.journeys import passwords
from guichet.journeys.engine import Context, LinkStart, Step
from guichet.journeys.models import Run
from guichet.journeys.paths import journey_path
from guichet.journeys.recovery_common import (
    PURPOSE,
    account_of,
    dead_link_screen,
    password_reset_screen,
    personal_inputs,
    still_active,
)
from guichet.journeys.screens import Action, Done, Field, Next, Notice, Screen, Stay, Transition
from guichet.security import lockout

CODE_PURPOSE = "recovery_code"


def send_link(ctx: Context, account: Account, *, with_code: bool) -> None:
    rule = ctx.policy.recovery
    issued = secrets.issue_link(organisation=ctx.organisation, purpose=PURPOSE, lifetime=rule.link.lifetime,
                                now=ctx.now, account=account, data={"with_code": with_code})
    context = {"url": ctx.url(journey_path(ctx.organisation.slug, "recovery")) + "?lien=" + issued.secret,
               "hours": max(1, round(rule.link.lifetime.total_seconds() / 3600))}
    if with_code:
        code = secrets.issue_code(organisation=ctx.organisation, purpose=CODE_PURPOSE,
                                  scope=f"link:{issued.challenge.pk}", length=rule.code.length,
                                  lifetime=rule.code.lifetime, max_attempts=rule.code.max_attempts, now=ctx.now,
                                  account=account, channel="email")
        context["code"] = code.secret
    outbox.send_email(ctx.organisation, to=account.email, template="recovery_link", context=context,
                      language=ctx.language, account_id=account.pk)
    actions.record_recovery(ctx.organisation, account=account, ip=ctx.ip, event="link_sent", with_code=with_code)


def open_link(ctx: Context, token: str) -> LinkStart | Screen:
    """Only peeks: mail scanners open links, and must not spend them."""
    result = secrets.peek_link(purpose=PURPOSE, token=token, now=ctx.now)
    challenge = result.challenge
    account = challenge.account if challenge is not None else None
    if not result.ok or challenge is None or account is None or account.organisation.pk != ctx.organisation.pk \
            or account.state != Account.State.ACTIVE:   # disabled since the link was sent: it is dead
        return dead_link_screen(ctx)
    with_code = bool(challenge.data.get("with_code"))
    return LinkStart("verify_code" if with_code else "new_password",
                     {"challenge": str(challenge.pk), "account": str(account.pk), "with_code": with_code})


class VerifyCode(Step):
    """The identifier and the emailed verification code (health-mutual guide, step 5)."""

    name = "verify_code"

    def applies(self, ctx: Context, run: Run) -> bool:
        return False   # reached only from the link

    def screen(self, ctx: Context, run: Run) -> Screen:
        identifier = ctx.policy.login.identifier
        return Screen(
            title=_("Reset your password"),
            paragraphs=(_("Type your %(identifier)s and the verification code you received by email.")
                        % {"identifier": identifier.label.get(ctx.language)},),
            fields=(Field("identifier", "email" if identifier.kind == "email" else "text",
                          identifier.label.get(ctx.language), autocomplete="username"),
                    Field("code", "code", _("Verification code"), length=ctx.policy.recovery.code.length,
                          autocomplete="one-time-code")),
            actions=(Action("verify", _("Continue")),))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        account = account_of(run)
        assert account is not None
        typed = lookup.normalise_identifier(ctx.policy.login.identifier.kind, data["identifier"])
        same = hmac.compare_digest(typed.encode(), account.identifier.encode())
        # A wrong identifier spends an attempt of the code like a wrong code does ("-" never matches).
        result = secrets.check_code(scope=f"link:{run.state['challenge']}", purpose=CODE_PURPOSE,
                                    code=data["code"] if same else "-", now=ctx.now)
        if result.ok:
            run.state["verified"] = True
            return Next()
        if result.check is Check.WRONG:
            return Stay((Notice.of("recovery.verify_invalid", "error", remaining=result.remaining),))
        if result.check is Check.EXHAUSTED:
            Challenge.objects.filter(pk=run.state["challenge"], used_at=None).update(used_at=ctx.now)
            return Stay((Notice.of("code.exhausted", "error"),), restart=True)
        return Stay((Notice.of("recovery.link_dead", "error"),), restart=True)


class NewPassword(Step):
    name = "new_password"

    def applies(self, ctx: Context, run: Run) -> bool:
        return "challenge" in run.state and (not run.state.get("with_code") or bool(run.state.get("verified")))

    def screen(self, ctx: Context, run: Run) -> Screen:
        return Screen(title=_("Choose a new password"),
                      paragraphs=(_("Type a new password that follows the rules below, then type it again."),),
                      fields=passwords.fields(ctx), actions=(Action("set_password", _("Set the password")),))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        account = account_of(run)
        if account is None or not self.applies(ctx, run):
            return Stay((Notice.of("recovery.link_dead", "error"),), restart=True)
        problem = passwords.problems(ctx, data, personal_inputs(account))
        if problem is not None:
            return problem
        # The account row is locked until the password is saved: an agent disabling it meanwhile waits, and a
        # disabled account never gets a password that would be live again once it is enabled.
        if not still_active(account) or not secrets.use(run.state["challenge"], now=ctx.now).ok:
            return Stay((Notice.of("recovery.link_dead", "error"),), restart=True)   # once, and before it expires
        actions.set_password(account, data[passwords.NEW], now=ctx.now, ip=ctx.ip, reason="recovery")
        # The email was proven: guesses made before the reset no longer matter.
        lockout.clear_account(ctx.organisation, account)
        actions.notify_password_changed(account, now=ctx.now, language=ctx.language)
        actions.record_recovery(ctx.organisation, account=account, ip=ctx.ip, event="password_reset")
        return Done(password_reset_screen(ctx))

