"""Agent sessions: beside any member session in the same Django session, under their own keys.

An agent session ends after 15 idle minutes or 10 hours in all, when the agent is disabled, or when
their password or authenticator changes (a hash of both is kept and compared at each request).

Every end is audited as `agent.logout`, the agent as actor, with the reason (signed_out, idle, max_duration,
agent_disabled, credentials_changed, new_sign_in) and how long the session lasted: an organisation can tell
from the trail when each console session began and ended. An end the agent did not ask for is recorded when
the console notices it, at the next request of that browser.
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

from guichet.audit.record import record
from guichet.backoffice.models import Agent
from guichet.security.ratelimit import client_ip

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
    if request.session.get(AGENT_KEY) is not None:   # another console session in this browser ends here
        sign_out(request, reason="new_sign_in")
    # A new session key at sign-in: a key planted before cannot be used to ride the agent's session.
    request.session.cycle_key()
    now = time.time()
    request.session[AGENT_KEY] = agent.pk
    request.session[HASH_KEY] = _credentials_hash(agent)
    request.session[SEEN_KEY] = request.session[SINCE_KEY] = now
    request.session.pop(EXPIRED_KEY, None)


def sign_out(request: HttpRequest, *, reason: str = "signed_out") -> None:
    """Ends the agent part of the session (audited, if there was one) and gives the browser a new key."""
    agent_id = request.session.get(AGENT_KEY)
    if agent_id is not None:
        since = request.session.get(SINCE_KEY)
        record("agent.logout", actor=f"agent:{agent_id}", ip=client_ip(request), agent_id=agent_id, reason=reason,
               seconds=round(time.time() - since) if since else None)
    for key in _KEYS:
        request.session.pop(key, None)
    request.session.cycle_key()


def _ended(request: HttpRequest, agent: Agent | None, now: float) -> str:
    """Why the agent's session has ended, or "" if it goes on."""
    if agent is None:
        return "agent_disabled"   # disabled (or removed): no console at all
    if request.session.get(HASH_KEY) != _credentials_hash(agent):
        return "credentials_changed"
    if now - request.session.get(SEEN_KEY, 0) > IDLE_SECONDS:
        return "idle"
    if now - request.session.get(SINCE_KEY, 0) > MAX_SECONDS:
        return "max_duration"
    return ""


def current(request: HttpRequest) -> Agent | None:
    """The signed-in agent, or None (and the agent part of the session is cleared if it has ended)."""
    agent_id = request.session.get(AGENT_KEY)
    if agent_id is None:
        return None
    now = time.time()
    agent = Agent.objects.filter(pk=agent_id, active=True).first()
    reason = _ended(request, agent, now)
    if reason:
        sign_out(request, reason=reason)
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
