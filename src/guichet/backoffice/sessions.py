"""Agent sessions: beside any member session in the same Django session, under their own keys.

An agent session ends after 15 idle minutes or 10 hours in all, when the agent is disabled, or when
their password or authenticator changes (a hash of both is kept and compared at each request).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.views.decorators.cache import never_cache

from guichet.backoffice.models import Agent

AGENT_KEY = "backoffice_agent"
HASH_KEY = "backoffice_hash"
SEEN_KEY = "backoffice_seen_at"
SINCE_KEY = "backoffice_signed_in_at"
EXPIRED_KEY = "backoffice_expired"
IDLE_SECONDS = 15 * 60
MAX_SECONDS = 10 * 3600
_KEYS = (AGENT_KEY, HASH_KEY, SEEN_KEY, SINCE_KEY)


def _credentials_hash(agent: Agent) -> str:
    return salted_hmac("guichet.backoffice.session", f"{agent.password}:{agent.totp_secret}",
                       algorithm="sha256").hexdigest()


def sign_in(request: HttpRequest, agent: Agent) -> None:
    # A new session key at sign-in: a key planted before cannot be used to ride the agent's session.
    request.session.cycle_key()
    now = time.time()
    request.session[AGENT_KEY] = agent.pk
    request.session[HASH_KEY] = _credentials_hash(agent)
    request.session[SEEN_KEY] = request.session[SINCE_KEY] = now
    request.session.pop(EXPIRED_KEY, None)


def sign_out(request: HttpRequest) -> None:
    for key in _KEYS:
        request.session.pop(key, None)
    request.session.cycle_key()


def current(request: HttpRequest) -> Agent | None:
    """The signed-in agent, or None (and the agent part of the session is cleared if it has ended)."""
    agent_id = request.session.get(AGENT_KEY)
    if agent_id is None:
        return None
    now = time.time()
    agent = Agent.objects.filter(pk=agent_id, active=True).first()
    idle = now - request.session.get(SEEN_KEY, 0)
    age = now - request.session.get(SINCE_KEY, 0)
    if agent is None or request.session.get(HASH_KEY) != _credentials_hash(agent) \
            or idle > IDLE_SECONDS or age > MAX_SECONDS:
        sign_out(request)
        request.session[EXPIRED_KEY] = True
        return None
    request.session[SEEN_KEY] = now
    return agent


View = Callable[..., HttpResponse]


def agent_required(view: View) -> View:
    """The view receives the agent as `request.agent`; others go to the sign-in page."""

    @never_cache
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        agent = current(request)
        if agent is None:
            return redirect(reverse("backoffice:login") + "?suite=" + request.path)
        request.agent = agent  # type: ignore[attr-defined]  # read back by the views
        return view(request, *args, **kwargs)

    return wrapper
