"""Health, readiness, metrics and security headers, over the real request stack."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_health_and_readiness(client: Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"


def test_metrics_only_from_allowed_addresses(pension, client: Client) -> None:
    from guichet.channels import outbox

    outbox.send_email(pension, to="a@example.org", template="login_code", context={"code": "123456", "minutes": 5},
                      language="fr")
    body = client.get("/metrics").content.decode()
    assert 'guichet_outbox_messages{channel="email",status="pending"} 1' in body
    assert Client(REMOTE_ADDR="203.0.113.9").get("/metrics").status_code == 404


def test_pages_carry_a_strict_content_security_policy(pension, client: Client) -> None:
    response = client.get(f"/o/{pension.slug}/connexion/")
    policy = response["Content-Security-Policy"]
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert f'nonce="{nonce}"' in response.content.decode()   # the organisation's colour style is allowed
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
