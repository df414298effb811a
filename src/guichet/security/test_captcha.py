"""ALTCHA proof of work, solved for real, and the text question for pages without JavaScript."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import altcha
import pytest
from django.utils import timezone

from guichet.security import captcha
from guichet.security.models import SpentToken
from guichet.security.number_words import in_words

pytestmark = pytest.mark.django_db


def solve(challenge: dict[str, object]) -> str:
    """What the widget does in the browser: find the counter, post the payload in base64."""
    parsed = altcha.Challenge.from_dict(challenge)
    solution = altcha.solve_challenge(parsed, timeout=30)
    assert solution is not None
    return altcha.Payload(parsed, solution).to_base64()


def test_a_solved_challenge_is_accepted_once() -> None:
    challenge = captcha.new_challenge(difficulty=20)
    parameters = challenge["parameters"]
    assert isinstance(parameters, dict) and parameters["algorithm"] == "PBKDF2/SHA-256"
    payload = solve(challenge)
    assert captcha.verify(payload)
    assert not captcha.verify(payload), "a replayed solution must be refused"


def test_an_expired_challenge_is_refused() -> None:
    challenge = captcha.new_challenge(difficulty=20, now=timezone.now() - timedelta(minutes=11))
    assert not captcha.verify(solve(challenge))


def test_a_challenge_signed_by_someone_else_is_refused() -> None:
    forged = altcha.create_challenge(
        "PBKDF2/SHA-256", 10, counter=3, hmac_secret="not our key", hmac_key_secret="not our key either",
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    assert not captcha.verify(solve(forged.to_dict()))


def test_a_wrong_solution_is_refused() -> None:
    payload = json.loads(base64.b64decode(solve(captcha.new_challenge(difficulty=20))))
    payload["solution"]["derivedKey"] = "00" * 32
    assert not captcha.verify(base64.b64encode(json.dumps(payload).encode()).decode())


@pytest.mark.parametrize("payload", ["", "not base64!", base64.b64encode(b"[1, 2]").decode(),
                                     base64.b64encode(b'{"challenge": {}}').decode(), "A" * 10_000])
def test_garbage_is_refused_without_error(payload: str) -> None:
    assert not captcha.verify(payload)
    assert not SpentToken.objects.exists()


def question_number(question: str, language: str) -> int:
    return next(n for n in range(10, 100) if f"“{in_words(n, language)}”" in question
                or f"« {in_words(n, language)} »" in question)


def test_text_challenge_in_french_answered_in_digits() -> None:
    question, token = captcha.text_challenge("fr")
    assert question.startswith("Écrivez le nombre")
    number = question_number(question, "fr")
    assert captcha.verify_text_challenge(token, f" {number} ")
    assert not captcha.verify_text_challenge(token, str(number)), "a question is answered once"


def test_text_challenge_in_english_answered_in_words() -> None:
    question, token = captcha.text_challenge("en")
    assert question.startswith("Write the number")
    number = question_number(question, "en")
    assert captcha.verify_text_challenge(token, in_words(number, "en").upper())


def test_a_wrong_answer_spends_the_question() -> None:
    question, token = captcha.text_challenge("fr")
    number = question_number(question, "fr")
    assert not captcha.verify_text_challenge(token, str(number + 1 if number < 99 else 10))
    assert not captcha.verify_text_challenge(token, str(number)), "each guess needs a new question"


def test_an_expired_or_altered_text_challenge_is_refused() -> None:
    question, token = captcha.text_challenge("fr", now=timezone.now() - timedelta(minutes=11))
    assert not captcha.verify_text_challenge(token, str(question_number(question, "fr")))
    question, token = captcha.text_challenge("fr")
    assert not captcha.verify_text_challenge(token[:-2] + "xx", str(question_number(question, "fr")))
    assert not captcha.verify_text_challenge("", "42")
