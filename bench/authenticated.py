"""Cheap authenticated requests per second (not a test): GET /api/o/<slug>/session with a signed-in
session, against `guichet serve` (gunicorn, production settings), at several concurrency levels. This is
the floor cost of any signed-in page: session load, idle check, account load. Prints figures.

    .venv/bin/python bench/authenticated.py [--seconds 10] [--levels 1,4,16] [--workers N]

Uses a temporary SQLite file unless DATABASE_URL is set (and REDIS_URL for Redis sessions).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from http_login import HEADERS, SLUG, prepared, signed_in, started_server


def signed_in_cookies(port: int, n: int) -> str:
    """The Cookie header of a member who just signed in (farm preset: password only)."""
    return signed_in(port, 100_000 + n)[1]   # other addresses than bench/http_login.py's own runs


def session_request(port: int, cookie: str) -> float:
    began = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", f"/api/o/{SLUG}/session", headers=HEADERS | {"Cookie": cookie,
                                                                           "X-Forwarded-For": "10.2.0.1"})
    response = connection.getresponse()
    body = json.loads(response.read())
    assert response.status == 200 and body.get("signed_in"), (response.status, body)
    connection.close()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--levels", default="1,4,16")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    env = prepared("guichet-auth-bench-")
    levels = [int(x) for x in args.levels.split(",")]
    with started_server(env, args.workers) as (port, _server):
        cookies = [signed_in_cookies(port, n) for n in range(max(levels))]   # one member's session per client
        print(f"gunicorn workers: {args.workers}; database: {env['DATABASE_URL'].split(':', 1)[0]}; "
              f"sessions: {'redis' if env.get('REDIS_URL') else 'database'}")
        for level in levels:
            latencies: list[float] = []
            lock = threading.Lock()
            deadline = time.perf_counter() + args.seconds

            def client(cookie: str, deadline: float = deadline, latencies: list[float] = latencies,
                       lock: threading.Lock = lock) -> None:
                while time.perf_counter() < deadline:
                    took = session_request(port, cookie)
                    with lock:
                        latencies.append(took)

            started = time.perf_counter()
            with ThreadPoolExecutor(level) as pool:
                futures = [pool.submit(client, cookies[n]) for n in range(level)]
            for future in futures:
                future.result()
            elapsed = time.perf_counter() - started
            latencies.sort()
            print(f"concurrency {level:3d}: {len(latencies) / elapsed:7.1f} requests/s, "
                  f"median {latencies[len(latencies) // 2] * 1000:6.1f} ms, "
                  f"p99 {latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000:6.1f} ms")


if __name__ == "__main__":
    main()
