"""Password rules and strength: ONE implementation for the live checklist, the gauge and the server.

`evaluate()` returns every check of the organisation's rules with its result, the strength shown on
the gauge, and whether the password is acceptable. The page's checklist and gauge call the same
function through the API, so what a member sees and what the server enforces cannot differ.

Strength ("weak" | "medium" | "strong") comes from zxcvbn's score, which estimates the guesses an
attacker needs, with our French lists added to its dictionaries:
    score 0-1 (fewer than a million guesses)      -> weak
    score 2   (fewer than a hundred million)      -> medium
    score 3-4 (more)                              -> strong
A common password (see common_passwords.py: "Soleil2024!", "Azerty123!") is weak whatever zxcvbn
says, because attackers try those first, dressed with the same digits and symbols.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from zxcvbn import matching, scoring, time_estimates

from guichet.policy.model import PasswordRules, Strength
from guichet.security.common_passwords import french_ranked, is_common, plain

MIN_LENGTH = "password.min_length"
MAX_LENGTH = "password.max_length"
CLASSES = "password.classes"
LOWERCASE = "password.lowercase"
UPPERCASE = "password.uppercase"
DIGIT = "password.digit"
SPECIAL = "password.special"
COMMON = "password.common"
PERSONAL = "password.personal"
STRENGTH = "password.strength"

MESSAGES: dict[str, Promise] = {
    MIN_LENGTH: _("At least %(min_length)s characters"),
    MAX_LENGTH: _("At most %(max_length)s characters"),
    CLASSES: _("At least %(min_classes)s of the following:"),
    LOWERCASE: _("A lower-case letter (a-z)"),
    UPPERCASE: _("An upper-case letter (A-Z)"),
    DIGIT: _("A digit (0-9)"),
    SPECIAL: _("A special character (for example ! @ # $ % & *)"),
    COMMON: _("Not a common password nor a single word (like Azerty123 or Soleil2024!)"),
    PERSONAL: _("Does not contain your name, email address or member number"),
    STRENGTH: _("Hard to guess: strength “%(min_strength)s” or better"),
}

STRENGTH_LABELS: dict[Strength, Promise] = {"weak": _("weak"), "medium": _("medium"), "strong": _("strong")}
_ORDER: dict[Strength, int] = {"weak": 0, "medium": 1, "strong": 2}

# zxcvbn's cost grows with the square of the length (about 0.1 s for 100 characters of "abab..."; see
# bench/password_strength.py); past 64 characters a password is long enough for the gauge, and the member
# still gets the other checks on the whole of it.
ZXCVBN_MAX = 64
# Personal data shorter than this would forbid too much ("Li" in a last name).
PERSONAL_MIN = 4
_PARTS = re.compile(r"[\s\-_.'’@+,;:]+")


@dataclass(frozen=True)
class Evaluation:
    checks: list[tuple[str, bool]]
    """Every rule, in display order. `acceptable` is True exactly when all of them pass."""
    classes: list[tuple[str, bool]]
    """The four kinds of character and whether the password has each: the items under
    "password.classes" when only some are required (when all four are, they are in `checks`)."""
    strength: Strength
    score: int
    """zxcvbn's 0-4 score, lowered to 1 for a common password."""
    problems: list[str] = field(default_factory=list)

    @property
    def acceptable(self) -> bool:
        return not self.problems


_USUAL_MAX_LENGTH = PasswordRules.model_fields["max_length"].default


def evaluate(password: str, rules: PasswordRules, *, user_inputs: Sequence[str] = ()) -> Evaluation:
    """Check a password against an organisation's rules; never raises for any text."""
    length = len(unicodedata.normalize("NFC", password))
    kinds = _kinds(password)
    common = is_common(password)
    score = min(_zxcvbn_score(password, user_inputs), 1) if common else _zxcvbn_score(password, user_inputs)
    strength = strength_of(score)

    checks = [(MIN_LENGTH, length >= rules.min_length)]
    if rules.max_length < _USUAL_MAX_LENGTH or length > rules.max_length:
        # A maximum the organisation chose (the health mutual's 25) is a rule members must see; the usual
        # technical one (128) is shown only to the rare member who goes past it.
        checks.append((MAX_LENGTH, length <= rules.max_length))
    if rules.min_classes < len(kinds):
        checks.append((CLASSES, sum(present for _code, present in kinds) >= rules.min_classes))
    else:
        checks.extend(kinds)
    if rules.refuse_common:
        checks.append((COMMON, not common))
    checks.append((PERSONAL, not contains_personal_data(password, user_inputs)))
    if rules.min_strength != "weak":
        checks.append((STRENGTH, _ORDER[strength] >= _ORDER[rules.min_strength]))
    problems = [code for code, passed in checks if not passed]
    return Evaluation(checks=checks, classes=kinds, strength=strength, score=score, problems=problems)


def describe(code: str, rules: PasswordRules) -> str:
    """The check's message in the active language, with the numbers of these rules."""
    values = {
        "min_length": rules.min_length,
        "max_length": rules.max_length,
        "min_classes": rules.min_classes,
        "min_strength": STRENGTH_LABELS[rules.min_strength],
    }
    text = str(MESSAGES[code])
    # Placeholders replaced one by one rather than with %: some messages show a literal "%".
    for name, value in values.items():
        text = text.replace(f"%({name})s", str(value))
    return text


def strength_of(score: int) -> Strength:
    """zxcvbn's score (0-4) on the three-level gauge of the organisations' guides."""
    if score <= 1:
        return "weak"
    return "medium" if score == 2 else "strong"


def contains_personal_data(password: str, user_inputs: Sequence[str]) -> bool:
    """True when the password contains a name, the email's local part or the member number (4+ chars)."""
    folded = plain(password)
    squeezed = _PARTS.sub("", folded)
    return any(part in folded or part in squeezed for part in personal_parts(user_inputs))


def personal_parts(user_inputs: Sequence[str]) -> set[str]:
    """'Jean-Pierre', 'jp.durand@example.org' -> {'jean', 'pierre', 'jeanpierre', 'durand', 'jpdurand'}."""
    parts: set[str] = set()
    for value in user_inputs:
        text = plain(str(value)).strip()
        if "@" in text:
            text = text.split("@", 1)[0]  # the domain (gmail, orange) is no secret of the member's
        parts.add(_PARTS.sub("", text))
        parts.update(_PARTS.split(text))
    return {p for p in parts if len(p) >= PERSONAL_MIN}


def _kinds(password: str) -> list[tuple[str, bool]]:
    return [
        (LOWERCASE, any(c.islower() for c in password)),
        (UPPERCASE, any(c.isupper() for c in password)),
        (DIGIT, any(c.isdecimal() for c in password)),
        (SPECIAL, any(not (c.isalpha() or c.isdecimal()) for c in password)),
    ]


@cache
def _dictionaries() -> dict[str, dict[str, int]]:
    english = {name: ranks for name, ranks in matching.RANKED_DICTIONARIES.items() if name != "user_inputs"}
    return {**english, **french_ranked()}


def _zxcvbn_score(password: str, user_inputs: Sequence[str]) -> int:
    # Our French lists are kept without accents: "Éléphant1" must also be scored as "Elephant1".
    bare = "".join(c for c in unicodedata.normalize("NFKD", password) if not unicodedata.combining(c))
    score = _score(password, user_inputs)
    return score if bare == password else min(score, _score(bare, user_inputs))


def _score(password: str, user_inputs: Sequence[str]) -> int:
    # zxcvbn() itself stores the user inputs in a module-wide dictionary, which two threads of the
    # web server would overwrite for each other; we give each call its own copy instead.
    sample = password[:ZXCVBN_MAX]
    if not sample:
        return 0
    dictionaries = dict(_dictionaries())
    dictionaries["user_inputs"] = matching.build_ranked_dict(sorted(personal_parts(user_inputs)))
    matches = matching.omnimatch(sample, dictionaries)
    guesses = scoring.most_guessable_match_sequence(sample, matches)["guesses"]
    return int(time_estimates.estimate_attack_times(guesses)["score"])
