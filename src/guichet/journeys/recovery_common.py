"""What the recovery steps share: finding the account without telling whether it exists, the final
screens, and handing over a temporary password by email, text message or post."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from guichet.channels import outbox
from guichet.identities import actions, lookup
from guichet.identities.models import Account
from guichet.journeys.engine import Context
from guichet.journeys.models import Run
from guichet.journeys.paths import journey_path
from guichet.journeys.screens import Done, Link, Notice, Screen
from guichet.registry.models import MemberRecord
from guichet.security import lockout

PURPOSE = "recovery"

# Letters that carry a temporary password: the provisioning letter, an agent's reset by post, and ours.
# Any of them still in the post holds back a new recovery letter (recovery.never_connected.letter_every).
PASSWORD_LETTERS = ("temporary_password_letter", "temporary_password", "recovery_letter")


def duration_text(duration: timedelta) -> str:
    """'1 hour', '24 hours', '30 minutes': how members read a lifetime."""
    minutes = int(duration.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}


def account_of(run: Run) -> Account | None:
    """The account the run is about, or None for an identifier that matched nothing."""
    account_id = run.state.get("account")
    return Account.objects.select_related("organisation", "member").filter(pk=account_id).first() \
        if account_id else None


def find_account(ctx: Context, data: dict[str, str]) -> Account | None:
    """The active account matching every detail asked (identifier and/or email), else None."""
    kind = ctx.policy.login.identifier.kind
    asked = ctx.policy.recovery.ask
    if "identifier" in asked:
        account = lookup.find(ctx.organisation, kind, data["identifier"])
    elif kind == "email":
        account = lookup.find(ctx.organisation, "email", data["email"])
    else:
        matches = list(Account.objects.filter(organisation=ctx.organisation, email__iexact=data["email"].strip())[:2])
        account = matches[0] if len(matches) == 1 else None   # a shared address names nobody in particular
    if account is not None and "email" in asked and "identifier" in asked \
            and account.email.strip().lower() != data["email"].strip().lower():
        account = None
    # Pending (never activated) and disabled accounts cannot reset: the same answer as for nobody.
    return account if account is not None and account.state == Account.State.ACTIVE else None


def still_active(account: Account) -> bool:
    """Whether the account may still get a password, read under a row lock (steps run in the journey's
    transaction): an agent disabling it meanwhile waits, so a disabled account never gets a password that
    would be live again once it is enabled."""
    state = Account.objects.select_for_update().filter(pk=account.pk).values_list("state", flat=True).first()
    return state == Account.State.ACTIVE


def personal_inputs(account: Account) -> list[str]:
    """What a new password must not contain."""
    member: MemberRecord | None = account.member
    return [account.identifier, account.email] + ([member.first_name, member.last_name] if member else [])


def sign_in_link(ctx: Context) -> Link:
    return Link(_("Go to the sign-in page"), journey_path(ctx.organisation.slug, "login"))


def password_reset_screen(ctx: Context) -> Screen:
    return Screen(title=_("Confirmation"), notices=(Notice.of("recovery.password_reset", "success"),),
                  links=(sign_in_link(ctx),))


def dead_link_screen(ctx: Context) -> Screen:
    return Screen(title=_("This link can no longer be used"), notices=(Notice.of("recovery.link_dead", "warning"),),
                  links=(Link(_("Make a new request"), journey_path(ctx.organisation.slug, "recovery")),))


def temporary_password_by(ctx: Context, account: Account, channel: str) -> Done:
    """A new temporary password, sent on the channel the member chose (its address is on the account)."""
    if not still_active(account):   # disabled during the run: nothing changes, the agents see why
        actions.record_recovery(ctx.organisation, account=account, ip=ctx.ip, event="account_inactive")
        return _sent_screen(ctx, f"recovery.temporary_sent_{channel}")
    password = actions.set_temporary_password(account, now=ctx.now, ip=ctx.ip, reason="recovery")
    # The code or the answer was right: guesses made before no longer matter, as after a reset by link.
    # (Never on the letter path: a wrong answer must not unlock an account.)
    lockout.clear_account(ctx.organisation, account)
    context: dict[str, Any] = {"password": password,
                               "days": ctx.policy.recovery.temporary_password.lifetime.days}
    if channel == "sms":
        outbox.send_sms(ctx.organisation, to=account.mobile, template="temporary_password", context=context,
                        language=ctx.language, account_id=account.pk)
    else:
        outbox.send_email(ctx.organisation, to=account.email, template="temporary_password", context=context,
                          language=ctx.language, account_id=account.pk)
    actions.record_recovery(ctx.organisation, account=account, ip=ctx.ip, event="temporary_password_sent",
                            channel=channel)
    return _sent_screen(ctx, f"recovery.temporary_sent_{channel}")


def _sent_screen(ctx: Context, code: str) -> Done:
    return Done(Screen(
        title=_("Confirmation"), notices=(Notice.of(code, "success"),),
        paragraphs=(_("You can change it after signing in to your space."),
                    _("If you do not receive this password, please contact us.")),
        links=(sign_in_link(ctx),)))


def temporary_password_by_post(ctx: Context, account: Account, chosen: str) -> Done:
    """The letter, to the registry's address, and a word by text message or email to say it is coming;
    unless a letter went out less than `letter_every` ago: then nothing changes and nothing is sent (a new
    letter would kill the one in the post, and anyone who knows the identifier could ask for it)."""
    pending = _letter_in_the_post(ctx, account)
    if pending is not None:
        actions.record_recovery(ctx.organisation, account=account, ip=ctx.ip, event="letter_held_back",
                                previous=pending.isoformat())
        when = formats.date_format(timezone.localtime(pending), "DATE_FORMAT")
        return Done(Screen(title=_("Request a new password"),
                           notices=(Notice.of("recovery.letter_already_sent", "info", date=when),),
                           links=(sign_in_link(ctx),)))
    record = account.member
    if not still_active(account):   # disabled during the run: nothing changes, the agents see why
        actions.record_recovery(ctx.organisation, account=account, ip=ctx.ip, event="account_inactive")
    elif not _letter_sent(ctx, account, record):
        # Nowhere to write to (no address, or one a letter cannot carry): nothing changes, and the agents
        # see why in the audit trail.
        actions.record_recovery(ctx.organisation, account=account, ip=ctx.ip, event="letter_impossible")
    else:
        announced = _announce_letter(ctx, account, chosen)
        actions.record_recovery(ctx.organisation, account=account, ip=ctx.ip, event="letter_sent",
                                announced_by=announced)
    return Done(Screen(
        title=_("Confirmation"), notices=(Notice.of("recovery.letter_sent", "success"),),
        paragraphs=(_("If you do not receive this letter, please contact us."),),
        links=(sign_in_link(ctx),)))


def _letter_sent(ctx: Context, account: Account, record: MemberRecord | None) -> bool:
    """The temporary password set and its letter enqueued, both or (when the address cannot take a letter)
    neither: the password is set in a savepoint that the letter's refusal rolls back. Never to the address of
    a record no longer in the registry: it may no longer be the member's."""
    if record is None or not record.in_registry or not record.address.strip():
        return False
    name = f"{record.first_name} {record.last_name}".strip()
    try:
        with transaction.atomic():
            password = actions.set_temporary_password(account, now=ctx.now, ip=ctx.ip, reason="recovery_letter")
            outbox.send_letter(ctx.organisation, address=outbox.postal_address(name, record.address),
                               template="recovery_letter", language=ctx.language, account_id=account.pk,
                               context={"identifier": account.identifier, "password": password,
                                        "days": ctx.policy.recovery.temporary_password.lifetime.days})
    except outbox.RecipientError:
        return False
    return True


def _letter_in_the_post(ctx: Context, account: Account) -> datetime | None:
    """When the account's latest password letter was made, if less than `letter_every` ago."""
    rule = ctx.policy.recovery.never_connected
    assert rule is not None   # the letter path exists only for never-connected members
    # Two requests at once must not both find no letter: the account's row is the lock.
    Account.objects.select_for_update().filter(pk=account.pk).values_list("pk", flat=True).first()
    return outbox.latest_letter(account.pk, templates=PASSWORD_LETTERS, since=ctx.now - rule.letter_every)


def _announce_letter(ctx: Context, account: Account, chosen: str) -> str:
    """The chosen channel if the policy announces letters by it, else the policy's first one we can use."""
    rule = ctx.policy.recovery.never_connected
    order = list(rule.announce_letter_by) if rule else []
    if chosen in order:
        order.remove(chosen)
        order.insert(0, chosen)
    for channel in order:
        if channel == "sms" and account.mobile:
            outbox.send_sms(ctx.organisation, to=account.mobile, template="letter_announce", context={},
                            language=ctx.language, account_id=account.pk)
            return "sms"
        if channel == "email" and account.email:
            outbox.send_email(ctx.organisation, to=account.email, template="letter_announce", context={},
                              language=ctx.language, account_id=account.pk)
            return "email"
    return ""
