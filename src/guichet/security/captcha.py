"""Proving a human is there, without a third party: ALTCHA proof of work, and a text question without JS.

ALTCHA (https://altcha.org, protocol v2, widget v3): the page's widget fetches `new_challenge()`,
makes the browser spend a second or so finding a counter whose derived key starts with the signed
prefix, and posts the base64 payload that `verify()` checks. No cookie, no tracking, nothing sent
to anyone else. Each solved challenge is accepted once (spent.py), on every node.

ALTCHA needs JavaScript. A page without it shows `text_challenge()` instead: "Write the number
forty-two in digits", answered in digits or in words. It stops blind form-filling scripts only (a
targeted bot reads the question), which is the job here: rate limits and lockouts do the rest.
Its token is signed, expires after 10 minutes and is spent on the first answer, right or wrong, so
each guess costs a new question.
"""

from __future__ import annotations

import hmac
import json
import secrets
from datetime import datetime, timedelta

import altcha
from django.conf import settings
from django.core import signing
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from guichet.security import spent
from guichet.security.number_words import from_words, in_words

LIFETIME = timedelta(minutes=10)
# PBKDF2 is what browsers compute fastest (WebCrypto), so members on old phones wait least.
ALGORITHM = "PBKDF2/SHA-256"
COST = 1_000
# The secret counter is drawn below this; a browser tries about 1,000 to 5,000 counters a second at this COST.
DEFAULT_DIFFICULTY = 2_000
MAX_PAYLOAD = 4_096

QUESTION = _("Write the number “%(number)s” in digits.")
_TEXT_SALT = "guichet.security.captcha.text"


def new_challenge(*, difficulty: int | None = None, now: datetime | None = None) -> dict[str, object]:
    """A signed ALTCHA challenge as JSON for the widget, valid for 10 minutes.

    `difficulty` (default settings.CAPTCHA_DIFFICULTY or 2,000) bounds the counter the browser must find.
    """
    if difficulty is None:
        difficulty = int(getattr(settings, "CAPTCHA_DIFFICULTY", DEFAULT_DIFFICULTY))
    if difficulty < 1:
        raise ValueError(f"the CAPTCHA difficulty must be at least 1, not {difficulty}")
    expires_at = (now or timezone.now()) + LIFETIME
    challenge = altcha.create_challenge(
        ALGORITHM, COST,
        # Deterministic mode: we pick the counter, so the work is bounded and the key signature
        # lets verify() check the answer without redoing the work.
        counter=difficulty // 10 + secrets.randbelow(difficulty - difficulty // 10 + 1),
        expires_at=int(expires_at.timestamp()),
        hmac_secret=_key("challenge"),
        hmac_key_secret=_key("derived-key"),
    )
    return challenge.to_dict()


def verify(payload: str) -> bool:
    """True for a genuine, unexpired solution never used before (on any node)."""
    if not isinstance(payload, str) or not payload or len(payload) > MAX_PAYLOAD:
        return False
    try:
        result = altcha.verify_solution(payload, _key("challenge"), hmac_key_secret=_key("derived-key"))
        if not result.verified:
            return False
        parameters = altcha.Payload.from_base64(payload).challenge
    except (ValueError, TypeError, KeyError, AttributeError, json.JSONDecodeError):
        return False
    expires_at = parameters.parameters.expires_at
    if not isinstance(expires_at, int) or parameters.signature is None:
        return False  # every challenge we sign has both; refuse anything else
    until = datetime.fromtimestamp(expires_at, tz=timezone.get_current_timezone())
    return spent.spend("altcha", parameters.signature, until=until)


def text_challenge(language: str, *, now: datetime | None = None) -> tuple[str, str]:
    """(question, token) for pages without JavaScript; put the token in a hidden field."""
    number = 10 + secrets.randbelow(90)
    nonce = secrets.token_urlsafe(16)
    expires = (now or timezone.now()) + LIFETIME
    token = signing.dumps({"n": nonce, "a": _answer_digest(nonce, number), "e": int(expires.timestamp())},
                          salt=_TEXT_SALT)
    with translation.override(language):
        question = str(QUESTION) % {"number": in_words(number, language)}
    return question, token


def verify_text_challenge(token: str, answer: str, *, now: datetime | None = None) -> bool:
    """True when `answer` is the number asked (in digits or words); the token is spent either way."""
    now = now or timezone.now()
    try:
        claims = signing.loads(token, salt=_TEXT_SALT)
        nonce, digest, expires = str(claims["n"]), str(claims["a"]), int(claims["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return False
    until = datetime.fromtimestamp(expires, tz=timezone.get_current_timezone())
    if not spent.spend("text", nonce, until=until, now=now):
        return False
    number = _read_number(answer)
    return number is not None and hmac.compare_digest(digest, _answer_digest(nonce, number))


def _read_number(answer: str) -> int | None:
    text = str(answer).strip().replace(" ", "")
    if text.isdecimal() and len(text) <= 3:
        return int(text)
    return from_words(str(answer))


def _answer_digest(nonce: str, number: int) -> str:
    # The token is signed, not encrypted: it must not carry the answer in clear.
    return salted_hmac(_TEXT_SALT, f"{nonce}:{number}", algorithm="sha256").hexdigest()


def _key(purpose: str) -> str:
    return salted_hmac("guichet.security.captcha.altcha", purpose, algorithm="sha256").hexdigest()
