"""Synthetic members for demos, tests and benchmarks: deterministic, and fit for the organisation's policy.

Rows are produced as CSV cells and go through the very same RowReader as an imported file, so a
synthetic member is exactly what an import of the same data would have stored.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from schwifty import IBAN

from guichet.organisations.models import Organisation
from guichet.policy.model import Identifier, Question
from guichet.policy.model import Organisation as Policy
from guichet.registry.csv_columns import (
    FACT_PREFIX,
    PLAIN_COLUMNS,
    RowReader,
    categories,
    questions,
    read_header,
)
from guichet.registry.matching import finess_check_digit, member_number_is_valid, name_key
from guichet.registry.synthetic_people import (
    CITIES,
    DEMO_PEOPLE,
    EMPLOYERS,
    FIRST_NAMES,
    LAST_NAMES,
    STREETS,
    DemoPerson,
)
from guichet.registry.upsert import Counts, upsert

# Synthetic serial numbers start above the demo members' (1, 2, 3) and each seed has its own block,
# so different seeds and the demo members never overwrite one another.
FIRST_SERIAL = 1000
SERIALS_PER_SEED = 10_000_000
_DEPARTMENTS = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"]
_CATEGORY_WEIGHTS = {"individual": 70, "farmer": 15, "employer": 10, "third_party": 5}
_TODAY = date(2025, 1, 1)  # fixed, so the same seed gives the same members whatever the day


def generate(organisation: Organisation, count: int, seed: int = 0) -> int:
    """Create or update `count` synthetic members of `organisation`; returns how many were written."""
    counts = _store(organisation, synthetic_rows(organisation.policy, count, seed))
    return counts.created + counts.updated


def demo_members(organisation: Organisation) -> list[dict[str, Any]]:
    """The organisation's well-known demo members, as MemberRecord field values (same every time)."""
    policy = organisation.policy
    columns = csv_columns(policy)
    reader = RowReader(policy, read_header(columns))
    return [reader.values([cells[c] for c in columns]) for cells in _demo_rows(policy)]


def add_demo_members(organisation: Organisation) -> int:
    """Create or update the demo members; returns how many there are."""
    counts = _store(organisation, _demo_rows(organisation.policy))
    return counts.created + counts.updated


def csv_columns(policy: Policy) -> list[str]:
    """The CSV header of synthetic rows: every plain column and a fact column per policy question."""
    facts = dict.fromkeys(q.fact for q in questions(policy))
    return [*PLAIN_COLUMNS, *(FACT_PREFIX + fact for fact in facts)]


def synthetic_rows(policy: Policy, count: int, seed: int = 0) -> Iterator[dict[str, str]]:
    """`count` members as CSV cells keyed by column (see csv_columns), the same for the same seed."""
    rng = random.Random(seed)
    number_width = _number_width(policy.member_number)
    first_serial = FIRST_SERIAL + seed * SERIALS_PER_SEED
    for serial in range(first_serial, first_serial + count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        born = _TODAY - timedelta(days=rng.randint(18 * 365, 95 * 365))
        number, city = rng.randint(1, 180), rng.choice(CITIES)
        cells = {
            "member_number": member_number(policy.member_number, serial, number_width),
            "first_name": first, "last_name": last,
            # Both accepted date formats, as registries export either.
            "birth_date": born.isoformat() if serial % 2 else born.strftime("%d/%m/%Y"),
            "email": f"{_email_part(first)}.{_email_part(last)}.{serial}@example.org",
            # Ranges phonenumbers knows as valid: +33 639 and +33 262 belong to overseas departments.
            "mobile": f"+336{rng.randint(10, 38)}{rng.randrange(10**6):06d}",
            "landline": f"0{rng.choice('1345')}{rng.randint(10, 89)}{rng.randrange(10**6):06d}"
            if rng.random() < 0.3 else "",
            "address": f"{number} {rng.choice(STREETS)}\n{city}",
            "category": _category(policy, rng),
            "iban": _iban(rng),
        }
        cells.update(_facts(policy, rng, born))
        yield cells


def member_number(section: Identifier, serial: int, width: int | None = None) -> str:
    """The `serial`-th member number valid for the policy (FINESS check digit or pattern)."""
    if section.kind == "finess":
        department = _DEPARTMENTS[(serial // 10**6) % len(_DEPARTMENTS)]
        payload = f"{department}{serial % 10**6:06d}"
        return payload + finess_check_digit(payload)
    width = width or _number_width(section)
    return f"1{serial:0{width - 1}d}"


def _number_width(section: Identifier) -> int:
    # Patterns are free regular expressions: try the usual lengths, 9 digits first (most registries).
    if section.kind == "finess":
        return 9
    for width in (9, 8, 10, 11, 12, 13, 16, 7, 6):
        if all(member_number_is_valid(section, f"1{n:0{width - 1}d}") for n in (0, 10 ** (width - 1) - 1)):
            return width
    raise ValueError(f"cannot generate member numbers for the pattern {section.pattern!r}: "
                     "it accepts no run of 6 to 16 digits starting with 1")


def _store(organisation: Organisation, rows: Iterator[dict[str, str]]) -> Counts:
    columns = csv_columns(organisation.policy)
    header = read_header(columns)
    reader = RowReader(organisation.policy, header)
    values = (reader.values([cells[c] for c in columns]) for cells in rows)
    with transaction.atomic():
        return upsert(organisation, values, header.fields)


def _demo_rows(policy: Policy) -> Iterator[dict[str, str]]:
    rng = random.Random("demo")
    for serial, person in enumerate(DEMO_PEOPLE, start=1):
        cells = {
            "member_number": member_number(policy.member_number, serial), "first_name": person.first_name,
            "last_name": person.last_name, "birth_date": person.birth_date.isoformat(), "email": person.email,
            "mobile": person.mobile, "landline": person.landline, "address": person.address,
            "category": person.category if categories(policy) else "", "iban": person.iban,
        }
        generated = _facts(policy, rng, person.birth_date)
        cells.update({column: _demo_fact(person, column, value) for column, value in generated.items()})
        yield cells


def _demo_fact(person: DemoPerson, column: str, generated: str) -> str:
    return person.facts.get(column[len(FACT_PREFIX):], generated)


def _facts(policy: Policy, rng: random.Random, born: date) -> dict[str, str]:
    facts: dict[str, str] = {}
    for question in questions(policy):
        facts.setdefault(FACT_PREFIX + question.fact, _fact(question, rng, born))
    return facts


def _fact(question: Question, rng: random.Random, born: date) -> str:
    # Known facts get believable values; any other fact a policy names still gets one by answer kind.
    if question.fact == "employer":
        return rng.choice(EMPLOYERS)
    if question.fact.endswith("_year"):
        return str(min(born.year + rng.randint(18, 40), _TODAY.year))
    if question.fact.endswith("_serial"):
        return f"{rng.randrange(10**10):010d}"
    if question.answer == "amount":
        return str(Decimal(rng.randint(1500, 400_000)) / 100)
    if question.answer == "select":
        return f"{question.fact} {rng.randint(1, 20)}"
    return f"{rng.randrange(10**6):06d}"


def _category(policy: Policy, rng: random.Random) -> str:
    known = categories(policy)
    if not known:
        return ""
    ordered = sorted(known)
    return rng.choices(ordered, weights=[_CATEGORY_WEIGHTS.get(c, 5) for c in ordered])[0]


def _iban(rng: random.Random) -> str:
    account = f"{rng.randrange(10**11):011d}"
    return IBAN.generate("FR", bank_code="30006", branch_code=f"{rng.randrange(10**5):05d}",
                         account_code=account).formatted


def _email_part(name: str) -> str:
    return name_key(name) or "membre"
