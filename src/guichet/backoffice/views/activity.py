"""Supervisors' view of what agents did: events whose actor is an agent, newest first.

A supervisor with every organisation sees every such event. A supervisor limited to some organisations sees
the events of those organisations, and the events tied to none (sign-ins, searches across organisations,
refused attempts) of the agents who share one of them: nothing of another organisation's members.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from guichet.audit.models import Event
from guichet.backoffice import agents, consultations
from guichet.backoffice.models import Agent
from guichet.backoffice.sessions import agent_required
from guichet.security.ratelimit import client_ip

PAGE_SIZE = 50


@agent_required
def activity(request: HttpRequest) -> HttpResponse:
    agent: Agent = request.agent  # type: ignore[attr-defined]  # set by sessions.agent_required
    if not agent.is_supervisor:
        consultations.refused(agent, action="activity", refusal="supervisor_only", account=None,
                              ip=client_ip(request))
        raise PermissionDenied
    events, colleagues = visible(agent)
    events = events.select_related("organisation").order_by("-at", "-id")
    wanted = request.GET.get("agent", "")
    if wanted.isdigit():
        events = events.filter(actor=f"agent:{wanted}")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "backoffice/activity.html", {
        "page": page, "rows": labelled(page), "agents": colleagues.order_by("name"), "wanted": wanted})


def visible(supervisor: Agent) -> tuple[QuerySet[Event], QuerySet[Agent]]:
    """The agents' events this supervisor may read, and the agents whose events these are."""
    events = Event.objects.filter(actor__startswith="agent:")
    if supervisor.global_reach:
        return events, Agent.objects.all()
    organisations = agents.scope(supervisor)
    colleagues = Agent.objects.filter(Q(organisations__in=organisations) | Q(pk=supervisor.pk)).distinct()
    actors = [agent.actor for agent in colleagues]
    return events.filter(Q(organisation__in=organisations) | Q(organisation__isnull=True, actor__in=actors)), \
        colleagues


def labelled(events: Iterable[Event]) -> list[tuple[Event, str]]:
    """Each event with who did it in words: an agent's name rather than agent:<id>."""
    events = list(events)
    ids = {e.actor.removeprefix("agent:") for e in events if e.actor.startswith("agent:")}
    names = {f"agent:{a.pk}": f"{a.name} ({a.email})"
             for a in Agent.objects.filter(pk__in=[i for i in ids if i.isdigit()])}
    return [(e, names.get(e.actor, e.actor)) for e in events]
