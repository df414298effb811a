"""Idle and absolute session timeouts (SESSION_IDLE_MINUTES, SESSION_MAX_HOURS)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from guichet.security.ratelimit import client_ip
from guichet.web import outcomes


class SessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and "signed_in_at" in request.session:
            now = time.time()
            idle = now - request.session.get("seen_at", 0)
            age = now - request.session["signed_in_at"]
            if idle > settings.SESSION_IDLE_SECONDS or age > settings.SESSION_MAX_SECONDS:
                outcomes.sign_out(request, client_ip(request), reason="timeout")
                request.session["expired"] = True
            elif idle > 60:   # write at most once a minute
                request.session["seen_at"] = now
        return self.get_response(request)
