"""Choosing a new password inside any journey: the same two fields, checklist and rules everywhere.

The checklist shown beside the field, the live gauge (web/static/guichet/password.js, which asks
/api/o/<slug>/password-check) and the check on submit all call security.passwords.evaluate.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _

from guichet.journeys.engine import Context
from guichet.journeys.screens import Field, Notice, Stay
from guichet.security.passwords import CLASSES, describe, evaluate

NEW, CONFIRM = "new_password", "confirm_password"


def fields(ctx: Context, label: str = "") -> tuple[Field, Field]:
    rules = ctx.policy.password
    blank = evaluate("", rules)
    checks: list[tuple[str, str]] = []
    for code, _passed in blank.checks:
        checks.append((code, describe(code, rules)))
        if code == CLASSES:   # "at least 3 of the following:" then the four kinds, as the guide shows
            checks.extend((kind, describe(kind, rules)) for kind, _has in blank.classes)
    return (
        Field(NEW, "new_password", label or _("New password"), autocomplete="new-password",
              max_length=1024, checks=tuple(checks)),
        Field(CONFIRM, "new_password", _("Confirm the new password"), autocomplete="new-password", max_length=1024),
    )


def problems(ctx: Context, data: dict[str, str], user_inputs: Sequence[str] = ()) -> Stay | None:
    """None when the new password is acceptable and typed the same twice."""
    rules = ctx.policy.password
    evaluation = evaluate(data[NEW], rules, user_inputs=[u for u in user_inputs if u])
    if not evaluation.acceptable:
        return Stay(field_errors={NEW: tuple(Notice(code, describe(code, rules), "error")
                                             for code in evaluation.problems)})
    if data[NEW] != data[CONFIRM]:
        return Stay(field_errors={CONFIRM: (Notice.of("password.mismatch", "error"),)})
    return None
