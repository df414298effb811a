"""Fixtures for the console: enrolled agents (with their authenticator seed) and signed-in clients."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pyotp
import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.utils import timezone

from guichet.backoffice.models import Agent
from guichet.identities import totp
from guichet.organisations.models import Organisation

AGENT_PASSWORD = "Quatre-Chevaux-Verts-1987!"


class Enrolled:
    """An agent as the test knows it: the row, and the seed of their authenticator app."""

    def __init__(self, agent: Agent, seed: str):
        self.agent, self.seed = agent, seed

    def code(self, offset_steps: int = 0) -> str:
        """The code the agent's app shows now (or `offset_steps` periods of 30 s later)."""
        moment = timezone.now() + timedelta(seconds=30 * offset_steps)
        return pyotp.TOTP(self.seed).at(moment)


def must_find(pattern: str, text: str) -> re.Match[str]:
    found = re.search(pattern, text)
    assert found is not None, f"{pattern!r} not found in:\n{text[:3000]}"
    return found


@pytest.fixture
def make_agent(db: None) -> Callable[..., Enrolled]:
    counter = iter(range(1, 1000))

    def make(*organisations: Organisation, role: str = "agent", active: bool = True,
             all_organisations: bool | None = None) -> Enrolled:
        """A supervisor given no organisation reaches them all (as `agents create --all-organisations`)."""
        n = next(counter)
        seed = totp.new_seed()
        if all_organisations is None:
            all_organisations = role == "supervisor" and not organisations
        agent = Agent.objects.create(name=f"Agent {n}", email=f"agent{n}@caisse.example", role=role,
                                     password=make_password(AGENT_PASSWORD), totp_secret=totp.seal(seed),
                                     active=active, all_organisations=all_organisations)
        agent.organisations.set(organisations)
        return Enrolled(agent, seed)

    return make


def sign_in(client: Client, enrolled: Enrolled, *, password: str = AGENT_PASSWORD, code: str | None = None):
    return client.post("/agents/connexion/", {"email": enrolled.agent.email, "password": password,
                                              "code": enrolled.code() if code is None else code})


@pytest.fixture
def agent_client() -> Callable[[Enrolled], Client]:
    """A browser-like client signed in to the console as this agent (through the real sign-in page)."""

    def make(enrolled: Enrolled) -> Client:
        client = Client()
        response = sign_in(client, enrolled)
        assert response.status_code == 302, response.content.decode()[:2000]
        return client

    return make

