"""Memory of one `guichet serve` gunicorn worker (not a test): its resident set size (VmRSS in
/proc/<pid>/status) at start and after N requests of the usual mix (home page, CSRF token, start a
sign-in journey, its screen). Prints figures; Linux only.

    .venv/bin/python bench/memory.py [--requests 2000]

Uses a temporary SQLite file unless DATABASE_URL is set.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from http_login import SLUG, Browser, prepared, started_server


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
    browser = Browser(port, 3 * 65536 + n)
    call = browser.call
    call("GET", "/")
    call("GET", "/api/csrf")
    run = json.loads(call("POST", f"/api/o/{SLUG}/journeys/login"))["run"]
    call("GET", f"/api/o/{SLUG}/journeys/login/{run}")
    browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests in all (4 per visit)")
    args = parser.parse_args()
    env = prepared("guichet-memory-bench-", setup="")
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
