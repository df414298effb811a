"""Supervisors' view of what agents did: every event whose actor is an agent, newest first."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from guichet.audit.models import Event
from guichet.backoffice.models import Agent
from guichet.backoffice.sessions import agent_required

PAGE_SIZE = 50


@agent_required
def activity(request: HttpRequest) -> HttpResponse:
    agent: Agent = request.agent  # type: ignore[attr-defined]  # set by sessions.agent_required
    if not agent.is_supervisor:
        raise PermissionDenied
    events = Event.objects.filter(actor__startswith="agent:").select_related("organisation").order_by("-at", "-id")
    wanted = request.GET.get("agent", "")
    if wanted.isdigit():
        events = events.filter(actor=f"agent:{wanted}")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "backoffice/activity.html", {
        "page": page, "rows": labelled(page), "agents": Agent.objects.order_by("name"), "wanted": wanted})


def labelled(events: Iterable[Event]) -> list[tuple[Event, str]]:
    """Each event with who did it in words: an agent's name rather than agent:<id>."""
    events = list(events)
    ids = {e.actor.removeprefix("agent:") for e in events if e.actor.startswith("agent:")}
    names = {f"agent:{a.pk}": f"{a.name} ({a.email})"
             for a in Agent.objects.filter(pk__in=[i for i in ids if i.isdigit()])}
    return [(e, names.get(e.actor, e.actor)) for e in events]
