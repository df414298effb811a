"""guichet audit export [--since DATE] [--organisation SLUG] > events.jsonl

What it says is translated (French by default, as every Guichet command); the JSON lines are data, unchanged."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from guichet.audit import export
from guichet.organisations.models import Organisation


def parse_since(value: str) -> datetime:
    """A date (midnight, local time) or an ISO date and time; naive values are local time."""
    try:
        moment = parse_datetime(value)
        if moment is None and (day := parse_date(value)) is not None:
            moment = datetime.combine(day, time.min)
    except ValueError:   # well formed but impossible: 2025-02-30, 2025-01-31T25:00
        moment = None
    if moment is None:
        raise CommandError(_("--since: %(value)r is not a date (2025-01-31) nor a date and time "
                             "(2025-01-31T08:00:00+01:00)") % {"value": value})
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class Command(BaseCommand):
    help = "Export audit events as JSON lines (one event a line, oldest first) on standard output."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["export"])
        parser.add_argument("--since", help="Only events at or after this date (YYYY-MM-DD) or ISO date-time")
        parser.add_argument("--organisation", metavar="SLUG", help="Only this organisation's events")

    def handle(self, *args: Any, action: str, since: str | None, organisation: str | None, **options: Any) -> None:
        start = parse_since(since) if since else None
        if organisation and not Organisation.objects.filter(slug=organisation).exists():
            raise CommandError(_("--organisation: no organisation %(slug)r") % {"slug": organisation})
        count = export.write(self.stdout, since=start, organisation_slug=organisation)
        # The count goes to standard error: standard output is the JSON lines file.
        self.stderr.write(ngettext("%(count)d event exported", "%(count)d events exported", count) % {"count": count})
