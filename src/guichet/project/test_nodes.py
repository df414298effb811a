"""Three stateless nodes with production settings behind a round-robin load balancer: lock-outs,
rate limits, one-time codes and sessions hold whichever node answers.

The nodes share one database (PostgreSQL and Redis when CI provides them through TEST_POSTGRES_URL and
TEST_REDIS_URL, else one SQLite file) and nothing else.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.conf import settings

from guichet.project.balancer import RoundRobin
from guichet.project.test_serve import free_port, guichet, production_environment, running, scratch_database

HOST = "guichet.example"
PENSION, HEALTH = "caisse-retraite-exemple", "mutuelle-sante-exemple"
PASSWORD = "Correct-Horse-42!"

CREATE_ACCOUNTS = f"""
from django.utils import timezone
from guichet.identities import actions
from guichet.organisations.models import Organisation
now = timezone.now()
for slug, identifier, email in [("{PENSION}", "melkior@example.org", "melkior@example.org"),
                                ("{HEALTH}", "750000014", "finess@example.org")]:
    account = actions.create_account(Organisation.objects.get(slug=slug), identifier=identifier, email=email,
                                     state="active", actor="test")
    actions.set_password(account, "{PASSWORD}", now=now, actor="test")
    if slug == "{PENSION}":
        actions.enrol_factor(account, "email", now=now)
"""


@pytest.fixture
def shared_database(tmp_path: Path) -> Iterator[str]:
    """The nodes' database: a PostgreSQL database of its own (dropped afterwards) when CI provides
    TEST_POSTGRES_URL, else one SQLite file."""
    base = os.environ.get("TEST_POSTGRES_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'shared.sqlite3'}"
        return
    with scratch_database(base, "guichet_nodes") as url:
        yield url


class Member:
    """A browser-like client: keeps its cookies (Secure ones too, as behind TLS) and the CSRF token."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None, port: int | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=30)
        headers = {"Host": HOST, "Origin": f"https://{HOST}", "Referer": f"https://{HOST}/",
                   "Content-Type": "application/json",
                   "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if port:   # straight to a node, as the proxy would
            headers |= {"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1"}
        if "guichet_csrf" in self.cookies:
            headers["X-CSRFToken"] = self.cookies["guichet_csrf"]
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        for key, value in response.getheaders():
            if key.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        data = response.read()
        return response.status, (json.loads(data) if data.startswith(b"{") else {})

    def start(self, slug: str, journey: str = "login") -> dict:
        self.request("GET", "/api/csrf")
        status, screen = self.request("POST", f"/api/o/{slug}/journeys/{journey}")
        assert status == 201, screen
        return screen

    def submit(self, slug: str, run: str, values: dict, action: str, journey: str = "login") -> dict:
        return self.request("POST", f"/api/o/{slug}/journeys/{journey}/{run}", {"values": values, "action": action})[1]


@pytest.fixture
def cluster(tmp_path: Path, smtp_sink, shared_database: str) -> Iterator[tuple[RoundRobin, dict[str, str]]]:
    # shared_database is dropped after this fixture has stopped the nodes.
    environment = production_environment(tmp_path) | {
        "BASE_URL": f"https://{HOST}", "DATABASE_URL": shared_database, "EMAIL_URL": settings.EMAIL_URL,
        "TRUSTED_PROXY_COUNT": "1",
    }
    if os.environ.get("TEST_REDIS_URL"):
        environment["REDIS_URL"] = os.environ["TEST_REDIS_URL"].rsplit("/", 1)[0] + "/3"
    for command in (("migrate", "--verbosity", "0"), ("organisations", "apply"), ("shell", "-c", CREATE_ACCOUNTS)):
        subprocess.run(guichet(*command), env=environment, cwd=settings.BASE_DIR, check=True,
                       stdin=subprocess.DEVNULL, capture_output=True)
    with ExitStack() as stack:
        ports = []
        for n in range(3):
            port = free_port()
            stack.enter_context(running(guichet("serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"), port,
                                        environment, tmp_path / f"node{n}.log"))
            ports.append(port)
        balancer = RoundRobin(ports).start()
        stack.callback(balancer.shutdown)
        yield balancer, environment


@pytest.mark.django_db
def test_lockout_codes_sessions_and_rate_limits_hold_across_nodes(cluster, smtp_sink) -> None:
    balancer, environment = cluster
    member = Member(balancer.port)

    # Lock-out (health mutual: 3 failures), each try answered by another node.
    for _ in range(3):
        screen = member.start(HEALTH)
        assert member.submit(HEALTH, screen["run"], {"identifier": "750000014", "password": "wrong"},
                             "sign_in")["notices"][0]["code"] == "login.invalid"
    screen = member.start(HEALTH)
    locked = member.submit(HEALTH, screen["run"], {"identifier": "750000014", "password": PASSWORD}, "sign_in")
    assert locked["notices"][0]["code"] == "login.invalid"

    # A code sent by one node is checked by another; the session then holds on every node.
    screen = member.start(PENSION)
    screen = member.submit(PENSION, screen["run"], {"identifier": "melkior@example.org", "password": PASSWORD},
                           "sign_in")
    assert screen["step"] == "second_factor", screen
    subprocess.run(guichet("worker", "--once"), env=environment, cwd=settings.BASE_DIR, check=True,
                   stdin=subprocess.DEVNULL, capture_output=True)
    code = smtp_sink.last_to("melkior@example.org", deliver=False).code   # delivered by the worker process
    done = member.submit(PENSION, screen["run"], {"code": code}, "verify")
    assert done.get("outcome") == "signed_in", done
    for port in balancer.ports:
        status, body = member.request("GET", f"/api/o/{PENSION}/session", port=port)
        assert status == 200 and body["signed_in"], (port, body)

    # A rate limit counts requests whichever node serves them (password checks: 300 per 5 minutes).
    statuses = [member.request("POST", f"/api/o/{PENSION}/password-check", {"password": "x"})[0] for _ in range(301)]
    assert statuses.count(200) == 300 and statuses[-1] == 429
    assert all(count > 100 for count in balancer.served.values()), balancer.served

