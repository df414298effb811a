"""The console's mark on a browser where an agent signed in: a signed cookie naming the agent and a random
nonce, set at every successful sign-in.

It proves nothing by itself (the password and the authenticator code are still asked): it only makes the
browser's failed attempts count on their own counter (backoffice.throttle.key_for), so that a stranger who
knows an agent's email cannot lock them out of the browser they work in. Each sign-in gives a new nonce, so a
mark copied earlier counts on a counter of its own; a mark copied since the last sign-in shares the browser's
counter and could lock that browser too (an operator's `guichet agents unlock` clears it). Either way it opens
nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

COOKIE = "guichet_agent_device"
LIFETIME = timedelta(days=90)
_SALT = "guichet.backoffice.devices"


@dataclass(frozen=True)
class DeviceMark:
    agent_id: int
    nonce: str


def read(request: HttpRequest) -> DeviceMark | None:
    """The browser's mark, if it carries a valid one (signed by this installation, not older than LIFETIME)."""
    value = request.COOKIES.get(COOKIE, "")
    if not value:
        return None
    try:
        data = signing.loads(value, salt=_SALT, max_age=LIFETIME)
        return DeviceMark(int(data["a"]), str(data["d"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def mark(response: HttpResponse, agent_id: int) -> None:
    """Sets a new mark after a successful sign-in (a success clears the browser's counter anyway)."""
    nonce = secrets.token_urlsafe(16)
    response.set_cookie(COOKIE, signing.dumps({"a": agent_id, "d": nonce}, salt=_SALT),
                        max_age=int(LIFETIME.total_seconds()), path="/agents/",
                        secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Strict")
