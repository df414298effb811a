"""guichet serve: the production web server (gunicorn), after Guichet's start-up checks.

The settings module already refuses unsafe production settings (SECRET_KEY, BASE_URL, delivery
addresses...). Here we add what only makes sense when serving: Django's deployment checks and a
database whose migrations are all applied, so that a half-upgraded node never answers members.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core import checks
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

WSGI_APPLICATION = "guichet.project.wsgi:application"

# Deployment warnings that describe decisions, not mistakes (docs/decisions.md, "Deployment"):
# the operator's reverse proxy redirects http to https, and HSTS for sub-domains or the browsers'
# preload list is a choice about the operator's whole domain, which Guichet cannot make for them.
DECIDED_WARNINGS = {"security.W005", "security.W008", "security.W021",
                    "oauth2_provider.W005"}   # RFC 9207 iss: added per organisation (settings.OAUTH2_PROVIDER)


# gunicorn's default access log format, with the path instead of the request line and no Referer: a query
# string may carry a secret (an agent's enrolment link ?jeton=, valid 72 hours) or personal data (the console's
# search ?q=, a name or an email), and the Referer is the previous page's address with its query string. The
# columns stay those of the combined log format (the Referer column is "-") for the operator's log parsers.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "-" "%(a)s"'


def default_workers() -> int:
    """WEB_CONCURRENCY if set, else gunicorn's advice for synchronous workers: 2 per core, plus 1."""
    raw = os.environ.get("WEB_CONCURRENCY", "").strip()
    if raw:
        try:
            workers = int(raw)
        except ValueError:
            raise CommandError(_("WEB_CONCURRENCY must be a whole number, not %(value)r.") % {"value": raw}) from None
        if workers < 1:
            raise CommandError(_("WEB_CONCURRENCY must be at least 1."))
        return workers
    return 2 * (os.cpu_count() or 1) + 1


def deployment_problems() -> tuple[list[str], list[str]]:
    """Django's checks including the deployment ones: (errors, warnings), decided warnings left out."""
    found = checks.run_checks(include_deployment_checks=True)
    errors = [str(m) for m in found if m.level >= checks.ERROR]
    warnings = [str(m) for m in found if m.level < checks.ERROR and m.id not in DECIDED_WARNINGS
                and m.level >= checks.WARNING]
    return errors, warnings


def pending_migrations() -> list[str]:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def gunicorn_arguments(bind: str, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", WSGI_APPLICATION,
        "--bind", bind,
        "--workers", str(workers),
        "--access-logfile", "-",  # one line per request on stdout, for the operator's log collector
        "--access-logformat", ACCESS_LOG_FORMAT,
        "--error-logfile", "-",
        "--timeout", "30",
        "--graceful-timeout", "20",
        # Password hashing is deliberately slow; a short keep-alive frees workers for other members.
        "--keep-alive", "2",
    ]


class Command(BaseCommand):
    help = "Serve Guichet in production with gunicorn (run 'guichet migrate' first)."
    requires_system_checks: list[str] = []  # run below, with the deployment checks

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="0.0.0.0:8000",  # noqa: S104 - a server listens on all interfaces
                            help="Address and port to listen on (default 0.0.0.0:8000)")
        parser.add_argument("--workers", type=int, default=None,
                            help="Worker processes (default: WEB_CONCURRENCY, else 2 per CPU core + 1)")

    def handle(self, *args: Any, bind: str, workers: int | None, **options: Any) -> None:
        errors, warnings = deployment_problems()
        for warning in warnings:
            self.stderr.write(_("Warning: %(warning)s") % {"warning": warning})
        if errors:
            raise CommandError(_("Guichet refuses to start:") + "\n" + "\n".join(f"  - {e}" for e in errors))
        pending = pending_migrations()
        if pending:
            named = ", ".join(pending[:3]) + (", ..." if len(pending) > 3 else "")
            raise CommandError(ngettext("The database is missing %(count)d migration (%(named)s): run 'guichet "
                                        "migrate' first.",
                                        "The database is missing %(count)d migrations (%(named)s): run 'guichet "
                                        "migrate' first.", len(pending)) % {"count": len(pending), "named": named})
        count = workers if workers is not None else default_workers()
        self.stdout.write(ngettext("Guichet serving on %(bind)s with %(count)d worker.",
                                   "Guichet serving on %(bind)s with %(count)d workers.", count)
                          % {"bind": bind, "count": count})
        self.stdout.flush()
        connections.close_all()  # the workers open their own; an inherited socket would be shared
        arguments = gunicorn_arguments(bind, count)
        os.execv(sys.executable, arguments)  # noqa: S606 - fixed program, arguments from the operator
