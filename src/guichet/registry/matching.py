"""Tolerant matching of what members type against registry records.

Members are often older and type names, dates and amounts the way they learned to write them:
"D'Arcy" or "darcy", "Hélène" or "HELENE", "1 234,56 €". Every comparison goes through the
normalisers below, used both when records are imported and when a member types an answer, so the
two sides always agree.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

from guichet.policy.model import Identifier

# Separators people write or leave out at will: hyphen, apostrophes (straight, typographic, modifier), dot.
_IGNORED = frozenset("-‐‑–'’ʼ`´.")
# Ligatures NFKD leaves alone but French speakers type as two letters ("Lætitia", "Œuvray").
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})


def name_key(text: str) -> str:
    """Fold a name for comparison: case, accents, ligatures, hyphens, apostrophes, dots and spaces."""
    # Decompose before and after casefold: casefold can produce letters with a compatibility form
    # (and the reverse), and the key must be stable when computed again from itself.
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    letters = "".join(c for c in folded if not unicodedata.combining(c)).translate(_LIGATURES)
    return "".join(c for c in letters if c not in _IGNORED and not c.isspace())


def names_match(typed: str, record_key: str) -> bool:
    """Whether a typed name matches a stored name key, in constant time (no timing hint)."""
    key = name_key(typed)
    # An empty name never matches, even an empty key: a blank record must not open an account.
    return bool(key) and bool(record_key) and hmac.compare_digest(key.encode(), record_key.encode())


def email_key(email: str) -> str:
    return email.strip().lower()


def finess_check_digit(payload: str) -> str:
    """The Luhn check digit of the first 8 characters of a FINESS number.

    Corsica's departments 2A and 2B are read as 20 (their number before the 1976 split), the usual
    convention since Luhn works on digits only.
    """
    digits = payload[:2].upper().replace("2A", "20").replace("2B", "20") + payload[2:]
    if len(digits) != 8 or not digits.isdigit():
        raise ValueError("a FINESS payload is 8 characters: 2 for the department, then 6 digits")
    total = 0
    # Luhn: from the right, every other digit starting with the rightmost payload digit is doubled.
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


_FINESS = re.compile(r"^(?:[0-9]{2}|2[AB])[0-9]{7}$")


def finess_is_valid(number: str) -> bool:
    number = number.strip().upper()
    return bool(_FINESS.match(number)) and finess_check_digit(number[:8]) == number[8]


def normalise_member_number(value: str) -> str:
    """What the registry stores and what a typed member number is compared with: no spaces, upper case."""
    return "".join(value.split()).upper()


def member_number_is_valid(section: Identifier, value: str) -> bool:
    """Whether a member number fits the organisation's policy (`policy.member_number`)."""
    number = normalise_member_number(value)
    if not number or len(number) > 32:  # 32: MemberRecord.member_number's length
        return False
    if section.pattern is not None and not re.fullmatch(section.pattern, number):
        return False
    return section.kind != "finess" or finess_is_valid(number)


_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_birth_date(text: str) -> date:
    """Read YYYY-MM-DD or DD/MM/YYYY (the French way); ValueError otherwise."""
    text = text.strip()
    if match := _ISO_DATE.match(text):
        year, month, day = match.groups()
    elif match := _FRENCH_DATE.match(text):
        day, month, year = match.groups()
    else:
        raise ValueError(f"not a date written YYYY-MM-DD or DD/MM/YYYY: {text!r}")
    return date(int(year), int(month), int(day))


# Euro signs, currency words and every kind of space (thin and non-breaking spaces are what
# French number formatting inserts between thousands).
_CURRENCY = re.compile(r"(?i)€|eur(?:os?)?|\s")
_PLAIN = re.compile(r"[0-9]+")
_GROUPED = re.compile(r"[0-9]{1,3}([.,'])[0-9]{3}(?:\1[0-9]{3})*")


def parse_amount(text: str) -> Decimal:
    """Read an amount written the French or the English way: "1 234,56 €", "1234.56", "1.234,56", "1 234 €".

    The last comma or dot is the decimal mark unless it repeats ("1.234.567") or is a lone dot
    followed by exactly three digits ("1.234", French grouping). ValueError when not an amount.
    """
    compact = _CURRENCY.sub("", text)
    sign = compact[:1] if compact[:1] in ("+", "-") else ""
    integer, fraction = _split_decimal(compact[len(sign):])
    if not (_PLAIN.fullmatch(integer) or _GROUPED.fullmatch(integer)):
        raise ValueError(f"not an amount: {text!r}")
    if fraction is not None and not _PLAIN.fullmatch(fraction):
        raise ValueError(f"not an amount: {text!r}")
    digits = re.sub(r"[.,']", "", integer)
    try:
        return Decimal(f"{sign}{digits}.{fraction}" if fraction is not None else f"{sign}{digits}")
    except InvalidOperation:
        raise ValueError(f"not an amount: {text!r}") from None


def _split_decimal(compact: str) -> tuple[str, str | None]:
    marks = [c for c in compact if c in ".,"]
    if not marks or marks.count(marks[-1]) > 1:
        return compact, None
    # French writes decimals with a comma and may group thousands with a dot: "1.234" is 1234.
    if len(marks) == 1 and marks[0] == "." and re.fullmatch(r"[0-9]{1,3}\.[0-9]{3}", compact):
        return compact, None
    integer, _, fraction = compact.rpartition(marks[-1])
    return integer, fraction


def iban_suffix(iban: str, length: int) -> str:
    """The last `length` characters of an IBAN, spaces removed, upper case."""
    compact = "".join(iban.split()).upper()
    return compact[-length:] if length > 0 else ""
