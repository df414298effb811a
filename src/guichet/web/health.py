"""Liveness, readiness and metrics for operators and load balancers.

/healthz   the process answers (no dependency checked: a load balancer must not kill every node
           because the database blinked).
/readyz    the database answers and has every migration applied, and Redis answers when configured.
/metrics   Prometheus text format; only from addresses in METRICS_ALLOWED_IPS (default: loopback).
"""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from guichet.channels.models import Message
from guichet.security.ratelimit import client_ip


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        checks["database"] = "ok" if not pending else f"{len(pending)} migration(s) not applied"
    except DatabaseError as error:
        checks["database"] = f"unreachable: {error.__class__.__name__}"
    if settings.REDIS_URL:
        try:
            import redis

            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
            checks["redis"] = "ok"
        except redis.RedisError as error:
            checks["redis"] = f"unreachable: {error.__class__.__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503)


def _allowed(request: HttpRequest) -> bool:
    return client_ip(request) in settings.METRICS_ALLOWED_IPS


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Cluster-wide figures read from the shared database, so every node reports the same truth."""
    if not _allowed(request):
        return HttpResponse(status=404)
    lines = ["# HELP guichet_outbox_messages Messages in the outbox by channel and status.",
             "# TYPE guichet_outbox_messages gauge"]
    from django.db.models import Count

    rows = Message.objects.values("channel", "status").annotate(n=Count("id")).order_by()
    for row in rows:
        lines.append(f'guichet_outbox_messages{{channel="{row["channel"]}",status="{row["status"]}"}} {row["n"]}')
    from prometheus_client import REGISTRY, generate_latest

    body = "\n".join(lines) + "\n" + generate_latest(REGISTRY).decode()
    return HttpResponse(body, content_type="text/plain; version=0.0.4; charset=utf-8")
