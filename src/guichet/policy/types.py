"""Value types used by policy files: bilingual text, durations, colours."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, WithJsonSchema

LANGUAGES = ("fr", "en")


class Refusal(ValueError):
    """A policy validator's refusal, kept as an English template and its values, so that a layer with
    translations (the `organisations` command) can say it in the operator's language. The templates are the
    msgids of src/guichet/organisations/locale (TEMPLATES lists them; a test checks each one is translated)."""

    def __init__(self, template: str, **params: object):
        self.template, self.params = template, params
        super().__init__(template % params if params else template)


DURATION_FORM = "a duration is a whole number followed by s, m, h or d (for example 5m, 2h, 30d)"
DURATION_FORM_NOT = "a duration is a whole number followed by s, m, h or d (for example 5m, 2h, 30d), not %(value)s"
DURATION_POSITIVE = "a duration must be more than 0 (for example 5m, 2h, 30d)"
MAX_DURATION = "max_duration (%(longest)s) must be at least duration (%(first)s)"
SECOND_FACTOR_MEANS = "a required second factor needs at least one means: a channel (email or sms), totp or passkeys"
ONE_LINE = "must be on one line (no line break or other control character)"
ONE_ADDRESS = "must be one email address, as 'Name <noreply@example.org>' or noreply@example.org"
DUPLICATE_KEY = "the key %(key)s appears twice (first on line %(first)s)"
NOT_YAML = "is not valid YAML: %(reason)s"
TEMPLATES = (DURATION_FORM, DURATION_FORM_NOT, DURATION_POSITIVE, MAX_DURATION, SECOND_FACTOR_MEANS, ONE_LINE,
             ONE_ADDRESS, DUPLICATE_KEY, NOT_YAML)


class Strict(BaseModel):
    """Base of every policy section: unknown keys are errors (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A text shown to members, in French and English."""

    fr: str
    en: str

    def get(self, language: str) -> str:
        return self.en if language.startswith("en") else self.fr


_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_POSITIVE_DURATION = r"^\s*0*[1-9][0-9]*\s*(s|m|h|d)\s*$"  # the JSON schema's pattern: _DURATION, more than 0
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> timedelta:
    """A policy file writes a duration with its unit, `30d`: a bare number is refused, whether written `30`
    (seconds? days?) or `1:30` (which YAML 1.1 reads as the number 90). Python callers may give a timedelta."""
    if isinstance(value, timedelta):
        duration = value
    else:
        match = _DURATION.match(value) if isinstance(value, str) else None
        if not match:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                raise Refusal(DURATION_FORM_NOT, value=value)
            raise Refusal(DURATION_FORM)
        duration = timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])
    if duration <= timedelta(0):
        raise Refusal(DURATION_POSITIVE)
    return duration


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds and seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": _POSITIVE_DURATION, "examples": ["5m", "2h", "30d"]}),
]


def _colour(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        raise ValueError("a colour is written #rrggbb")
    return value.lower()


Colour = Annotated[str, BeforeValidator(_colour), WithJsonSchema({"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"})]


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.1 contrast ratio of two #rrggbb colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)
