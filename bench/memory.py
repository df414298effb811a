"""Memory of one `guichet serve` gunicorn worker (not a test): its resident set size (VmRSS in
/proc/<pid>/status) at start and after N requests of the usual mix (home page, CSRF token, start a
sign-in journey, its screen). Prints figures; Linux only.

    .venv/bin/python bench/memory.py [--requests 2000]

Uses a temporary SQLite file unless DATABASE_URL is set.
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import tempfile
import time
from pathlib import Path

from http_login import ROOT, SLUG, environment, guichet, started_server

HEADERS = {"Host": "guichet.example", "X-Forwarded-Proto": "https", "Origin": "https://guichet.example",
           "Content-Type": "application/json"}


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0])


def one_visit(port: int, n: int) -> None:
    """A member arriving: home page, CSRF token, a new sign-in journey and its screen."""
    cookies: dict[str, str] = {}
    headers = HEADERS | {"X-Forwarded-For": f"10.3.{n // 256 % 256}.{n % 256}"}

    def call(method: str, path: str) -> bytes:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request(method, path, headers=headers | {
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            "X-CSRFToken": cookies.get("guichet_csrf", "")})
        response = connection.getresponse()
        for key, value in response.getheaders():
            if key.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                cookies[name] = rest.split(";", 1)[0]
        return response.read()

    call("GET", "/")
    call("GET", "/api/csrf")
    run = json.loads(call("POST", f"/api/o/{SLUG}/journeys/login"))["run"]
    call("GET", f"/api/o/{SLUG}/journeys/login/{run}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests in all (4 per visit)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="guichet-memory-bench-"))
    env = environment(folder)
    for command in (("migrate", "-v", "0"), ("organisations", "apply")):
        subprocess.run(guichet(*command), env=env, cwd=ROOT, check=True, capture_output=True)
    with started_server(env, 1) as (port, server):
        time.sleep(1)   # gunicorn forks its worker after it listens
        pid = worker_pid(server.pid)
        print(f"worker {pid} at start: {rss_mib(pid):6.1f} MiB")
        visits = max(args.requests // 4, 1)
        for n in range(1, visits + 1):
            one_visit(port, n)
            if n in (1, visits // 10, visits // 2, visits):
                print(f"after {n * 4:6d} requests: {rss_mib(pid):6.1f} MiB")


if __name__ == "__main__":
    main()
