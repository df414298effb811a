"""Common passwords, French and English: the lists behind the "password.common" check.

A password is common when its *core* is in a list. The core is the password lower-cased, without
accents, spaces or separators, and without the digits and symbols around it, because that is how
people dress up a weak word to pass the rules: "Soleil2024!", "MotDePasse1!", "P@ssw0rd".

Lists used (loaded once per process, on first use):
- data/french-common-passwords.txt: written by hand for Guichet (azerty, motdepasse, doudou...);
- data/french-words.txt: base forms of French words, built from Debian's wfrench (see its header);
- Django's list of 20,000 common passwords, and zxcvbn's 30,000 most frequent passwords.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

from django.contrib.auth.password_validation import CommonPasswordValidator
from zxcvbn.frequency_lists import FREQUENCY_LISTS

DATA = Path(__file__).with_name("data")

# Letters people swap for look-alike digits and symbols ("p@ssw0rd").
_LOOK_ALIKES = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s", "5": "s",
                              "7": "t", "+": "t", "8": "b", "9": "g", "€": "e"})
_SEPARATORS = re.compile(r"[\s\-_.'’,;:]+")
_AROUND = re.compile(r"^[^a-z]+|[^a-z]+$")


def plain(text: str) -> str:
    """Lower case, without accents or ligatures: the form every list is kept in."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.replace("œ", "oe").replace("æ", "ae")


def cores(password: str) -> set[str]:
    """The forms of a password looked up in the lists (never empty strings)."""
    joined = _SEPARATORS.sub("", plain(password))
    candidates = {joined, _AROUND.sub("", joined), _AROUND.sub("", joined.translate(_LOOK_ALIKES))}
    return {c for c in candidates if c}


def is_common(password: str) -> bool:
    """True when the password, once undressed, is a common password or a single word of our lists."""
    common = _common_set()
    return any(core in common for core in cores(password))


def french_ranked() -> dict[str, dict[str, int]]:
    """French lists in zxcvbn's format (word -> rank, 1 = most frequent), for the strength gauge."""
    return {"french_passwords": _ranked(_french_passwords()), "french_words": _ranked(_french_words())}


def _ranked(words: list[str]) -> dict[str, int]:
    ranks: dict[str, int] = {}
    for word in words:
        ranks.setdefault(word, len(ranks) + 1)
    return ranks


def _read_list(name: str) -> list[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    kept = (line for line in lines if line.strip() and not line.startswith("#"))
    entries = (_SEPARATORS.sub("", plain(line)) for line in kept)
    return [e for e in entries if e]


@cache
def _french_passwords() -> list[str]:
    return _read_list("french-common-passwords.txt")


@cache
def _french_words() -> list[str]:
    return _read_list("french-words.txt")


@cache
def _common_set() -> frozenset[str]:
    english = {plain(word) for word in CommonPasswordValidator().passwords if word}
    english.update(plain(word) for word in FREQUENCY_LISTS["passwords"])
    return frozenset(english | set(_french_passwords()) | set(_french_words()))
