"""Security headers on every response: a strict Content-Security-Policy with a per-request nonce
(for the one inline style that carries the organisation's colour), and no framing, no sniffing."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(16)
        request.csp_nonce = nonce  # type: ignore[attr-defined]  # read back by csp_nonce below
        response = self.get_response(request)
        # No form-action: after signing in, a form post may be redirected on to an application's
        # redirect URI (OpenID Connect), which form-action would block in some browsers.
        response.setdefault("Content-Security-Policy", "; ".join([
            "default-src 'self'", "script-src 'self'", f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data:", "connect-src 'self'", "object-src 'none'", "base-uri 'none'",
            "frame-ancestors 'none'",
        ]))
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


def csp_nonce(request: HttpRequest) -> dict[str, Any]:
    """Template context processor: {{ csp_nonce }} for inline <style nonce>."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
