"""Fixtures of the provider and federation tests: Guichet on a live HTTP server, members, clients."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings

from guichet.conftest import PASSWORD
from guichet.identities.models import Account
from guichet.journeys.paths import journey_path
from guichet.oidc.provider.clients import NewClient, add_client
from guichet.oidc.testing.browsing import Arrival, Browser
from guichet.organisations.models import Organisation

CALLBACK = "http://127.0.0.1:9/app/callback"        # never fetched: the browser stops there
AFTER_LOGOUT = "http://127.0.0.1:9/app/signed-out"


@pytest.fixture(autouse=True)
def _close_browsers() -> Iterator[None]:
    yield
    Browser.close_all()


@pytest.fixture
def live_base(live_server: Any, settings: LazySettings, organisations: dict[str, Organisation]) -> str:
    """Guichet served over real HTTP, with BASE_URL (hence the issuers) at that address."""
    settings.BASE_URL = live_server.url
    return str(live_server.url)


@pytest.fixture
def make_member(make_account: Callable[..., Account]) -> Callable[..., Account]:
    """A member who signs in with a password only (organisations without a second factor at sign-in)
    and already confirmed their contact details (the farm's first sign-in asks for it)."""
    from django.utils import timezone

    def make(organisation: Organisation, **record: Any) -> Account:
        account = make_account(organisation, factors=(), **record)
        Account.objects.filter(pk=account.pk).update(contact_confirmed_at=timezone.now())
        account.refresh_from_db()
        return account

    return make


@pytest.fixture
def farm_member(make_member: Callable[..., Account], farm: Organisation) -> Account:
    from datetime import date

    return make_member(farm, birth_date=date(1956, 3, 14))


@pytest.fixture
def make_client() -> Callable[..., NewClient]:
    def make(organisation: Organisation, public: bool = False,
             scopes: tuple[str, ...] = ("openid", "profile", "email", "member")) -> NewClient:
        return add_client(organisation, name="Espace adhérent", redirect_uris=[CALLBACK],
                          post_logout_redirect_uris=[AFTER_LOGOUT], public=public, scopes=list(scopes))

    return make


def sign_in(browser: Browser, base: str, login_page: Arrival, account: Account, *, stop_at: str = "") -> Arrival:
    """Type the identifier and password on Guichet's sign-in page (already open in the browser)."""
    assert login_page.page.url == base + journey_path(account.organisation.slug, "login"), login_page.url
    return browser.submit(login_page.page, {"identifier": account.identifier, "password": PASSWORD,
                                            "action": "sign_in"}, stop_at=stop_at)


# --- A real upstream provider (npm package oidc-provider) for the federation tests ---

REPOSITORY = Path(__file__).resolve().parents[3]
PROVIDER_SCRIPT = Path(__file__).parent / "testing" / "provider.mjs"
FARM_SLUG = "caisse-agricole-exemple"
IDENTITIES = {
    # What FranceConnect would say of Marie Dupont, born on 14 March 1956 (every first name, birth name
    # in capitals).
    "marie": {"given_name": "Marie Claire", "family_name": "DUPONT", "birthdate": "1956-03-14",
              "gender": "female", "birthplace": "75056", "email": "marie.claire@example.net"},
    "jean": {"given_name": "Jean", "family_name": "Lefèvre", "birthdate": "1949-11-02", "gender": "male",
             "birthplace": "69123"},
    "stranger": {"given_name": "Paul", "family_name": "Inconnu", "birthdate": "1980-01-01", "gender": "male",
                 "birthplace": "13055"},
}


@dataclass(frozen=True)
class UpstreamProvider:
    issuer: str
    client_id: str
    client_secret: str


def _unavailable(reason: str) -> None:
    """Skip, or fail when the machine promised its test tools (GUICHET_REQUIRE_BROWSER=1, as in CI)."""
    if os.environ.get("GUICHET_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (GUICHET_REQUIRE_BROWSER=1, so this is an error)", pytrace=False)
    pytest.skip(reason)


@contextmanager
def _provider_running(live_server_url: str, *,
                      end_session: bool = True) -> Iterator[tuple[UpstreamProvider, subprocess.Popen[str]]]:
    """oidc-provider running in node on 127.0.0.1, with one client: the farm's addresses on the live server.
    Without end_session, its discovery document names no end_session_endpoint (no RP-initiated logout)."""
    if shutil.which("node") is None:
        _unavailable("node is not installed: the federation tests run a real provider in node")
    if not (REPOSITORY / "node_modules" / "oidc-provider").is_dir():
        _unavailable("node_modules/oidc-provider is missing: run npm ci")
    client_id, secret = "guichet-test", "test-secret-" + "x" * 40
    federation = f"{live_server_url}/o/{FARM_SLUG}/federation/franceconnect"
    settings = {"client_id": client_id, "client_secret": secret, "redirect_uri": f"{federation}/callback",
                "post_logout_redirect_uri": f"{federation}/signed-out", "identities": IDENTITIES,
                "end_session": end_session}
    # Its messages go to a file: a pipe nobody reads would block the provider once full.
    log = tempfile.TemporaryFile(mode="w+")
    # node from PATH, our own script and settings: nothing here comes from outside the test.
    process = subprocess.Popen(["node", str(PROVIDER_SCRIPT), json.dumps(settings)], cwd=REPOSITORY,  # noqa: S603, S607
                               stdout=subprocess.PIPE, stderr=log, text=True)
    assert process.stdout is not None
    try:
        ready, _, _ = select.select([process.stdout], [], [], 30)
        line = process.stdout.readline() if ready else ""
        if not line:
            process.kill()
            log.seek(0)
            pytest.fail(f"the test provider did not start: {log.read()}")
        yield UpstreamProvider(json.loads(line)["issuer"], client_id, secret), process
    finally:
        process.send_signal(signal.SIGCONT)   # a frozen provider (StoppableProvider.freeze) ends too
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def upstream_provider(live_server: Any) -> Iterator[UpstreamProvider]:
    """The provider the federation tests share."""
    with _provider_running(live_server.url) as (provider, _):
        yield provider


@dataclass(frozen=True)
class StoppableProvider:
    provider: UpstreamProvider
    process: subprocess.Popen[str]

    def stop(self) -> None:
        """Down: connections to its address are refused."""
        self.process.terminate()
        self.process.wait(timeout=10)

    def freeze(self) -> None:
        """Unreachable in another way: its address still accepts connections (the kernel does), but the
        provider never answers, so a caller waits for its own timeout."""
        self.process.send_signal(signal.SIGSTOP)


@pytest.fixture
def stoppable_provider(live_server: Any) -> Iterator[StoppableProvider]:
    """A provider of this test's own, which the test may stop (the provider going down)."""
    with _provider_running(live_server.url) as (provider, process):
        yield StoppableProvider(provider, process)


@pytest.fixture
def provider_without_end_session(live_server: Any) -> Iterator[UpstreamProvider]:
    """A provider of this test's own whose discovery document has no end_session_endpoint."""
    with _provider_running(live_server.url, end_session=False) as (provider, _):
        yield provider


def federate(farm: Organisation, provider: UpstreamProvider, monkeypatch: pytest.MonkeyPatch,
             **options: Any) -> Organisation:
    """The farm with FranceConnect switched on, pointing at a local test provider."""
    from guichet.organisations.apply import apply
    from guichet.policy.model import Organisation as Policy

    monkeypatch.setenv("TEST_FRANCECONNECT_SECRET", provider.client_secret)
    document = farm.policy.model_dump(mode="json")
    document["login"]["federation"]["franceconnect"] |= {
        "issuer": provider.issuer, "client_id": provider.client_id,
        "client_secret_env": "TEST_FRANCECONNECT_SECRET", "enabled": True, "match": [
            "given_name", "family_name", "birthdate"],
        "categories": []} | options   # the tests' registry records have no category unless a test says so
    apply([Policy.model_validate(document)])
    farm.refresh_from_db()
    return farm


@pytest.fixture
def federated_farm(farm: Organisation, upstream_provider: UpstreamProvider, live_base: str,
                   monkeypatch: pytest.MonkeyPatch) -> Organisation:
    """The farm with FranceConnect switched on, pointing at the shared test provider."""
    return federate(farm, upstream_provider, monkeypatch)
