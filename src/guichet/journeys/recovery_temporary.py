"""Recovery by a temporary password (style `code_then_temporary_password`, farm guide).

After the identifier, the member picks email or text message. A member who signed in before gets a
code there, then the temporary password on the same channel. One who never signed in answers a
security question drawn from the registry: right, the temporary password comes on the chosen
channel; wrong (or no question for their category), it comes by post, announced by SMS or email, unless
a letter went out less than `recovery.never_connected.letter_every` ago (then nothing changes). A right
code or answer also clears the sign-in lock-out; a letter does not (a stranger can cause one).

An unknown identifier, or a channel the account cannot receive, goes to the code step like everybody
else: a code is issued there (so attempts, expiry and resends behave the same) but sent nowhere.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from guichet.challenges import secrets
from guichet.channels import outbox
from guichet.identities import actions
from guichet.identities.models import Account
from guichet.journeys import codes
from guichet.journeys.engine import Context, Step
from guichet.journeys.models import Run
from guichet.journeys.paths import journey_path
from guichet.journeys.recovery_common import (
    PURPOSE,
    account_of,
    temporary_password_by,
    temporary_password_by_post,
)
from guichet.journeys.screens import Action, Field, Goto, Notice, Redirect, Screen, Stay, Transition
from guichet.policy.model import Question
from guichet.registry.matching import name_key, names_match, parse_amount
from guichet.security import ratelimit

# Codes sent to one account (or one unknown identifier) across runs: each run has its own cap
# (recovery.code.max_sends), but five runs an hour would otherwise mean 25 text messages an hour.
SENDS_WINDOW = timedelta(hours=1)


def sends_key(ctx: Context, account: Account | None, typed: str) -> str:
    """Whom the codes of a run are counted against: the account, else what was typed (an unknown identifier
    is counted the same way, so the cap does not tell who is a member). Only a keyed hash of it is kept."""
    if account is not None:
        return str(account.pk)
    return ratelimit.key_hash(f"recovery:unknown:{ctx.organisation.pk}:{typed}")


def _may_send(ctx: Context, run: Run) -> bool:
    """Counts one code sent (or issued and sent nowhere) against the account, across runs."""
    counted = run.state.get("sends") or run.state.get("account") or f"run:{run.pk}"   # runs begun before the cap
    return ratelimit.hit(f"recovery:send:{counted}", limit=ctx.policy.recovery.code.max_sends,
                         window=SENDS_WINDOW, now=ctx.now).allowed


def _address(account: Account | None, channel: str) -> str:
    if account is None:
        return ""
    return account.email if channel == "email" else account.mobile


def question_for(ctx: Context, account: Account) -> Question | None:
    """The first question of the member's registry category whose answer is on their record."""
    rule = ctx.policy.recovery.never_connected
    record = account.member
    # A record the registry no longer holds proves nothing (registry.retirement): no question, so the letter
    # path, which refuses its address too.
    if rule is None or record is None or not record.in_registry:
        return None
    facts = record.facts or {}
    return next((q for q in rule.questions_by_category.get(record.category, [])
                 if str(facts.get(q.fact, "")).strip()), None)


def answer_is_right(question: Question, expected: object, typed: str) -> bool:
    if question.answer == "amount":
        try:
            return parse_amount(typed) == parse_amount(str(expected))
        except ValueError:
            return False
    return names_match(typed, name_key(str(expected)))


class ChooseChannel(Step):
    name = "channel"

    def applies(self, ctx: Context, run: Run) -> bool:
        return ctx.policy.recovery.style == "code_then_temporary_password" and bool(run.state.get("asked"))

    def screen(self, ctx: Context, run: Run) -> Screen:
        labels = {"email": _("by email"), "sms": _("by text message")}
        channels = ctx.policy.recovery.channels
        return Screen(
            title=_("Request a new password"),
            fields=(Field("channel", "choice", _("How do you want to receive your temporary password?"),
                          choices=tuple((c, labels[c]) for c in channels), value=channels[0]),),
            actions=(Action("next", _("Next")), Action("abandon", _("Cancel"), skip_validation=True)))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        if action == "abandon":
            return Redirect(journey_path(ctx.organisation.slug, "login"))
        channel = data["channel"]
        run.state["channel"] = channel
        account = account_of(run)
        # A member who never signed in is asked a question (or sent a letter) whatever the channel: their
        # contact details come from the registry, unconfirmed, and for those with neither an email nor a mobile
        # the letter is the only way back ("Cas n°2" of the farm guide). Everybody else gets the code screen,
        # even for a channel the account cannot receive (then the code goes nowhere: no enumeration).
        if account is None or account.has_signed_in or ctx.policy.recovery.never_connected is None:
            if not _may_send(ctx, run):
                return Stay((Notice.of("code.too_many_sends", "error"),), restart=True)
            return Goto("code")
        question = question_for(ctx, account)
        if question is None:   # e.g. a third party: nothing to ask, so the post
            actions.record_recovery(ctx.organisation, account=account, ip=ctx.ip, event="no_question")
            return temporary_password_by_post(ctx, account, channel)
        run.state["fact"] = question.fact
        return Goto("question")


class RecoveryCode(Step):
    name = "code"

    def applies(self, ctx: Context, run: Run) -> bool:
        return False   # reached only from the channel step

    def _send(self, ctx: Context, run: Run) -> Notice:
        rule, channel = ctx.policy.recovery.code, run.state["channel"]
        account = account_of(run)
        address = _address(account, channel)
        issued = codes.issue(ctx, run, purpose=PURPOSE, rule=rule, account=account if address else None,
                             channel=channel)
        minutes = int(rule.lifetime.total_seconds() // 60)
        if account is not None and address:
            send = outbox.send_sms if channel == "sms" else outbox.send_email
            send(ctx.organisation, to=address, template="login_code", context={"code": issued.secret,
                 "minutes": minutes}, language=ctx.language, account_id=account.pk)
            actions.record_recovery(ctx.organisation, account=account, ip=ctx.ip, event="code_sent", channel=channel)
        run.state[f"code_sent_at:{PURPOSE}"] = ctx.now.isoformat()
        return Notice.of(f"recovery.code_sent_{channel}", "info", minutes=minutes)

    def enter(self, ctx: Context, run: Run) -> tuple[Notice, ...]:
        return (self._send(ctx, run),)

    def screen(self, ctx: Context, run: Run) -> Screen:
        return Screen(title=_("Request a new password"),
                      fields=(Field("code", "code", _("Type the confirmation code"),
                                    length=ctx.policy.recovery.code.length, autocomplete="one-time-code"),),
                      actions=(Action("verify", _("Confirm")), Action("resend", _("Send a new code"), True)))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        if action == "resend":
            return self._resend(ctx, run)
        problem = codes.check(ctx, run, purpose=PURPOSE, code=data["code"])
        account = account_of(run)
        if problem is not None:
            return problem
        assert account is not None   # a code only ever reaches a real account
        return temporary_password_by(ctx, account, run.state["channel"])

    def _resend(self, ctx: Context, run: Run) -> Stay:
        """codes.resend's rules (cool-down, most sends), for real and unsent codes alike."""
        rule = ctx.policy.recovery.code
        waited = (ctx.now - datetime.fromisoformat(run.state[f"code_sent_at:{PURPOSE}"])).total_seconds()
        if waited < rule.resend_cooldown.total_seconds():
            return Stay((Notice.of("code.wait", "warning",
                                   seconds=int(rule.resend_cooldown.total_seconds() - waited)),))
        if secrets.sends(str(run.pk), PURPOSE) >= rule.max_sends or not _may_send(ctx, run):
            return Stay((Notice.of("code.too_many_sends", "error"),), restart=True)
        self._send(ctx, run)
        return Stay((Notice.of("code.resent", "success"),))


class SecurityQuestion(Step):
    name = "question"

    def applies(self, ctx: Context, run: Run) -> bool:
        return False   # reached only from the channel step

    def _question(self, ctx: Context, run: Run) -> Question:
        account = account_of(run)
        assert account is not None
        question = question_for(ctx, account)
        assert question is not None and question.fact == run.state["fact"]
        return question

    def screen(self, ctx: Context, run: Run) -> Screen:
        question = self._question(ctx, run)
        hint = _("For example: 1 234,56") if question.answer == "amount" else ""
        return Screen(title=_("Security question"),
                      paragraphs=(_("For your security, answer this question. We compare your answer with "
                                    "our records."),),
                      fields=(Field("answer", "text", question.label.get(ctx.language), hint=hint,
                                    autocomplete="off", max_length=100),),
                      actions=(Action("next", _("Next")),))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        account = account_of(run)
        assert account is not None and account.member is not None
        question = self._question(ctx, run)
        right = answer_is_right(question, account.member.facts.get(question.fact), data["answer"])
        actions.record_recovery(ctx.organisation, account=account, ip=ctx.ip, event="question_answered",
                                right=right, fact=question.fact)
        # One try: a wrong answer sends the password to the registry's address, where only the member reads it;
        # so does a right one when the channel chosen has no address on the account.
        if right and _address(account, run.state["channel"]):
            return temporary_password_by(ctx, account, run.state["channel"])
        return temporary_password_by_post(ctx, account, run.state["channel"])
