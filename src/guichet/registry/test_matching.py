from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guichet.policy.model import Identifier
from guichet.registry.matching import (
    email_key,
    finess_check_digit,
    finess_is_valid,
    iban_suffix,
    member_number_is_valid,
    name_key,
    names_match,
    normalise_member_number,
    parse_amount,
    parse_birth_date,
)

ACCENTED = "àâäçéèêëîïôöùûüÿ"
PLAIN = "aaaceeeeiioouuuy"
FRENCH_LETTERS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz" + ACCENTED, min_size=1, max_size=20)
SEPARATORS = st.sampled_from([" ", "-", "'", "’", ".", "\u00a0", "  "])


def test_name_key_folds_what_members_type_differently() -> None:
    assert name_key("Marie-Hélène D'Arcy ") == name_key("marie helene darcy") == "mariehelenedarcy"
    assert name_key("D’ARCY") == name_key("d.arcy") == "darcy"
    assert name_key("Lætitia Œuvray") == name_key("laetitia oeuvray")


@given(st.text())
def test_name_key_is_stable(text: str) -> None:
    assert name_key(name_key(text)) == name_key(text)


@given(st.lists(FRENCH_LETTERS, min_size=1, max_size=4), st.data())
def test_separators_and_case_do_not_matter(words: list[str], data: st.DataObject) -> None:
    written = "".join(word + data.draw(SEPARATORS) for word in words)
    assert name_key(written.upper()) == name_key("".join(words))


@given(FRENCH_LETTERS)
def test_accents_do_not_matter(word: str) -> None:
    assert name_key(word) == word.translate(str.maketrans(ACCENTED, PLAIN))


def test_names_match_in_constant_time_and_never_on_empty() -> None:
    assert names_match("  marie-hélène ", name_key("Marie Helene"))
    assert not names_match("Marie", name_key("Maria"))
    assert not names_match("", "")
    assert not names_match("-", name_key(" "))


def test_email_key() -> None:
    assert email_key("  Marie.Darcy@Example.ORG ") == "marie.darcy@example.org"


@pytest.mark.parametrize("number, valid", [
    ("750712184", True),  # a published FINESS number
    ("750712185", False),  # wrong check digit
    ("75071218", False),  # too short
    ("7507121840", False),  # too long
    ("75O712184", False),  # a letter O
    ("2A" + "0000" + "01" + finess_check_digit("2A000001"), True),
    ("2a000001" + finess_check_digit("2A000001"), True),
    ("2C0000010", False),
])
def test_finess_checksum(number: str, valid: bool) -> None:
    assert finess_is_valid(number) is valid


def test_corsica_reads_as_department_20() -> None:
    assert finess_check_digit("2A123456") == finess_check_digit("2B123456") == finess_check_digit("20123456")


def test_member_number_uses_the_policy_pattern_and_checksum() -> None:
    label = {"fr": "N", "en": "N"}
    digits = Identifier.model_validate({"kind": "member_number", "label": label, "pattern": r"^[0-9]{9}$"})
    finess = Identifier.model_validate({"kind": "finess", "label": label})
    assert member_number_is_valid(digits, " 123 456 789 ")
    assert not member_number_is_valid(digits, "12345678")
    assert not member_number_is_valid(digits, "")
    assert member_number_is_valid(finess, "750 712 184")
    assert not member_number_is_valid(finess, "750712185")
    assert normalise_member_number(" 2a 000 001 ") == "2A000001"


@pytest.mark.parametrize("text, expected", [
    ("1958-03-14", date(1958, 3, 14)),
    ("14/03/1958", date(1958, 3, 14)),
    (" 4/3/1958 ", date(1958, 3, 4)),
])
def test_birth_dates(text: str, expected: date) -> None:
    assert parse_birth_date(text) == expected


@pytest.mark.parametrize("text", ["", "1958", "31/02/1958", "03-14-1958", "1958/03/14", "hier"])
def test_bad_birth_dates(text: str) -> None:
    with pytest.raises(ValueError):
        parse_birth_date(text)


@pytest.mark.parametrize("text, expected", [
    ("1 234,56 €", "1234.56"), ("1234.56", "1234.56"), ("1 234 €", "1234"), ("1\u00a0234,56\u202f€", "1234.56"),
    ("1.234,56", "1234.56"), ("1,234.56", "1234.56"), ("1.234", "1234"), ("12,5", "12.5"), ("845,20 EUR", "845.20"),
])
def test_amounts(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "€", "abc", "1,234,56", ",5", "12,", "1..2", "1 2 3,4,5"])
def test_bad_amounts(text: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(text)


def _french(amount: Decimal, group: str, euro: str) -> str:
    whole, cents = f"{amount:.2f}".split(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return group.join(groups) + "," + cents + euro


@given(st.decimals(min_value=0, max_value=10**9, places=2), st.sampled_from([" ", "\u00a0", "\u202f", "", "."]),
       st.sampled_from(["", " €", "€", "\u00a0€", " EUR"]))
def test_french_amounts_read_back(amount: Decimal, group: str, euro: str) -> None:
    assert parse_amount(_french(amount, group, euro)) == amount


@given(st.decimals(min_value=0, max_value=10**9, places=2))
def test_english_amounts_read_back(amount: Decimal) -> None:
    assert parse_amount(f"{amount:.2f}") == amount
    assert parse_amount(f"{amount:,.2f}") == amount


def test_iban_suffix() -> None:
    assert iban_suffix("fr76 3000 6000 0112 3456 7890 189", 5) == "90189"
    assert iban_suffix("FR7630006000011234567890189", 10) == "4567890189"
    assert iban_suffix("189", 5) == "189"
