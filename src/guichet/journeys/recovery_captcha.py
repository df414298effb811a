"""The anti-robot check of the recovery form (policy `recovery.captcha`), built on security.captcha.

One field answers both ways: with JavaScript, web/static/guichet/captcha.js solves an ALTCHA proof of
work (fetched from /api/o/<slug>/captcha) and puts the payload in the field; without it, the member
answers the question in the field's label ("Write the number forty-two in digits").

The text question's signed token is kept in the run's state rather than in a hidden field: it is not
a credential (it holds a nonce and a keyed digest of the answer), and kept server-side it cannot be
swapped for an easier one. Every answer spends the question, right or wrong.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from guichet.journeys.engine import Context
from guichet.journeys.models import Run
from guichet.journeys.screens import Field
from guichet.security import captcha

NAME = "captcha"
# Longer than any typed answer ("quatre-vingt-dix-neuf" is 21 characters): an ALTCHA payload.
_PAYLOAD_MIN = 64


def new_question(ctx: Context, run: Run) -> None:
    question, token = captcha.text_challenge(ctx.language, now=ctx.now)
    run.state["captcha_question"], run.state["captcha_token"] = question, token


def field(run: Run) -> Field:
    return Field(NAME, "captcha", run.state.get("captcha_question", ""), autocomplete="off",
                 max_length=captcha.MAX_PAYLOAD,
                 hint=_("This check keeps robots away. If JavaScript is on, it is done for you."))


def passed(ctx: Context, run: Run, answer: str) -> bool:
    token = run.state.get("captcha_token", "")
    new_question(ctx, run)   # whatever the answer, the next try gets a new question
    if len(answer) >= _PAYLOAD_MIN:
        return captcha.verify(answer)
    return bool(token) and captcha.verify_text_challenge(token, answer, now=ctx.now)
