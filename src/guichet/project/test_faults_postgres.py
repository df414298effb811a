"""PostgreSQL restarted under load: accounts are created in a loop while the database restarts. Afterwards
every account exists completely (the account and its audit event) or not at all, the loop carries on
without a restart of its own, and `guichet serve` answers again (conn_health_checks).

Needs TEST_POSTGRES_URL, and the right to restart that cluster: TEST_POSTGRES_CTL is the pg_ctl command for
it (default: CI's cluster). It restarts the whole cluster, so never point it at a database others use.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from guichet.project.test_serve import free_port, get, guichet, production_environment, running, scratch_database

CI_CTL = "runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D /var/lib/postgresql/guichet-ci"
URL = os.environ.get("TEST_POSTGRES_URL", "")
pytestmark = pytest.mark.skipif(not URL, reason="needs TEST_POSTGRES_URL: a PostgreSQL cluster this test may restart")

# Creates accounts until the stop file exists; each is one transaction (account + its audit event).
# A failure (database away) is printed and the loop goes on, as a web node would with the next request.
LOOP = """
import time
from pathlib import Path
from django.db import connection
from guichet.identities import actions
from guichet.organisations.models import Organisation
stop, n = Path({stop!r}), 0
while not stop.exists():
    n += 1
    try:
        pension = Organisation.objects.get(slug="caisse-retraite-exemple")
        actions.create_account(pension, identifier=f"fault-{{n}}@example.org", state="active", actor="test")
        print("created", n, flush=True)
    except Exception as error:
        print("failed", n, type(error).__name__, flush=True)
        connection.close()
        time.sleep(0.05)
"""


def pg_ctl(*arguments: str, output: Path) -> int:
    """Run pg_ctl; its output goes to a file, never a pipe (a restarted server would hold the pipe open)."""
    command = shlex.split(os.environ.get("TEST_POSTGRES_CTL", CI_CTL)) + list(arguments)
    with output.open("ab") as log:
        return subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, timeout=120,  # noqa: S603
                              stdin=subprocess.DEVNULL).returncode


@pytest.fixture
def own_database() -> Iterator[str]:
    """Dropped afterwards, even when the test failed (after the cluster is running again: see the test)."""
    with scratch_database(URL, "guichet_faults") as url:
        yield url


def created(log: Path) -> int:
    return sum(line.startswith("created") for line in log.read_text().splitlines())


def wait_for(condition, what: str, log: Path, loop: subprocess.Popen[bytes],
             seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline or loop.poll() is not None:
            raise AssertionError(f"waited {seconds} s for {what}:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def test_accounts_are_whole_or_absent_across_a_postgresql_restart(tmp_path: Path, own_database: str) -> None:
    import psycopg

    database = own_database
    environment = production_environment(tmp_path) | {"DATABASE_URL": database}
    for command in (("migrate", "--verbosity", "0"), ("organisations", "apply")):
        subprocess.run(guichet(*command), env=environment, cwd=settings.BASE_DIR, check=True,  # noqa: S603
                       stdin=subprocess.DEVNULL, capture_output=True)
    port, stop, log, ctl_log = free_port(), tmp_path / "stop", tmp_path / "loop.log", tmp_path / "pg_ctl.log"
    try:
        with running(guichet("serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"), port, environment,
                     tmp_path / "serve.log"):
            assert get(port, "/readyz", {"Host": "guichet.example"}).status == 200
            with log.open("wb") as output:
                loop = subprocess.Popen(guichet("shell", "-c", LOOP.format(stop=str(stop))), env=environment,  # noqa: S603
                                        cwd=settings.BASE_DIR, stdout=output, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
            try:
                wait_for(lambda: created(log) >= 30, "30 accounts before the restart", log, loop)
                assert pg_ctl("restart", "-m", "fast", "-w", output=ctl_log) == 0, ctl_log.read_text()
                before = created(log)
                wait_for(lambda: created(log) >= before + 30, "30 accounts after the restart", log, loop)
            finally:
                stop.touch()
                loop.wait(timeout=60)
            # The node's kept connection died with the restart; the health check replaces it.
            deadline = time.monotonic() + 30
            while get(port, "/readyz", {"Host": "guichet.example"}).status != 200:
                assert time.monotonic() < deadline, "guichet serve never became ready after the restart"
                time.sleep(0.5)
    finally:
        if pg_ctl("status", output=ctl_log) != 0:  # whatever happened, leave the cluster running
            pg_ctl("start", "-w", output=ctl_log)
        connections.close_all()  # this test process's own connections died with the restart
    assert "failed" in log.read_text(), "the restart happened while no account was being created"
    with psycopg.connect(database) as connection:
        accounts = {str(row[0]) for row in connection.execute(
            "SELECT id FROM identities_account WHERE identifier LIKE 'fault-%'")}
        events = [str(row[0]) for row in connection.execute(
            "SELECT account_id FROM audit_event WHERE kind = 'account.created'")]
    assert len(accounts) == created(log)
    assert sorted(events) == sorted(accounts), "an account without its audit event, or an event without account"
