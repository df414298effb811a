"""Password rules of the three bundled organisations, and the strength gauge."""

from __future__ import annotations

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from guichet.organisations.models import Organisation
from guichet.policy.model import PasswordRules
from guichet.security import passwords
from guichet.security.common_passwords import is_common
from guichet.security.passwords import describe, evaluate

MEMBER = ["Jean-Pierre", "Durand", "jp.durand@example.org", "123456789"]


def codes(evaluation: passwords.Evaluation) -> list[str]:
    return [code for code, _passed in evaluation.checks]


def test_pension_fund_asks_twelve_characters_and_three_kinds_of_four(pension: Organisation) -> None:
    rules = pension.policy.password
    accepted = evaluate("lavande-sur-le-toit7", rules, user_inputs=MEMBER)
    assert accepted.acceptable, accepted.problems
    assert codes(accepted) == [
        "password.min_length", "password.classes", "password.common", "password.personal", "password.strength",
    ]   # no "at most 128 characters": a technical limit, not one of the guide's rules
    # Three kinds are enough: no upper case here.
    assert dict(accepted.classes) == {
        "password.lowercase": True, "password.uppercase": False,
        "password.digit": True, "password.special": True,
    }
    assert evaluate("Kx9vLq2pZwtr", rules).acceptable  # upper, lower, digits: no special character needed
    assert evaluate("Kx9!vLq2#pZ", rules).problems == ["password.min_length"]
    assert evaluate("kxqvlqrpzwtrmn", rules).problems == ["password.classes"]


def test_farm_asks_eight_characters_all_four_kinds_and_medium_strength(farm: Organisation) -> None:
    rules = farm.policy.password
    accepted = evaluate("Kx9!vLq2", rules)
    assert accepted.acceptable, accepted.problems
    assert codes(accepted) == [
        "password.min_length", "password.lowercase", "password.uppercase", "password.digit",
        "password.special", "password.common", "password.personal", "password.strength",
    ]
    assert evaluate("Kx9vLq2pZ", rules).problems == ["password.special"]
    # All four kinds, but the gauge says weak: refused.
    weak = evaluate("Aaaa1111!", rules)
    assert weak.strength == "weak"
    assert "password.strength" in weak.problems


def test_health_mutual_accepts_eight_to_twenty_five_characters(health: Organisation) -> None:
    rules = health.policy.password
    assert evaluate("Kx9!vLq2", rules).acceptable
    too_long = evaluate("Kx9!vLq2#pZw-Kx9!vLq2#pZw", rules)  # 25 characters: the maximum
    assert too_long.acceptable and "password.max_length" in [code for code, _ in too_long.checks]   # shown
    assert evaluate("Kx9!vLq2#pZw-Kx9!vLq2#pZw!", rules).problems == ["password.max_length"]
    assert evaluate("Kx9!", rules).problems == ["password.min_length", "password.strength"]


@pytest.mark.parametrize("password", [
    "Azerty123!", "Motdepasse1!", "Soleil2024!", "Marseille13!", "Chocolat!!12", "Doudou-2010",
    "Mot de passe 1!", "P@ssw0rd2024", "Éléphant2024!",
])
def test_common_french_and_english_passwords_are_weak_and_refused(password: str) -> None:
    rules = PasswordRules(min_length=8, min_classes=1, min_strength="weak", refuse_common=True)
    evaluation = evaluate(password, rules)
    assert evaluation.strength == "weak"
    assert evaluation.problems == ["password.common"]


def test_two_common_words_together_are_not_one_common_password() -> None:
    # The list check looks for one word dressed up; longer combinations are for the gauge to judge.
    assert is_common("Loulou2024!")
    assert not is_common("Loulou&Bisous")


def test_common_passwords_pass_when_the_policy_allows_them() -> None:
    rules = PasswordRules(min_length=8, min_classes=1, min_strength="weak", refuse_common=False)
    evaluation = evaluate("Azerty123!", rules)
    assert evaluation.acceptable
    assert evaluation.strength == "weak"
    assert "password.common" not in codes(evaluation)


def test_personal_data_of_four_characters_or_more_is_refused() -> None:
    rules = PasswordRules(min_length=8, min_classes=1, min_strength="weak")
    assert evaluate("Durand-Kx9!vLq2", rules, user_inputs=MEMBER).problems == ["password.personal"]
    assert evaluate("pierre+Kx9!vLq2", rules, user_inputs=MEMBER).problems == ["password.personal"]
    assert evaluate("Kx9!vLq2-123456789", rules, user_inputs=MEMBER).problems == ["password.personal"]
    assert evaluate("jpdurand#Kx9!vLq2", rules, user_inputs=MEMBER).problems == ["password.personal"]
    # "example" is the email's domain, not the member's; "Li" is too short to forbid.
    assert evaluate("example-Li-Kx9!vLq2", rules, user_inputs=[*MEMBER, "Li"]).acceptable


def test_strength_gauge_follows_zxcvbn_score() -> None:
    gauge = [passwords.strength_of(score) for score in range(5)]
    assert gauge == ["weak", "weak", "medium", "strong", "strong"]
    assert evaluate("", PasswordRules()).strength == "weak"
    assert evaluate("Kx9!vLq2#pZw", PasswordRules()).strength == "strong"


def test_messages_give_the_numbers_of_the_rules_in_french_and_english() -> None:
    rules = PasswordRules(min_length=12, max_length=25, min_classes=3, min_strength="medium")
    with translation.override("fr"):
        assert describe("password.min_length", rules) == "Au moins 12 caractères"
        assert describe("password.classes", rules) == "Au moins 3 des éléments suivants :"
        assert "moyen" in describe("password.strength", rules)
    with translation.override("en"):
        assert describe("password.min_length", rules) == "At least 12 characters"
        assert describe("password.max_length", rules) == "At most 25 characters"
        assert "medium" in describe("password.strength", rules)
    for code in passwords.MESSAGES:
        with translation.override("fr"):
            french = describe(code, rules)
        with translation.override("en"):
            assert describe(code, rules) != french, f"{code} has no French translation"


def test_the_gauge_reads_only_the_start_of_a_very_long_password() -> None:
    """zxcvbn's work grows fast with the length: past ZXCVBN_MAX characters the rest is not scored, so a
    pasted novel costs no more than a long password (the time itself: bench/password_strength.py)."""
    long = "Kx9!vLq2#pZw" * 100
    assert passwords._score(long, MEMBER) == passwords._score(long[:passwords.ZXCVBN_MAX], MEMBER)
    assert passwords._score(long[:passwords.ZXCVBN_MAX], MEMBER) != passwords._score(long[:5], MEMBER)
    assert evaluate("ab" * 500, PasswordRules()).problems == ["password.max_length", "password.classes",
                                                              "password.strength"]


@settings(max_examples=200, deadline=None)
@given(
    password=st.text(max_size=150),
    min_length=st.integers(8, 30),
    extra=st.integers(0, 100),
    min_classes=st.integers(1, 4),
    min_strength=st.sampled_from(["weak", "medium", "strong"]),
    refuse_common=st.booleans(),
    user_inputs=st.lists(st.text(max_size=20), max_size=4),
)
def test_evaluate_never_raises_and_acceptable_means_every_check_passes(
    password: str, min_length: int, extra: int, min_classes: int, min_strength: str, refuse_common: bool,
    user_inputs: list[str],
) -> None:
    rules = PasswordRules(min_length=min_length, max_length=min_length + extra, min_classes=min_classes,
                          min_strength=min_strength, refuse_common=refuse_common)
    evaluation = evaluate(password, rules, user_inputs=user_inputs)
    assert evaluation.strength in {"weak", "medium", "strong"}
    assert evaluation.acceptable == all(passed for _code, passed in evaluation.checks)
    assert set(evaluation.problems) <= set(passwords.MESSAGES)
