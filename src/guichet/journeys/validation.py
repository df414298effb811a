"""Checking a submission against the fields of the screen it came from (the step's input schema)."""

from __future__ import annotations

import re
from datetime import date, datetime

from guichet.journeys.screens import Field, Notice

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")


def parse_date(text: str) -> date | None:
    for form in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), form).date()
        except ValueError:
            continue
    return None


def check(fields: tuple[Field, ...], values: dict[str, str]) -> tuple[dict[str, tuple[Notice, ...]], dict[str, str]]:
    """Returns (errors by field, cleaned values). Passwords are kept exactly as typed."""
    errors: dict[str, tuple[Notice, ...]] = {}
    cleaned: dict[str, str] = {}
    for f in fields:
        raw = values.get(f.name, "")
        value = raw if f.kind in ("password", "new_password") else raw.strip()
        problem = _problem(f, value)
        if problem:
            errors[f.name] = (problem,)
        cleaned[f.name] = _normalise(f, value)
    return errors, cleaned


def _problem(f: Field, value: str) -> Notice | None:
    if not value or (f.kind in ("checkbox", "accept") and value not in ("on", "true", "1")):
        return Notice.of("field.required", "error") if f.required else None
    if len(value) > f.max_length:
        return Notice.of("field.too_long", "error", max=f.max_length)
    if f.kind == "email" and not _EMAIL.match(value):
        return Notice.of("field.email_invalid", "error")
    if f.kind == "date" and parse_date(value) is None:
        return Notice.of("field.date_invalid", "error")
    if f.kind == "code":
        digits = value.replace(" ", "")
        if not digits.isdigit() or (f.length and len(digits) != f.length):
            return Notice.of("field.code_invalid", "error", length=f.length)
    if f.kind == "choice" and not f.open_choice and value not in {v for v, _ in f.choices}:
        return Notice.of("field.choice_invalid", "error")
    return None


def _normalise(f: Field, value: str) -> str:
    if f.kind == "code":
        return value.replace(" ", "")
    if f.kind == "date":
        parsed = parse_date(value)
        return parsed.isoformat() if parsed else value
    if f.kind in ("checkbox", "accept"):
        return "on" if value in ("on", "true", "1") else ""
    return value
