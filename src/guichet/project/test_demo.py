"""`guichet demo` as a visitor runs it: one command, then pages, mailbox and styles over real HTTP."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings

from guichet.project.test_serve import clean_environment, free_port, get, guichet, running


def test_demo_prepares_everything_and_serves(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "demo.log"
    environment = clean_environment(DATA_DIR=str(tmp_path))  # its own SQLite file, development settings
    command = guichet("demo", "--port", str(port), "--members", "5")
    # Ctrl+C, as a visitor stops it.
    with running(command, port, environment, log, stop_signal=signal.SIGINT):
        index = get(port, "/")
        mailbox = get(port, "/_mailbox/")
        styles = get(port, "/static/guichet/guichet.css")
    output = log.read_text()
    assert index.status == 200, output
    assert mailbox.status == 200, output
    assert styles.status == 200, output  # the development server serves the static files
    assert f"http://127.0.0.1:{port}/_mailbox/" in output
    assert "marie-helene.darcy@example.org" in output  # a demo account is shown in the banner
    # In the operator's language, French by default, like every command (GUICHET_LANGUAGE=en for English).
    assert "Démo de Guichet" in output and "né(e) le 14/03/1958" in output and "Création de 5 adhérents" in output

    with sqlite3.connect(tmp_path / "guichet.sqlite3") as database:
        organisations = database.execute("SELECT count(*) FROM organisations_organisation").fetchone()[0]
        members = database.execute("SELECT count(*) FROM registry_memberrecord").fetchone()[0]
    assert organisations == 3
    assert members == 3 * (5 + 3)  # synthetic members, plus the three demo members of each organisation


def test_demo_never_runs_with_production_settings(tmp_path: Path) -> None:
    """An operator's GUICHET_ENV=production wins over the demo's development default."""
    environment = clean_environment(GUICHET_ENV="production", DATA_DIR=str(tmp_path))
    result = subprocess.run(guichet("demo"), env=environment, cwd=settings.BASE_DIR,  # noqa: S603
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode != 0
    assert "Guichet refuse de démarrer" in result.stderr
