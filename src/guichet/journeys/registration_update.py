"""Registration, for a member whose active account has no email address (health-mutual guide: "if your
account has no email address, click Update my account to reset your credentials").

Registering again proves the registry details exactly as a first registration does; but those details
(a public FINESS number, the end of an IBAN) are no secret, so they never change an account alone. Three
proofs are asked, then the account gets the typed address and a new password at once:
1. the registry details (the registration form);
2. the typed address (a link emailed to it opens the update page);
3. the owner's agreement, on a channel already on record (identities.actions.proof_for): a code by text
   message to the account's mobile, asked from the update page ("Receive the code": never on opening the
   link, which mail scanners do); else a code in a letter to the registry's address, posted when the link
   is sent. With neither, nothing is offered online: the typed address is told to contact us.
The owner is told of the change by text message and letter (identities.actions.give_email_and_password).
Until then nothing changes, and nothing secret waits (the password typed in the registration form is not
kept: a credential of an active account is never held pending). The registration's confirmation screen
is the same in every case (no enumeration).

```mermaid
stateDiagram-v2
    [*] --> update_proof: link opened, the account has a mobile
    [*] --> update_account: link opened, a letter went to the registry's address
    update_proof --> update_account: "Receive the code" (text message to the account's mobile)
    update_account --> update_account: weak password / wrong code (tries left) / new text message
    update_account --> [*]: too many wrong codes, or the letter's code is dead (link spent)
    update_account --> [*]: right code: the address is the account's, new password, owner told
```
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from guichet.challenges import secrets
from guichet.challenges.models import Challenge
from guichet.challenges.secrets import Check
from guichet.channels import outbox
from guichet.identities import actions
from guichet.identities.models import Account
from guichet.journeys import codes, passwords
from guichet.journeys.engine import Context, LinkStart, Step
from guichet.journeys.models import Run
from guichet.journeys.paths import journey_path
from guichet.journeys.registration_identity import support_paragraphs
from guichet.journeys.registration_link import dead_link, link_hours
from guichet.journeys.screens import Action, Done, Field, Goto, Link, Notice, Screen, Stay, Transition
from guichet.security import lockout, ratelimit

PURPOSE = actions.ACCOUNT_UPDATE_PURPOSE
# Text messages to one account's mobile from update pages, whatever the run: the owner is not flooded.
SMS_WINDOW = timedelta(days=1)


def needs_an_email(account: Account, member_id: object) -> bool:
    """The member's own active account, without an email address: registering again may give it one."""
    return account.member_id == member_id and account.state == Account.State.ACTIVE and not account.email


def send_update_link(ctx: Context, account: Account, email: str) -> None:
    """Email the typed address a link to make it the account's and choose a new password (an earlier
    unused link of the account stops working), and, without a mobile on the account, post the owner the
    code the page will ask. The address waits in the link's data, not on the account."""
    proof = actions.proof_for(account)
    if not proof:
        actions.refuse_account_update(account, email=email, language=ctx.language, ip=ctx.ip)
        return
    rule = ctx.policy.registration
    lifetime = rule.link.lifetime
    if proof == "postal":
        actions.send_update_letter(account, email=email, now=ctx.now, ip=ctx.ip)
        lifetime = max(lifetime, rule.account_update.letter_code_lifetime)   # time for the letter to arrive
    issued = secrets.issue_link(organisation=ctx.organisation, purpose=PURPOSE, lifetime=lifetime,
                                now=ctx.now, account=account, data={"email": email, "proof": proof})
    url = ctx.url(journey_path(ctx.organisation.slug, "registration")) + "?lien=" + issued.secret
    outbox.send_email(ctx.organisation, to=email, template="registration_update",
                      context={"url": url, "hours": link_hours(ctx), "days": lifetime.days, "proof": proof},
                      language=ctx.language, account_id=account.pk)
    actions.record_account_update_sent(account, proof=proof, ip=ctx.ip)


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
    account, proof = challenge.account, challenge.data.get("proof")
    # A link without a proof (sent before the owner's agreement was asked) is dead: it alone gave the account away.
    if account is None or not _still_open(account) or proof not in ("sms", "postal") or \
            (proof == "sms" and actions.proof_for(account) != "sms"):
        return dead_link(ctx, secrets.Check.MISSING)
    return LinkStart("update_proof" if proof == "sms" else "update_account",
                     {"challenge": str(challenge.pk), "account": str(account.pk), "proof": proof})


def _still_open(account: Account) -> bool:
    return account.state == Account.State.ACTIVE and not account.email


def _email(run: Run) -> str:
    return str(Challenge.objects.get(pk=run.state["challenge"]).data["email"])


def _account(ctx: Context, run: Run) -> Account:
    return Account.objects.select_related("member").get(pk=run.state["account"], organisation=ctx.organisation)


def _ended(ctx: Context, run: Run, notice: Notice) -> Done:
    """The link is spent with its proof: to try again, the member registers again."""
    secrets.use(run.state["challenge"], now=ctx.now)
    return Done(Screen(title=_("This link can no longer be used"), notices=(notice,),
                       paragraphs=support_paragraphs(ctx),
                       links=(Link(_("Register again"), journey_path(ctx.organisation.slug, "registration")),)))


def _send_code(ctx: Context, run: Run, account: Account) -> Notice | None:
    """A code by text message to the account's mobile; a notice when the member must wait instead."""
    rule = ctx.policy.login.second_factor.code
    sent_at = run.state.get("code_sent_at")
    if sent_at:
        waited = (ctx.now - datetime.fromisoformat(sent_at)).total_seconds()
        if waited < rule.resend_cooldown.total_seconds():
            return Notice.of("code.wait", "warning", seconds=int(rule.resend_cooldown.total_seconds() - waited))
    if not ratelimit.hit(f"registration:update_sms:{account.pk}", limit=rule.max_sends, window=SMS_WINDOW,
                         now=ctx.now).allowed:
        return Notice.of("code.too_many_sends", "error")
    issued = codes.issue(ctx, run, purpose=actions.SMS_CODE_PURPOSE, rule=rule, account=account, channel="sms")
    actions.send_update_code(account, code=issued.secret, email=_email(run), ip=ctx.ip,
                             minutes=int(rule.lifetime.total_seconds() // 60))
    run.state["code_sent_at"] = ctx.now.isoformat()
    return None


class UpdateProof(Step):
    """The owner's mobile is on the account: the member asks for the code (opening the link sends nothing)."""

    name = "update_proof"

    def applies(self, ctx: Context, run: Run) -> bool:
        return False   # reached only from the emailed link

    def screen(self, ctx: Context, run: Run) -> Screen:
        return Screen(title=_("Update my account"),
                      notices=(Notice.of("registration.update_intro_sms", email=_email(run)),),
                      actions=(Action("send_code", _("Receive the code")),))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        account = _account(ctx, run)
        if not _still_open(account) or actions.proof_for(account) != "sms":
            return Done(dead_link(ctx, secrets.Check.MISSING))
        waiting = _send_code(ctx, run, account)
        return Stay((waiting,)) if waiting is not None else Goto("update_account")


class UpdateAccount(Step):
    name = "update_account"

    def applies(self, ctx: Context, run: Run) -> bool:
        return False   # reached only from the emailed link

    def screen(self, ctx: Context, run: Run) -> Screen:
        by_text = run.state.get("proof") == "sms"
        rule = ctx.policy.login.second_factor.code
        proof = (Notice.of("registration.update_code_sms", minutes=int(rule.lifetime.total_seconds() // 60))
                 if by_text else Notice.of("registration.update_code_letter"))
        return Screen(title=_("Update my account"),
                      notices=(Notice.of("registration.update_intro", email=_email(run)), proof),
                      fields=(Field("code", "code", _("Confirmation code"), length=rule.length,
                                    autocomplete="one-time-code"),
                              *passwords.fields(ctx, _("Your new password"))),
                      actions=(Action("update", _("Update my account")),
                               *((Action("resend", _("Send a new code"), skip_validation=True),) if by_text else ())))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        account = _account(ctx, run)
        email, member = _email(run), account.member
        if action == "resend":
            if not _still_open(account) or actions.proof_for(account) != "sms":
                return Done(dead_link(ctx, secrets.Check.MISSING))
            waiting = _send_code(ctx, run, account)
            return Stay((waiting or Notice.of("code.resent", "success"),))
        weak = passwords.problems(ctx, data, user_inputs=[email, account.identifier, *(
            (member.first_name, member.last_name, member.member_number) if member else ())])
        if weak is not None:
            return weak   # before the code: a weak password does not spend it
        refused = self._owner_agreed(ctx, run, account, email, data["code"])
        if refused is not None:
            return refused
        used = secrets.use(run.state["challenge"], now=ctx.now)
        if not used.ok:
            return Done(dead_link(ctx, used.check))
        if not actions.give_email_and_password(account, email=email, password=data[passwords.NEW], now=ctx.now,
                                               ip=ctx.ip):
            return Done(dead_link(ctx, secrets.Check.MISSING))
        # The address was proven, as by a recovery link: guesses made before no longer matter.
        lockout.clear_account(ctx.organisation, account)
        actions.notify_password_changed(account, now=ctx.now, language=ctx.language)
        return Done(Screen(title=_("Your account is updated"),
                           notices=(Notice.of("registration.account_updated", "success"),),
                           links=(Link(_("Sign in"), journey_path(ctx.organisation.slug, "login")),)))

    @staticmethod
    def _owner_agreed(ctx: Context, run: Run, account: Account, email: str, code: str) -> Stay | Done | None:
        """None when the code the owner received (by text message, or in the letter for this address) is right."""
        channel = run.state["proof"]
        if channel == "sms":
            result = secrets.check_code(scope=str(run.pk), purpose=actions.SMS_CODE_PURPOSE, code=code, now=ctx.now)
        else:
            result = actions.check_letter_code(account, email=email, code=code, now=ctx.now)
        if result.ok:
            return None
        actions.record_update_code_refused(account, channel=channel, check=result.check.value, ip=ctx.ip)
        if result.check is Check.WRONG:
            return Stay(field_errors={"code": (Notice.of("code.wrong", "error", remaining=result.remaining),)})
        if result.check is Check.EXHAUSTED:
            return _ended(ctx, run, Notice.of("registration.update_code_exhausted", "error"))
        if channel == "sms":   # a new text message can be asked on the same page
            missing = "code.expired" if result.check is Check.EXPIRED else "code.missing"
            return Stay(field_errors={"code": (Notice.of(missing, "error"),)})
        return _ended(ctx, run, Notice.of("registration.update_letter_dead", "error"))
