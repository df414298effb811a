"""Numbers from 0 to 99 written in words, in French and English, for the text challenge."""

from __future__ import annotations

import re
from functools import cache

from guichet.security.common_passwords import plain

_FR_UNITS = ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix",
             "onze", "douze", "treize", "quatorze", "quinze", "seize"]
_FR_TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}
_EN_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
             "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
             "nineteen"]
_EN_TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty", 6: "sixty", 7: "seventy", 8: "eighty",
            9: "ninety"}
# Belgium and Switzerland say septante, huitante (or octante) and nonante: accepted in answers.
_FR_REGIONAL_TENS = {7: "septante", 8: "huitante", 9: "nonante"}
_SEPARATORS = re.compile(r"[\s\-]+")
_AND = re.compile(r"\bet\b")


def in_words(number: int, language: str) -> str:
    """42 -> 'quarante-deux' (fr) or 'forty-two' (en)."""
    if not 0 <= number <= 99:
        raise ValueError(f"only numbers from 0 to 99 are written in words, not {number}")
    return _french(number) if language.startswith("fr") else _english(number)


def from_words(text: str) -> int | None:
    """'Quarante deux', 'forty-two', 'nonante-neuf' -> the number; None when not a number in words."""
    return _reverse().get(_squeeze(text))


def _french(number: int) -> str:
    if number <= 16:
        return _FR_UNITS[number]
    if number < 20:
        return "dix-" + _FR_UNITS[number - 10]
    tens, unit = divmod(number, 10)
    if tens in (7, 9):  # soixante-dix, quatre-vingt-dix: the teens are counted on top of 60 or 80
        base = "soixante" if tens == 7 else "quatre-vingt"
        rest = number - (60 if tens == 7 else 80)
        joiner = " et " if rest == 11 and tens == 7 else "-"
        return base + joiner + _french(rest)
    if tens == 8:
        return "quatre-vingts" if unit == 0 else "quatre-vingt-" + _FR_UNITS[unit]
    if unit == 0:
        return _FR_TENS[tens]
    return _FR_TENS[tens] + (" et un" if unit == 1 else "-" + _FR_UNITS[unit])


def _english(number: int) -> str:
    if number < 20:
        return _EN_UNITS[number]
    tens, unit = divmod(number, 10)
    return _EN_TENS[tens] + ("" if unit == 0 else "-" + _EN_UNITS[unit])


def _regional(number: int) -> str | None:
    tens, unit = divmod(number, 10)
    if tens not in _FR_REGIONAL_TENS:
        return None
    if unit == 0:
        return _FR_REGIONAL_TENS[tens]
    return _FR_REGIONAL_TENS[tens] + (" et un" if unit == 1 else "-" + _FR_UNITS[unit])


@cache
def _reverse() -> dict[str, int]:
    # "et" is dropped on both sides, so "vingt et un" and "vingt-un" both read as 21.
    forms: dict[str, int] = {}
    for number in range(100):
        for words in (_french(number), _english(number), _regional(number)):
            if words:
                forms[_squeeze(words)] = number
    return forms


def _squeeze(words: str) -> str:
    # Spelling slips that leave no doubt are forgiven: "quatre vingt", "vingt-et-un", "Forty two".
    return _SEPARATORS.sub("", _AND.sub(" ", plain(words))).replace("vingts", "vingt")
