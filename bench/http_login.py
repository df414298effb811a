"""Password sign-ins over real HTTP against `guichet serve` (gunicorn, production settings), at several
concurrency levels, beside the raw argon2id rate of the same machine using the same number of cores.
Prints figures; asserts nothing.

    .venv/bin/python bench/http_login.py [--seconds 10] [--levels 1,4,16] [--workers N] [--cores 1] [--breakdown]

With --cores, Guichet runs only on those cores (Linux CPU numbers) and this client on the others, as on
a node of its own; the raw rate is then measured on those cores only. PostgreSQL and Redis are left where
the system runs them.

With --breakdown, it first prints the CPU each of the three requests of a sign-in costs, one at a time.

Uses a temporary SQLite file unless DATABASE_URL is set (use PostgreSQL for figures that mean something
for production). The farm preset is used: no second factor, so one request is one password check.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLUG, IDENTIFIER, PASSWORD = "caisse-agricole-exemple", "12345678", "Correct-Horse-42!"


def guichet(*args: str) -> list[str]:
    return [sys.executable, "-m", "guichet.project.cli", *args]


def environment(folder: Path) -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUICHET_") and k != "DJANGO_SETTINGS_MODULE"}
    env.update(GUICHET_ENV="production", SECRET_KEY=secrets.token_urlsafe(64), BASE_URL="https://guichet.example",
               DATABASE_URL=os.environ.get("DATABASE_URL", f"sqlite:///{folder / 'bench.sqlite3'}"),
               GUICHET_ALLOW_SQLITE_IN_PRODUCTION="1", DATA_DIR=str(folder), EMAIL_URL="smtp://127.0.0.1:1",
               SMS_URL="https://t@127.0.0.1:1/sms", POSTAL_URL=f"file://{folder}/letters", OIDC_RSA_PRIVATE_KEY=key,
               TRUSTED_PROXY_COUNT="1")
    return env


SETUP = f"""
from django.utils import timezone
from guichet.identities import actions
from guichet.identities.models import Account
from guichet.organisations.models import Organisation
farm = Organisation.objects.get(slug="{SLUG}")
if not Account.objects.filter(organisation=farm, identifier="{IDENTIFIER}").exists():   # a database used before
    account = actions.create_account(farm, identifier="{IDENTIFIER}", state="active", actor="bench")
    actions.set_password(account, "{PASSWORD}", now=timezone.now(), actor="bench")
    account.contact_confirmed_at = timezone.now(); account.save()
"""


HEADERS = {"Host": "guichet.example", "X-Forwarded-Proto": "https", "Origin": "https://guichet.example",
           "Content-Type": "application/json"}


class Browser:
    """One member's HTTP client over one connection: keeps cookies and sends the CSRF token, as a browser's
    script would. Members come from many addresses (`n` picks one), so per-address limits stay out of it."""

    def __init__(self, port: int, n: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = HEADERS | {"X-Forwarded-For": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"}
        self.cookies: dict[str, str] = {}

    def call(self, method: str, path: str, body: dict | None = None) -> bytes:
        self.connection.request(method, path, json.dumps(body) if body else None, self.headers | {
            "Cookie": self.cookie_header, "X-CSRFToken": self.cookies.get("guichet_csrf", "")})
        response = self.connection.getresponse()
        for key, value in response.getheaders():
            if key.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.read()

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def close(self) -> None:
        self.connection.close()


def prepared(prefix: str, setup: str = SETUP) -> dict[str, str]:
    """The environment of a server on a migrated database with the policies applied (and `setup` run)."""
    env = environment(Path(tempfile.mkdtemp(prefix=prefix)))
    commands = [("migrate", "-v", "0"), ("organisations", "apply")] + ([("shell", "-c", setup)] if setup else [])
    for command in commands:
        subprocess.run(guichet(*command), env=env, cwd=ROOT, check=True, capture_output=True)
    return env


def sign_in(port: int, n: int) -> float:
    """One member's whole sign-in (CSRF token, start the journey, submit the password): its duration."""
    return signed_in(port, n)[0]


def signed_in(port: int, n: int) -> tuple[float, str]:
    """The duration of a member's sign-in, and the Cookie header of the session it opened."""
    began = time.perf_counter()
    browser = Browser(port, n)
    browser.call("GET", "/api/csrf")
    run = json.loads(browser.call("POST", f"/api/o/{SLUG}/journeys/login"))["run"]
    result = json.loads(browser.call("POST", f"/api/o/{SLUG}/journeys/login/{run}", {
        "action": "sign_in", "values": {"identifier": IDENTIFIER, "password": PASSWORD}}))
    assert result.get("outcome") == "signed_in", result
    browser.close()
    return time.perf_counter() - began, browser.cookie_header


@contextmanager
def started_server(env: dict[str, str], workers: int,
                   cores: set[int] | None = None) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """`guichet serve` on a free port (only on `cores`, if given), until it listens; stopped afterwards."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(guichet("serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              preexec_fn=(lambda: os.sched_setaffinity(0, cores)) if cores else None)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        yield port, server
    finally:
        server.terminate()
        server.wait(timeout=30)


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU time used so far by the server's processes, the database and cache servers, and this client
    (Linux /proc), to say where a sign-in's CPU goes besides the password hash."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {"guichet": 0.0, "postgresql": 0.0, "redis": 0.0}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, rest = int(stat.parent.name), stat.read_text().rpartition(")")[2].split()
        except OSError:   # ended meanwhile
            continue
        command, parent = (Path(f"/proc/{pid}/comm").read_text().strip() if Path(f"/proc/{pid}/comm").exists()
                           else ""), int(rest[1])
        # Its own CPU and that of its children that ended (a PostgreSQL backend whose connection closed is
        # counted in the postmaster's from then on): nothing is lost when a process ends during a level.
        seconds = sum(int(field) for field in rest[11:15]) / tick
        if server_pid in (pid, parent):
            used["guichet"] += seconds
        elif command.startswith("postgres"):
            used["postgresql"] += seconds
        elif command.startswith("redis-server"):
            used["redis"] += seconds
    times = os.times()
    used["client"] = times.user + times.system
    return used


def breakdown(port: int, server_pid: int, count: int = 300) -> None:
    """Guichet's CPU for each request of a sign-in, one sign-in at a time: the CSRF token, starting the
    journey, then submitting the password (that last one holds the hash)."""
    spent = {"csrf token": 0.0, "start": 0.0, "password": 0.0}
    for n in range(count):
        browser = Browser(port, 200_000 + n)
        for kind in spent:
            before = cpu_seconds(server_pid)["guichet"]
            if kind == "csrf token":
                browser.call("GET", "/api/csrf")
            elif kind == "start":
                run = json.loads(browser.call("POST", f"/api/o/{SLUG}/journeys/login"))["run"]
            else:
                browser.call("POST", f"/api/o/{SLUG}/journeys/login/{run}", {
                    "action": "sign_in", "values": {"identifier": IDENTIFIER, "password": PASSWORD}})
            spent[kind] += cpu_seconds(server_pid)["guichet"] - before
        browser.close()
    print("Guichet CPU per request, one at a time: " + ", ".join(
        f"{kind} {seconds / count * 1000:.1f} ms" for kind, seconds in spent.items()))


def raw_rate(seconds: float, processes: int, cores: set[int] | None = None) -> float:
    code = ("import time,sys\nfrom argon2 import PasswordHasher,Type\n"
            "h=PasswordHasher(time_cost=int(sys.argv[1]),memory_cost=int(sys.argv[2]),parallelism=int(sys.argv[3]),"
            "type=Type.ID)\ne=h.hash('x');n=0;end=time.time()+float(sys.argv[4])\n"
            "while time.time()<end:\n h.verify(e,'x');n+=1\nprint(n)")
    params = [os.environ.get("PASSWORD_ARGON2_TIME_COST", "2"), os.environ.get("PASSWORD_ARGON2_MEMORY_KIB", "19456"),
              os.environ.get("PASSWORD_ARGON2_PARALLELISM", "1"), str(seconds)]
    runs = [subprocess.Popen([sys.executable, "-c", code, *params], stdout=subprocess.PIPE,
                             preexec_fn=(lambda: os.sched_setaffinity(0, cores)) if cores else None)
            for _ in range(processes)]
    return sum(int(r.communicate()[0]) for r in runs) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--levels", default="1,4,16")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--cores", default="", help="comma-separated CPU numbers for Guichet alone")
    parser.add_argument("--breakdown", action="store_true", help="first, the CPU of each request of a sign-in")
    args = parser.parse_args()
    cores = {int(c) for c in args.cores.split(",")} if args.cores else None
    if cores:
        os.sched_setaffinity(0, set(os.sched_getaffinity(0)) - cores)   # this client stays off them
    used = len(cores) if cores else args.workers
    env = prepared("guichet-http-bench-")
    with started_server(env, args.workers, cores) as (port, server):
        sign_in(port, 0)   # warm up
        if args.breakdown:
            breakdown(port, server.pid)
        raw = raw_rate(args.seconds / 2, used, cores)
        print(f"gunicorn workers: {args.workers}" + (f" on cores {sorted(cores)} alone" if cores else "")
              + f"; raw argon2id verifications/s on {used} cores: {raw:.1f}")
        counter = iter(range(1, 10**9))
        lock = threading.Lock()
        for level in [int(x) for x in args.levels.split(",")]:
            latencies: list[float] = []
            deadline = time.perf_counter() + args.seconds

            def worker(deadline: float = deadline, latencies: list[float] = latencies) -> None:
                while time.perf_counter() < deadline:
                    with lock:
                        n = next(counter)
                    latencies.append(sign_in(port, n))

            started, cpu_before = time.perf_counter(), cpu_seconds(server.pid)
            with ThreadPoolExecutor(level) as pool:
                futures = [pool.submit(worker) for _ in range(level)]
            for future in futures:
                future.result()   # a failed sign-in stops the benchmark with its reason
            elapsed = time.perf_counter() - started
            cpu = {k: (v - cpu_before[k]) / len(latencies) * 1000 for k, v in cpu_seconds(server.pid).items()}
            latencies.sort()
            rate = len(latencies) / elapsed
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            print(f"concurrency {level:3d}: {rate:7.1f} sign-ins/s ({rate / raw:4.0%} of raw), "
                  f"median {latencies[len(latencies) // 2] * 1000:6.1f} ms, p99 {p99 * 1000:7.1f} ms")
            print("                 CPU per sign-in: " + ", ".join(f"{k} {v:.1f} ms" for k, v in cpu.items())
                  + f" (one argon2id verification: {used / raw * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
