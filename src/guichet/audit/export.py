"""Audit events as JSON lines, one event a line, oldest first, for a SIEM or an archive.

Streams with `.iterator()`: a year of events never sits in memory at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol

from django.db.models import QuerySet

from guichet.audit.models import Event

CHUNK = 2000


class Writable(Protocol):
    def write(self, text: str) -> Any: ...


def events(*, since: datetime | None = None, organisation_slug: str | None = None) -> QuerySet[Event]:
    selected = Event.objects.select_related("organisation").order_by("at", "id")
    if since is not None:
        selected = selected.filter(at__gte=since)
    if organisation_slug:
        selected = selected.filter(organisation__slug=organisation_slug)
    return selected


def as_dict(event: Event) -> dict[str, Any]:
    return {
        "at": event.at.isoformat(),
        "kind": event.kind,
        "organisation": event.organisation.slug if event.organisation else None,
        "account_id": str(event.account_id) if event.account_id else None,
        "actor": event.actor,
        "ip": event.ip,
        "data": event.data,
    }


def lines(selected: QuerySet[Event]) -> Iterator[str]:
    for event in selected.iterator(chunk_size=CHUNK):
        yield json.dumps(as_dict(event), ensure_ascii=False, sort_keys=True, default=str) + "\n"


def write(out: Writable, *, since: datetime | None = None, organisation_slug: str | None = None) -> int:
    """Writes the events to `out`; returns how many."""
    count = 0
    for line in lines(events(since=since, organisation_slug=organisation_slug)):
        out.write(line)
        count += 1
    return count
