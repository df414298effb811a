"""Guichet's own deployment checks, run by `guichet serve` (and `guichet check --deploy`) beside Django's."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def client_addresses(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """In production Guichet serves plain HTTP behind the operator's TLS proxy (it trusts X-Forwarded-Proto).
    With TRUSTED_PROXY_COUNT at 0 it would see that proxy's address as every member's: the per-address
    limits would then count all members together, and one abuser would block everybody."""
    if settings.PRODUCTION and settings.TRUSTED_PROXY_COUNT == 0:
        return [checks.Warning(
            "TRUSTED_PROXY_COUNT is 0: behind the reverse proxy that terminates TLS, every member would have "
            "the proxy's address, and the per-address limits would count them all together.",
            hint="Set TRUSTED_PROXY_COUNT to the number of proxies before Guichet (usually 1); see "
                 "docs/deployment.md.",
            id="guichet.W001")]
    return []
