"""Registration, after the registry matched: security questions answered from the member's record, then
the usage policy.

Questions are shown one a screen, "[1 / 2] Question", as in the pension fund's guide. Which questions,
and the decoys offered beside the true answer of a "select" question, are drawn with a seed keyed by
the member record (and the server's secret): restarting shows exactly the same screen. Were they drawn
afresh per attempt, an attacker could restart and keep the one answer present in every list.

Wrong answers count per run and per member record (a rate-limit counter over a day): starting again
does not buy more tries.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from datetime import timedelta
from decimal import Decimal
from typing import TypedDict

from django.conf import settings
from django.utils.translation import gettext as _

from guichet.identities import actions
from guichet.journeys.engine import Context, Step
from guichet.journeys.models import Run
from guichet.journeys.screens import Action, Field, Next, Notice, Screen, Stay, Transition
from guichet.policy.model import Question
from guichet.registry.matching import name_key, parse_amount
from guichet.registry.models import MemberRecord
from guichet.security import ratelimit

RECORD_WINDOW = timedelta(days=1)
DECOYS = 4            # a "select" question shows the true answer among 5
DECOY_POOL = 2000     # records read to find decoys: enough variety without reading a whole registry


def member_of(ctx: Context, run: Run) -> MemberRecord:
    return MemberRecord.objects.get(pk=run.state["member"], organisation=ctx.organisation)


def _seeded(member: MemberRecord, purpose: str) -> random.Random:
    key = hmac.new(settings.SECRET_KEY.encode(), f"registration:{member.pk}:{purpose}".encode(), hashlib.sha256)
    return random.Random(key.hexdigest())


def _fact(member: MemberRecord, question: Question) -> str:
    return str(member.facts.get(question.fact) or "").strip()


def askable(ctx: Context, member: MemberRecord) -> list[Question]:
    """The questions this member will be asked: those whose answer the record holds, in policy order."""
    rule = ctx.policy.registration
    known = [q for q in rule.questions if _fact(member, q)]
    chosen = _seeded(member, "questions").sample(known, min(rule.questions_asked, len(known)))
    return [q for q in known if q in chosen]


def _choices(ctx: Context, member: MemberRecord, question: Question) -> list[str]:
    truth = _fact(member, question)
    others = (MemberRecord.objects.in_registry().filter(organisation=ctx.organisation).exclude(pk=member.pk)
              .order_by("pk")
              .values_list(f"facts__{question.fact}", flat=True)[:DECOY_POOL])
    pool: dict[str, str] = {}
    for value in others:
        text = str(value or "").strip()
        if text and name_key(text) != name_key(truth):
            pool.setdefault(name_key(text), text)
    rng = _seeded(member, f"decoys:{question.fact}")
    choices = rng.sample(sorted(pool.values()), min(DECOYS, len(pool))) + [truth]
    rng.shuffle(choices)
    return choices


def _is_right(question: Question, typed: str, truth: str) -> bool | None:
    """Whether the answer is right; None when it cannot be read (an amount that is not one)."""
    if question.answer == "amount":
        try:
            return parse_amount(typed) == Decimal(parse_amount(truth))
        except ValueError:
            return None
    key = name_key(typed)
    return bool(key) and hmac.compare_digest(key.encode(), name_key(truth).encode())


class _Asked(TypedDict):
    """One question chosen for this run, as kept in run.state["questions"]."""

    fact: str
    choices: list[str]


class Questions(Step):
    name = "questions"

    def applies(self, ctx: Context, run: Run) -> bool:
        rule = ctx.policy.registration
        return bool(rule.questions) and rule.questions_asked > 0

    def enter(self, ctx: Context, run: Run) -> tuple[Notice, ...]:
        member = member_of(ctx, run)
        run.state["questions"] = [
            _Asked(fact=q.fact, choices=_choices(ctx, member, q) if q.answer == "select" else [])
            for q in askable(ctx, member)]
        run.state.update(answered=0, wrong_answers=0)
        return ()

    def _question(self, ctx: Context, run: Run) -> tuple[Question, _Asked, int]:
        index = run.state["answered"]
        asked = run.state["questions"][index]
        question = next(q for q in ctx.policy.registration.questions if q.fact == asked["fact"])
        return question, asked, index

    def screen(self, ctx: Context, run: Run) -> Screen:
        question, asked, index = self._question(ctx, run)
        label = f"[{index + 1} / {len(run.state['questions'])}] {question.label.get(ctx.language)}"
        name = f"answer_{index + 1}"
        if question.answer == "select":
            choices = tuple((c, c) for c in asked["choices"])
            field = Field(name, "choice", label, choices=choices, open_choice=True, max_length=200,
                          hint=_("Choose the answer in the list, or type it."), autocomplete="off")
        elif question.answer == "amount":
            field = Field(name, "text", label, max_length=40, autocomplete="off", hint=_("For example 1 234,56"))
        else:
            field = Field(name, "text", label, max_length=200, autocomplete="off")
        return Screen(title=_("Security questions"), notices=(Notice.of("registration.questions_intro"),),
                      fields=(field,), actions=(Action("answer", _("Submit")),))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        member = member_of(ctx, run)
        question, _asked, index = self._question(ctx, run)
        name = f"answer_{index + 1}"
        rule = ctx.policy.registration
        key = f"registration:questions:{member.pk}"
        if ratelimit.peek(key, RECORD_WINDOW, now=ctx.now) >= rule.question_attempts:
            return _give_up(ctx, member)
        right = _is_right(question, data[name], _fact(member, question))
        if right is None:
            return Stay(field_errors={name: (Notice.of("registration.amount_invalid", "error"),)})
        if right:
            run.state["answered"] = index + 1
            return Next() if index + 1 == len(run.state["questions"]) else Stay()
        run.state["wrong_answers"] += 1
        counted = ratelimit.hit(key, limit=rule.question_attempts, window=RECORD_WINDOW, now=ctx.now)
        remaining = min(rule.question_attempts - run.state["wrong_answers"], rule.question_attempts - counted.count)
        if remaining <= 0:
            return _give_up(ctx, member)
        return Stay(field_errors={name: (Notice.of("registration.answer_wrong", "error", remaining=remaining),)})


def _give_up(ctx: Context, member: MemberRecord) -> Stay:
    actions.record_registration_failure(ctx.organisation, ip=ctx.ip, reason="questions", member_id=member.pk)
    return Stay((Notice.of("registration.questions_failed", "error"),), restart=True)


class UsagePolicy(Step):
    name = "usage_policy"

    def applies(self, ctx: Context, run: Run) -> bool:
        return ctx.policy.registration.usage_policy is not None

    def screen(self, ctx: Context, run: Run) -> Screen:
        policy = ctx.policy.registration.usage_policy
        assert policy is not None
        title = policy.title.get(ctx.language)
        return Screen(title=title, notices=(Notice.of("registration.policy_intro"),),
                      details=((title, policy.text.get(ctx.language)),),
                      fields=(Field("accept", "accept", _("I have read and accept the usage policy")),),
                      actions=(Action("accept", _("Accept and create my account")),))

    def submit(self, ctx: Context, run: Run, data: dict[str, str], action: str) -> Transition:
        policy = ctx.policy.registration.usage_policy
        assert policy is not None and data["accept"] == "on"   # the engine refused the form otherwise
        run.state.update(policy_version=policy.version, policy_accepted_at=ctx.now.isoformat())
        return Next()
