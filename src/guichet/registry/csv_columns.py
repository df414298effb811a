"""The registry CSV columns: reading the header, and turning one row into MemberRecord values.

Every check that can reject a row lives here, so that the first pass of an import (validation)
and what is finally written can never disagree. See docs/registry-csv.md for the format.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from guichet.core import phones
from guichet.core.postal import MAX_ADDRESS_LINE_LENGTH, MAX_ADDRESS_LINES
from guichet.policy.model import Organisation as Policy
from guichet.policy.model import Question
from guichet.registry.matching import (
    email_key,
    iban_suffix,
    member_number_is_valid,
    name_key,
    normalise_member_number,
    parse_amount,
    parse_birth_date,
)

PLAIN_COLUMNS = ("member_number", "first_name", "last_name", "birth_date", "email", "mobile", "landline",
                 "address", "category", "iban")
FACT_PREFIX = "fact:"
IBAN_KEPT = 10  # MemberRecord.iban_suffix's length: enough for any policy's iban_suffix_length
# The database columns each CSV column fills (an import only updates the columns its file has).
_FIELDS = {
    "member_number": ("member_number",), "first_name": ("first_name", "first_name_key"),
    "last_name": ("last_name", "last_name_key"), "birth_date": ("birth_date",),
    "email": ("email", "email_key"),
    "mobile": ("mobile",), "landline": ("landline",), "address": ("address",), "category": ("category",),
    "iban": ("iban_suffix",),
}
_FACT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_MAX_LENGTH = {"first_name": 150, "last_name": 150, "email": 254, "address": 1000, "category": 32}
MAX_FACT_LENGTH = 200  # an answer members type (an employer, an amount, a card serial): never longer
# Unicode categories never found in a name, a category, a fact or an address: control characters (line
# breaks, escape sequences) and format characters (bidi overrides, zero-width characters), plus the Unicode
# line and paragraph separators. They would hide or reorder text on screens, in logs, emails and letters.
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp"})
_OLDEST = date(1900, 1, 1)


class HeaderError(ValueError):
    """The first line of the file cannot be used: nothing is read further."""


class Rejected(ValueError):
    """One row cannot be imported; the message is the reason shown to the operator."""


@dataclass(frozen=True)
class Header:
    columns: tuple[str, ...]  # file order; fact columns keep their "fact:" prefix

    @property
    def fields(self) -> tuple[str, ...]:
        """MemberRecord fields this file sets, in a fixed order."""
        fields = [f for column in PLAIN_COLUMNS if column in self.columns for f in _FIELDS[column]]
        return (*fields, "facts") if self.facts else tuple(fields)

    @property
    def facts(self) -> tuple[str, ...]:
        return tuple(c[len(FACT_PREFIX):] for c in self.columns if c.startswith(FACT_PREFIX))


def read_header(cells: list[str]) -> Header:
    columns = [cell.strip().lower() for cell in cells]
    for column in columns:
        if column.startswith(FACT_PREFIX):
            if not _FACT_NAME.match(column[len(FACT_PREFIX):]):
                raise HeaderError(_("The column “%(column)s” is not a valid fact name: after “fact:”, use "
                                    "lower-case letters, digits and _ (for example fact:employer).")
                                  % {"column": column})
        elif column not in PLAIN_COLUMNS:
            raise HeaderError(_("Unknown column “%(column)s” in the header. Known columns: %(known)s, and "
                                "fact:<name>.")
                              % {"column": column or _("(empty)"), "known": ", ".join(PLAIN_COLUMNS)})
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise HeaderError(_("The column “%(column)s” appears more than once in the header.")
                          % {"column": repeated[0]})
    if "member_number" not in columns:
        raise HeaderError(_("The header has no “member_number” column; it is required."))
    return Header(tuple(columns))


class RowReader:
    """Turns the cells of one row into MemberRecord field values, following the organisation's policy."""

    def __init__(self, policy: Policy, header: Header):
        self.policy = policy
        self.header = header
        self.amount_facts = amount_facts(policy)
        self.categories = categories(policy)
        self.iban_minimum = policy.registration.iban_suffix_length

    def values(self, cells: list[str]) -> dict[str, Any]:
        if len(cells) != len(self.header.columns):
            raise Rejected(_("This row has %(found)d values but the header has %(expected)d columns.")
                           % {"found": len(cells), "expected": len(self.header.columns)})
        if any("\x00" in cell for cell in cells):
            raise Rejected(_("This row contains a NUL character."))
        row = dict(zip(self.header.columns, cells, strict=True))
        values: dict[str, Any] = {"member_number": self._member_number(row["member_number"])}
        for column in PLAIN_COLUMNS[1:]:
            if column in row:
                values.update(self._read(column, row[column].strip()))
        if self.header.facts:
            values["facts"] = self._facts(row)
        return values

    def _member_number(self, text: str) -> str:
        number = normalise_member_number(text)
        if not number:
            raise Rejected(_("The member number is empty."))
        if not member_number_is_valid(self.policy.member_number, number):
            if self.policy.member_number.kind == "finess":
                raise Rejected(_("“%(number)s” is not a valid FINESS number (9 characters, the last one "
                                 "a check digit).") % {"number": number})
            raise Rejected(_("“%(number)s” does not have the format of this organisation's member numbers.")
                           % {"number": number})
        return number

    def _read(self, column: str, text: str) -> dict[str, Any]:
        if column in _MAX_LENGTH and len(text) > _MAX_LENGTH[column]:
            raise Rejected(_("The value in column %(column)s is longer than %(length)d characters.")
                           % {"column": column, "length": _MAX_LENGTH[column]})
        _check_visible(column, text, allowed="\r\n" if column == "address" else "")
        if column in ("first_name", "last_name"):
            return self._name(column, text)
        if column == "birth_date":
            return {"birth_date": self._birth_date(text) if text else None}
        if column == "email":
            return {"email": self._email(text), "email_key": email_key(text)}
        if column in ("mobile", "landline"):
            return {column: phone_number(text, mobile=column == "mobile") if text else ""}
        if column == "address":
            return {"address": self._address(text)}
        if column == "category":
            return {"category": self._category(text)}
        return {"iban_suffix": self._iban(text)}

    def _name(self, column: str, text: str) -> dict[str, Any]:
        key = name_key(text)
        if text and not any(c.isalpha() for c in key):
            raise Rejected(_("The value “%(name)s” in column %(column)s has no letters.")
                           % {"column": column, "name": text})
        return {column: text, f"{column}_key": key}

    def _birth_date(self, text: str) -> date:
        try:
            born = parse_birth_date(text)
        except ValueError:
            raise Rejected(_("The birth date “%(text)s” is not a date written YYYY-MM-DD or DD/MM/YYYY.")
                           % {"text": text}) from None
        if not _OLDEST <= born <= date.today():
            raise Rejected(_("The birth date “%(text)s” is in the future or before 1900.") % {"text": text})
        return born

    def _email(self, text: str) -> str:
        if text:
            try:
                validate_email(text)
            except ValidationError:
                raise Rejected(_("“%(text)s” is not a valid email address.") % {"text": text}) from None
        return text

    def _address(self, text: str) -> str:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        most = MAX_ADDRESS_LINES - 1   # the member's name is the letter's first line
        if len(lines) > most:
            raise Rejected(_("The address has %(count)d lines; a letter takes at most %(most)d besides the "
                             "name.") % {"count": len(lines), "most": most})
        for line in lines:
            if len(line) > MAX_ADDRESS_LINE_LENGTH:
                raise Rejected(_("The address line “%(line)s” is longer than %(length)d characters, the most "
                                 "a letter's address line may have.")
                               % {"line": line, "length": MAX_ADDRESS_LINE_LENGTH})
        return "\n".join(lines)

    def _category(self, text: str) -> str:
        category = text.lower()
        if category and self.categories is not None and category not in self.categories:
            raise Rejected(_("Unknown category “%(text)s”; this organisation's categories are: %(known)s.")
                           % {"text": text, "known": ", ".join(sorted(self.categories))})
        return category

    def _iban(self, text: str) -> str:
        compact = "".join(text.split()).upper()
        if not compact:
            return ""
        if not compact.isalnum():
            raise Rejected(_("The IBAN may only hold letters, digits and spaces."))
        # A full IBAN (country letters and check digits first) is verified; registries that only
        # export the last characters are accepted as they are.
        if len(compact) >= 15 and compact[:2].isalpha() and compact[2:4].isdigit():
            try:
                IBAN(compact)
            except SchwiftyException:
                raise Rejected(_("The IBAN is not valid (wrong length or check digits).")) from None
        elif len(compact) < self.iban_minimum:
            raise Rejected(_("The IBAN has fewer than the %(length)d last characters members are asked for.")
                           % {"length": self.iban_minimum})
        return iban_suffix(compact, IBAN_KEPT)

    def _facts(self, row: dict[str, str]) -> dict[str, str]:
        facts = {}
        for name in self.header.facts:
            text = row[FACT_PREFIX + name].strip()
            if not text:
                continue  # an empty cell means the registry does not know this fact
            if len(text) > MAX_FACT_LENGTH:
                raise Rejected(_("The value in column %(column)s is longer than %(length)d characters.")
                               % {"column": FACT_PREFIX + name, "length": MAX_FACT_LENGTH})
            _check_visible(FACT_PREFIX + name, text)
            if name in self.amount_facts:
                try:
                    text = str(parse_amount(text))
                except ValueError:
                    raise Rejected(_("The value “%(text)s” in column fact:%(fact)s is not an amount.")
                                   % {"fact": name, "text": text}) from None
            facts[name] = text
        return facts


def _check_visible(column: str, text: str, allowed: str = "") -> None:
    for character in text:
        if unicodedata.category(character) in _INVISIBLE and character not in allowed:
            raise Rejected(_("The value in column %(column)s contains an invisible or control character "
                             "(%(code)s): line break, tab, escape or text direction mark.")
                           % {"column": column, "code": f"U+{ord(character):04X}"})


def phone_number(text: str, *, mobile: bool) -> str:
    """A French (overseas included) or international phone number in E.164 form; Rejected otherwise."""
    number = phones.parse(text)
    if number is None:
        raise Rejected(_("“%(text)s” is not a valid phone number.") % {"text": text})
    if mobile and not phones.is_mobile(number):
        raise Rejected(_("“%(text)s” is not a mobile phone number: text messages cannot reach it.")
                       % {"text": text})
    return phones.e164(number)


def amount_facts(policy: Policy) -> frozenset[str]:
    """Facts the policy asks about as amounts: stored normalised ("1234.56") so typed amounts compare."""
    return frozenset(q.fact for q in questions(policy) if q.answer == "amount")


def questions(policy: Policy) -> list[Question]:
    """Every security question the policy may ask, registration and never-connected recovery alike."""
    found = list(policy.registration.questions)
    if policy.recovery.never_connected is not None:
        for by_category in policy.recovery.never_connected.questions_by_category.values():
            found.extend(by_category)
    return found


def categories(policy: Policy) -> frozenset[str] | None:
    """The registry categories the policy knows, or None when it does not use categories."""
    if policy.recovery.never_connected is None:
        return None
    return frozenset(policy.recovery.never_connected.questions_by_category)
