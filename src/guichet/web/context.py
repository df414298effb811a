"""Building a journey Context from a request: the one place where the request is read."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import get_language

from guichet.journeys.engine import Context
from guichet.security.ratelimit import client_ip

BINDING = "journey_binding"


def context_for(request: HttpRequest, organisation: object) -> Context:
    return Context(
        organisation=organisation,
        language=(get_language() or "fr")[:2],
        now=timezone.now(),
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:200],
        base_url=settings.BASE_URL,
        cookies=dict(request.COOKIES),
        account_id=request.user.pk if request.user.is_authenticated else None,
    )


def binding_secret(request: HttpRequest) -> str:
    """A random secret in the session: runs are bound to it, so a run id alone is worth nothing."""
    secret = request.session.get(BINDING)
    if not secret:
        secret = request.session[BINDING] = secrets.token_urlsafe(32)
    return str(secret)
