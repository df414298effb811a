"""Numbers in words for the text challenge: French spelling has traps (soixante et onze, quatre-vingts)."""

from __future__ import annotations

import pytest

from guichet.security.number_words import from_words, in_words


@pytest.mark.parametrize(("number", "french", "english"), [
    (16, "seize", "sixteen"), (17, "dix-sept", "seventeen"), (21, "vingt et un", "twenty-one"),
    (71, "soixante et onze", "seventy-one"), (77, "soixante-dix-sept", "seventy-seven"),
    (80, "quatre-vingts", "eighty"), (81, "quatre-vingt-un", "eighty-one"),
    (91, "quatre-vingt-onze", "ninety-one"),
])
def test_numbers_are_written_as_in_a_dictionary(number: int, french: str, english: str) -> None:
    assert in_words(number, "fr") == french
    assert in_words(number, "en") == english


@pytest.mark.parametrize(("answer", "number"), [
    ("Quarante Deux", 42), ("vingt-et-un", 21), ("vingt un", 21), ("soixante-onze", 71), ("nonante-neuf", 99),
    ("septante", 70), ("Forty two", 42), ("quatre vingt", 80),
])
def test_answers_in_words_are_read_with_tolerance(answer: str, number: int) -> None:
    assert from_words(answer) == number


def test_every_number_reads_back_and_nonsense_does_not() -> None:
    assert all(from_words(in_words(n, lang)) == n for n in range(100) for lang in ("fr", "en"))
    assert from_words("beaucoup") is None
    with pytest.raises(ValueError, match="0 to 99"):
        in_words(100, "fr")
