"""What a step shows (Screen) and how a journey ends (Outcome): plain data, rendered as HTML or JSON.

A Screen's fields are also the step's input schema: the engine checks submissions against them
before the step sees the data, so validation is written once for both renderers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from guichet.core.messages import text

FieldKind = Literal["text", "email", "password", "new_password", "code", "date", "tel", "checkbox", "choice",
                    "accept", "captcha", "passkey"]
Level = Literal["error", "info", "success", "warning"]


@dataclass(frozen=True)
class Notice:
    code: str
    text: str
    level: Level = "info"
    params: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, code: str, level: Level = "info", **params: Any) -> Notice:
        return cls(code, text(code, **params), level, tuple(params.items()))

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "text": self.text, "level": self.level}


@dataclass(frozen=True)
class Field:
    name: str
    kind: FieldKind
    label: str
    required: bool = True
    value: str = ""
    hint: str = ""
    autocomplete: str = ""
    max_length: int = 254
    length: int = 0                            # exact length, for codes
    choices: tuple[tuple[str, str], ...] = ()  # (value, label)
    open_choice: bool = False                  # a choice that also accepts a typed answer
    errors: tuple[Notice, ...] = ()
    checks: tuple[tuple[str, str], ...] = ()   # (code, text) rules shown beside a new password
    options: str = ""                          # passkey: WebAuthn options JSON for the browser (no secret)

    @property
    def typed_value(self) -> str:
        """An open choice's value when the member typed it rather than picking one of the choices."""
        return self.value if self.open_choice and self.value not in {v for v, _ in self.choices} else ""

    def to_json(self) -> dict[str, Any]:
        data = {"name": self.name, "kind": self.kind, "label": self.label, "required": self.required,
                "value": "" if self.kind in ("password", "new_password") else self.value, "hint": self.hint,
                "errors": [{"code": e.code, "text": e.text} for e in self.errors]}
        if self.choices:
            data["choices"] = [{"value": v, "label": label} for v, label in self.choices]
            data["open_choice"] = self.open_choice
        if self.length:
            data["length"] = self.length
        if self.checks:
            data["checks"] = [{"code": c, "text": t} for c, t in self.checks]
        if self.options:
            import json

            data["options"] = json.loads(self.options)
        return data


@dataclass(frozen=True)
class Action:
    """A submit button. The first action is the main one; `skip_validation` is for resend, cancel..."""

    name: str
    label: str
    skip_validation: bool = False


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Screen:
    title: str
    fields: tuple[Field, ...] = ()
    actions: tuple[Action, ...] = ()
    notices: tuple[Notice, ...] = ()
    paragraphs: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    details: tuple[tuple[str, str], ...] = ()   # (summary, text) disclosures, e.g. a usage policy

    def with_errors(self, notices: tuple[Notice, ...], field_errors: dict[str, tuple[Notice, ...]],
                    values: dict[str, str]) -> Screen:
        secret_kinds = ("password", "new_password", "code", "passkey")   # never sent back to the page
        fields = tuple(
            _replace(f, errors=field_errors.get(f.name, ()),
                     value=values.get(f.name, f.value) if f.kind not in secret_kinds else "")
            for f in self.fields
        )
        return _replace(self, fields=fields, notices=notices + self.notices)


def _replace(obj: Any, **changes: Any) -> Any:
    from dataclasses import replace

    return replace(obj, **changes)


# Outcomes: how a journey ends. The renderers turn them into a signed-in session, a redirect or a page.

@dataclass(frozen=True)
class SignedIn:
    account_id: Any
    method: str
    remember_device_days: int = 0
    # The account itself when the journey read it during this request (so the session opens without
    # reading it again); None otherwise.
    account: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Done:
    """The journey is over; this screen says so (a confirmation)."""

    screen: Screen


@dataclass(frozen=True)
class Redirect:
    url: str


Outcome = SignedIn | Done | Redirect


@dataclass(frozen=True)
class Goto:
    step: str


@dataclass(frozen=True)
class Stay:
    notices: tuple[Notice, ...] = ()
    field_errors: dict[str, tuple[Notice, ...]] = field(default_factory=dict)
    restart: bool = False   # the run is over; the member must start the journey again


@dataclass(frozen=True)
class Next:
    """Go to the next step of the journey that applies; after the last one, the journey finishes."""

    notices: tuple[Notice, ...] = ()


Transition = Goto | Next | Stay | SignedIn | Done | Redirect
