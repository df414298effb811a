"""Registration, for a member whose active account has no email address (health-mutual guide: "if your
account has no email address, click Update my account to reset your credentials").

Registering again proves the member's identity exactly as a first registration does (registry match,
questions if any). Their account is then changed only once the typed address is proven too: a link goes
to it, and the page the link opens asks for a new password. Saving it gives the account that address
and that password at once. Until then nothing changes, and nothing secret waits (the password typed in
the registration form is not kept: a credential of an active account is never held pending).
The registration's confirmation screen is the same as in every other case (no enumeration).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from guichet.challenges import secrets
from guichet.challenges.models import Challenge
from guichet.channels import outbox
from guichet.identities import actions
from guichet.identities.models import Account
from guichet.journeys import passwords
from guichet.journeys.engine import Context, LinkStart, Step
from guichet.journeys.models import Run
from guichet.journeys.paths import journey_path
from guichet.journeys.registration_link import dead_link, link_hours
from guichet.journeys.screens import Action, Done, Link, Notice, Screen, Transition
from guichet.security import lockout

PURPOSE = actions.ACCOUNT_UPDATE_PURPOSE


def needs_an_email(account: Account, member_id: object) -> bool:
    """The member's own active account, without an email address: registering again may give it one."""
    return account.member_id == member_id and account.state == Account.State.ACTIVE and not account.email


def send_update_link(ctx: Context, account: Account, email: str) -> None:
    """Email the typed address a link to make it the account's and choose a new password (an earlier
    unused link of the account stops working). The address waits in the link's data, not on the account."""
    rule = ctx.policy.registration.link
    issued = secrets.issue_link(organisation=ctx.organisation, purpose=PURPOSE, lifetime=rule.lifetime,
                                now=ctx.now, account=account, data={"email": email})
    url = ctx.url(journey_path(ctx.organisation.slug, "registration")) + "?lien=" + issued.secret
    outbox.send_email(ctx.organisation, to=email, template="registration_update",
                      context={"url": url, "hours": link_hours(ctx)}, language=ctx.language, account_id=account.pk)
    actions.record_account_update_sent(account, ip=ctx.ip)


def open_update_link(ctx: Context, token: str) -> LinkStart | Screen | None:
    """Only peeks (mail scanners open links). None when the token is not an update link at all."""
    peeked = secrets.peek_link(purpose=PURPOSE, token=token, now=ctx.now)
    challenge = peeked.challenge
    if challenge is None:
        return None
    if challenge.organisation_id != ctx.organisation.pk:
        return dead_link(ctx, secrets.Check.MISSING)
    if not peeked.ok:
        return dead_link(ctx, peeked.check)
    account = challenge.account
    if account is None or account.state != Account.State.ACTIVE or account.email:
        return dead_link(ctx, secrets.Check.MISSING)
    return LinkStart("update_account", {"challenge": str(challenge.pk), "account": str(account.pk)})


def _email(run: Run) -> str:
    return str(Challenge.objects.get(pk=run.state["challenge"]).data["email"])


class UpdateAccount(Step):
    name = "update_account"

    def applies(self, ctx: Context, run: Run) -> bool:
        return False   # reached only from the emailed link

    def screen(self, ctx: Context, run: Run) -> Screen:
        return Screen(title=_("Update my account"),
                      notices=(Notice.of("registration.update_intro", email=_email(run)),),
                      fields=passwords.fields(ctx, _("Your new password")),
                      actions=(Action("update", _("Update my account")),))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        account = Account.objects.select_related("member").get(pk=run.state["account"], organisation=ctx.organisation)
        email, member = _email(run), account.member
        weak = passwords.problems(ctx, data, user_inputs=[email, account.identifier, *(
            (member.first_name, member.last_name, member.member_number) if member else ())])
        if weak is not None:
            return weak
        used = secrets.use(run.state["challenge"], now=ctx.now)
        if not used.ok:
            return Done(dead_link(ctx, used.check))
        if not actions.give_email_and_password(account, email=email, password=data[passwords.NEW], now=ctx.now,
                                               ip=ctx.ip):
            return Done(dead_link(ctx, secrets.Check.MISSING))
        # The address was proven, as by a recovery link: guesses made before no longer matter.
        lockout.record_success(ctx.organisation, lockout.identity_key("account", str(account.pk)))
        actions.notify_password_changed(account, now=ctx.now, language=ctx.language)
        return Done(Screen(title=_("Your account is updated"),
                           notices=(Notice.of("registration.account_updated", "success"),),
                           links=(Link(_("Sign in"), journey_path(ctx.organisation.slug, "login")),)))
