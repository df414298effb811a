"""The production entry points as an operator runs them: real processes, real HTTP, real settings."""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

# Variables of the test run that must not leak into the operator-like processes below.
INHERITED_OUT = {
    "GUICHET_ENV", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "BASE_URL",
    "EMAIL_URL", "SMS_URL", "POSTAL_URL", "DATA_DIR", "POLICY_DIR", "ALLOWED_HOSTS",
    "OIDC_RSA_PRIVATE_KEY", "GUICHET_LANGUAGE", "DJANGO_ALLOW_ASYNC_UNSAFE",  # the latter set by the browser fixture
}


def clean_environment(**variables: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in INHERITED_OUT}
    environment.update(variables)
    return environment


def guichet(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "guichet.project.cli", *arguments]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server stopped (exit {process.returncode}):\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listens on port {port} after {seconds} s:\n{log.read_text()}")


@contextmanager
def running(command: list[str], port: int, environment: dict[str, str], log: Path,
            stop_signal: int = signal.SIGTERM) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server process, wait until it listens, and always stop it afterwards."""
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=environment, cwd=settings.BASE_DIR,  # noqa: S603
                                   stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_for_port(port, process, log)
        yield process
    finally:
        process.send_signal(stop_signal)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def scratch_database(base_url: str, prefix: str) -> Iterator[str]:
    """A new PostgreSQL database beside base_url's, for servers this test starts; dropped afterwards, even
    when the test failed, so reused CI machines do not pile them up. WITH (FORCE) (PostgreSQL 13+) ends the
    sessions of any server still connected."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(base_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def get(port: int, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    response.read()
    return response


def signing_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def production_environment(tmp_path: Path) -> dict[str, str]:
    return clean_environment(
        GUICHET_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        BASE_URL="https://guichet.example",
        DATABASE_URL=f"sqlite:///{tmp_path / 'guichet.sqlite3'}",
        GUICHET_ALLOW_SQLITE_IN_PRODUCTION="1",
        DATA_DIR=str(tmp_path),
        EMAIL_URL="smtp://127.0.0.1:1",
        SMS_URL="https://token@127.0.0.1:1/sms",
        POSTAL_URL=f"file://{tmp_path / 'letters'}",
        OIDC_RSA_PRIVATE_KEY=signing_key(),
        WEB_CONCURRENCY="1",
    )


def test_serve_answers_over_http_with_security_headers(tmp_path: Path) -> None:
    environment = production_environment(tmp_path)
    subprocess.run(guichet("migrate", "--verbosity", "0"), env=environment, cwd=settings.BASE_DIR,  # noqa: S603
                   check=True, stdin=subprocess.DEVNULL)
    port = free_port()
    log = tmp_path / "serve.log"
    with running(guichet("serve", "--bind", f"127.0.0.1:{port}"), port, environment, log):
        # Behind the operator's TLS proxy, which says the member's connection was https.
        response = get(port, "/", {"Host": "guichet.example", "X-Forwarded-Proto": "https"})
        refused = get(port, "/", {"Host": "attacker.example"})
    assert response.status == 200, log.read_text()
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert response.getheader("X-Frame-Options") == "DENY"
    assert response.getheader("Referrer-Policy") == "same-origin"
    assert response.getheader("Strict-Transport-Security", "").startswith("max-age=31536000")
    assert "default-src 'self'" in response.getheader("Content-Security-Policy", "")
    assert refused.status == 400  # unknown Host header: never answered in production
    output = log.read_text()
    assert "Guichet répond sur 127.0.0.1" in output and "avec 1 processus." in output
    assert '"GET / HTTP/1.1" 200' in output  # the access log goes to standard output


def test_the_access_log_keeps_no_query_string_nor_referrer(tmp_path: Path) -> None:
    """An agent's enrolment link (?jeton=, valid 72 hours) and the console's search text (?q=) stay out of the
    log collector: `guichet serve` logs the path, never the query string, nor the Referer (the previous page's
    address, query string included)."""
    environment = production_environment(tmp_path)
    subprocess.run(guichet("migrate", "--verbosity", "0"), env=environment, cwd=settings.BASE_DIR,  # noqa: S603
                   check=True, stdin=subprocess.DEVNULL)
    port = free_port()
    log = tmp_path / "serve.log"
    token = "SECRET-ENROLMENT-TOKEN-xyz"
    headers = {"Host": "guichet.example", "X-Forwarded-Proto": "https",
               "Referer": "https://guichet.example/agents/?by=name&q=Hortense+Dupont-Secret"}
    with running(guichet("serve", "--bind", f"127.0.0.1:{port}"), port, environment, log):
        enrolment = get(port, f"/agents/activation/?jeton={token}", headers)
        search = get(port, "/agents/?by=name&q=Hortense+Dupont-Secret", headers)
    assert enrolment.status == search.status == 302, log.read_text()
    output = log.read_text()
    assert '"GET /agents/activation/ HTTP/1.1" 302' in output and '"GET /agents/ HTTP/1.1" 302' in output, output
    assert token not in output and "jeton" not in output, output
    assert "Hortense" not in output and "q=" not in output, output


def test_serve_refuses_a_database_without_migrations(tmp_path: Path) -> None:
    result = subprocess.run(guichet("serve", "--bind", f"127.0.0.1:{free_port()}"),  # noqa: S603
                            env=production_environment(tmp_path), cwd=settings.BASE_DIR,
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode != 0
    assert "lancez d'abord 'guichet migrate'." in result.stderr and "Il manque " in result.stderr


def test_production_defaults_refuse_to_start_with_every_problem_listed(tmp_path: Path) -> None:
    environment = clean_environment(GUICHET_ENV="production")
    result = subprocess.run(guichet("check"), env=environment, cwd=tmp_path,  # noqa: S603
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 2, result.stderr
    assert "Guichet refuse de démarrer avec ces réglages :" in result.stderr
    for variable in ("SECRET_KEY", "BASE_URL", "EMAIL_URL", "SMS_URL", "POSTAL_URL", "DATABASE_URL"):
        assert f"- {variable}" in result.stderr
    assert "Traceback" not in result.stderr


def refusal(environment: dict[str, str], cwd: Path,
            heading: str = "Guichet refuse de démarrer avec ces réglages :") -> str:
    """What `guichet check` says when it refuses these settings (it must refuse them, without a traceback),
    in French unless the environment asks for English."""
    result = subprocess.run(guichet("check"), env=environment, cwd=cwd,  # noqa: S603
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 2, result.stdout + result.stderr
    assert heading in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr


def test_production_lists_bad_numbers_and_a_missing_key_with_the_unsafe_values(tmp_path: Path) -> None:
    """Not one family of problems at a time: an unsafe value, two bad numbers and a missing key, all told."""
    told = refusal(production_environment(tmp_path) | {
        "SECRET_KEY": "short", "SESSION_IDLE_MINUTES": "fifteen", "OUTBOX_LEASE_SECONDS": "2min",
        "OIDC_RSA_PRIVATE_KEY": ""}, tmp_path)
    for variable in ("SECRET_KEY", "SESSION_IDLE_MINUTES", "OUTBOX_LEASE_SECONDS", "OIDC_RSA_PRIVATE_KEY"):
        assert f"- {variable}" in told, told
    assert "- OIDC_RSA_PRIVATE_KEY doit contenir la clé privée RSA (PEM)" in told, told


def test_production_refuses_numbers_out_of_range(tmp_path: Path) -> None:
    told = refusal(production_environment(tmp_path) | {
        "OUTBOX_LEASE_SECONDS": "10", "SESSION_IDLE_MINUTES": "0", "SESSION_MAX_HOURS": "-8",
        "PASSWORD_ARGON2_MEMORY_KIB": "1", "PASSWORD_ARGON2_PARALLELISM": "0", "TRUSTED_PROXY_COUNT": "-1"}, tmp_path)
    assert "OUTBOX_LEASE_SECONDS doit valoir au moins 30 en production (valeur actuelle : 10)" in told
    assert "SESSION_IDLE_MINUTES doit valoir au moins 1 (valeur actuelle : 0)" in told
    assert "SESSION_MAX_HOURS doit valoir au moins 1 (valeur actuelle : -8)" in told
    assert "PASSWORD_ARGON2_MEMORY_KIB doit valoir au moins 7168 en production (valeur actuelle : 1)" in told
    assert "PASSWORD_ARGON2_PARALLELISM doit valoir au moins 1 (valeur actuelle : 0)" in told
    assert "TRUSTED_PROXY_COUNT doit valoir au moins 0 (valeur actuelle : -1)" in told
    # Below OWASP's table: 9216 KiB needs 4 iterations.
    told = refusal(production_environment(tmp_path) | {"PASSWORD_ARGON2_MEMORY_KIB": "9216",
                                                       "PASSWORD_ARGON2_TIME_COST": "2"}, tmp_path)
    assert "PASSWORD_ARGON2_MEMORY_KIB x PASSWORD_ARGON2_TIME_COST doit valoir au moins 35840" in told


def test_production_refuses_unusable_or_clear_text_delivery_urls(tmp_path: Path) -> None:
    told = refusal(production_environment(tmp_path) | {
        "EMAIL_URL": "smpt://smtp.example", "SMS_URL": "http://secret-token@sms.example/send",
        "POSTAL_URL": "file:relative/spool", "REDIS_URL": "localhost:6379",
        "DATABASE_URL": "postgress://u:secret-password@db.example/g"}, tmp_path)
    for variable in ("EMAIL_URL", "POSTAL_URL", "REDIS_URL", "DATABASE_URL"):
        assert f"- {variable} doit" in told, told
    assert "SMS_URL doit commencer par https:// en production" in told
    assert "secret-token" not in told and "secret-password" not in told   # never quoted in the message
    # file://var/spool would spool to /spool: the host part of a file: URL is refused too.
    assert "- POSTAL_URL doit" in refusal(production_environment(tmp_path) | {"POSTAL_URL": "file://var/spool"},
                                          tmp_path)


def test_the_refusal_speaks_english_when_the_operator_asks_for_it(tmp_path: Path) -> None:
    told = refusal(production_environment(tmp_path) | {"GUICHET_LANGUAGE": "en", "SESSION_IDLE_MINUTES": "0",
                                                       "BASE_URL": "http://guichet.example"},
                   tmp_path, heading="Guichet refuses to start with these settings:")
    assert "- SESSION_IDLE_MINUTES must be at least 1, not 0." in told
    assert "- BASE_URL must start with https:// (now 'http://guichet.example')" in told
    assert "doit" not in told and "valeur actuelle" not in told


def test_the_commands_speak_the_operators_language_and_leave_the_members_default_alone(tmp_path: Path) -> None:
    def check_policies(**language: str) -> str:
        probe = ("from django.conf import settings; from guichet.project.cli import main; "
                 "print(settings.LANGUAGE_CODE); main(['organisations', 'check', 'policies/organisations'])")
        result = subprocess.run([sys.executable, "-c", probe],  # noqa: S603
                                env=clean_environment(GUICHET_ENV="test", DATA_DIR=str(tmp_path),
                                                      DJANGO_SETTINGS_MODULE="guichet.project.settings", **language),
                                cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=60,
                                stdin=subprocess.DEVNULL, check=True)
        return result.stdout

    assert check_policies() == ("fr\n3 fichiers de politique valides : caisse-agricole-exemple, "
                                "caisse-retraite-exemple, mutuelle-sante-exemple\n")
    assert check_policies(GUICHET_LANGUAGE="en") == ("fr\n3 policy files valid: caisse-agricole-exemple, "
                                                     "caisse-retraite-exemple, mutuelle-sante-exemple\n")


def test_an_unknown_language_is_refused_in_french(tmp_path: Path) -> None:
    told = refusal(production_environment(tmp_path) | {"GUICHET_LANGUAGE": "de"}, tmp_path)
    assert "- GUICHET_LANGUAGE doit valoir fr ou en (valeur actuelle : 'de')." in told


@pytest.mark.parametrize("variables", [{"DATABASE_URL": "postgress://u:p@db.example/g"}, {"LOG_FORMAT": "jsn"},
                                       {"EMAIL_URL": "smtp://smtp.example:twenty-five"},
                                       {"EMAIL_FROM": "Guichet <noreply@guichet.example>\nBcc: spy@attacker.example"}])
def test_a_bad_value_is_a_message_not_a_traceback(tmp_path: Path, variables: dict[str, str]) -> None:
    told = refusal(clean_environment(GUICHET_ENV="development", DATA_DIR=str(tmp_path / "data"), **variables),
                   tmp_path)
    assert f"- {next(iter(variables))}" in told
    assert not (tmp_path / "data" / "oidc-signing-key.pem").exists()   # bad settings change nothing


def test_a_worker_imports_every_view_before_its_first_request(tmp_path: Path) -> None:
    """Loading the application (what a gunicorn worker does at start-up) imports the URL configuration and
    its views, so the first member to reach a new worker does not wait half a second for them."""
    probe = ("import sys; import guichet.project.wsgi; "
             "print(sorted(m for m in ('guichet.project.urls', 'guichet.web.api.journeys', "
             "'oauth2_provider.views') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], env=production_environment(tmp_path),  # noqa: S603
                            cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL, check=True)
    assert result.stdout.strip() == "['guichet.project.urls', 'guichet.web.api.journeys', 'oauth2_provider.views']"


def test_production_warns_when_the_proxy_would_hide_members_addresses(tmp_path: Path) -> None:
    def deployment_check(**extra: str) -> str:
        result = subprocess.run(guichet("check", "--deploy"), env=production_environment(tmp_path) | extra,  # noqa: S603
                                cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=60,
                                stdin=subprocess.DEVNULL)
        return result.stdout + result.stderr

    assert "guichet.W001" in deployment_check()   # TRUSTED_PROXY_COUNT left at 0
    assert "guichet.W001" not in deployment_check(TRUSTED_PROXY_COUNT="1")


@pytest.mark.skipif(not os.environ.get("TEST_POSTGRES_URL"), reason="needs TEST_POSTGRES_URL")
def test_a_scratch_database_is_dropped_even_when_the_test_fails_with_a_server_still_connected() -> None:
    import psycopg

    base = os.environ["TEST_POSTGRES_URL"]
    with pytest.raises(RuntimeError, match="the test failed"), scratch_database(base, "guichet_scratch") as url:
        name = url.rsplit("/", 1)[1]
        held = psycopg.connect(url)  # as a server the test started and did not stop would hold it
        raise RuntimeError("the test failed")
    with psycopg.connect(base) as connection:
        assert not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchall()
    held.close()


@pytest.mark.parametrize(("value", "french", "english"), [
    ("deux", "WEB_CONCURRENCY doit être un nombre entier, pas 'deux'.",
     "WEB_CONCURRENCY must be a whole number, not 'deux'."),
    ("0", "WEB_CONCURRENCY doit valoir au moins 1.", "WEB_CONCURRENCY must be at least 1."),
])
def test_a_bad_web_concurrency_is_said_in_the_operators_language(monkeypatch: pytest.MonkeyPatch, value: str,
                                                                   french: str, english: str) -> None:
    from django.core.management import CommandError
    from django.utils import translation

    from guichet.project.management.commands.serve import default_workers

    monkeypatch.setenv("WEB_CONCURRENCY", value)
    for language, said in (("fr", french), ("en", english)):
        with translation.override(language), pytest.raises(CommandError) as refused:
            default_workers()
        assert str(refused.value) == said
