"""Password sign-ins per second through the whole journey (JSON renderer, real database), against the
raw argon2id hash rate with the same parameters on the same machine. Prints figures; asserts nothing.

    .venv/bin/python bench/login.py [--logins 200]

Uses a temporary SQLite database unless DATABASE_URL is set. Single process, one at a time: the
concurrency figures of issue #7 come from bench/http_login.py against a real server.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--logins", type=int, default=200)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="guichet-bench-")
    from database import organisations

    farm = organisations(Path(folder))["caisse-agricole-exemple"]   # no second factor at sign-in
    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from guichet.identities import actions

    account = actions.create_account(farm, identifier="12345678", state="active", actor="bench")
    actions.set_password(account, "Correct-Horse-42!", now=timezone.now(), actor="bench")
    account.contact_confirmed_at = timezone.now()   # past the first sign-in: one password check per sign-in
    account.save(update_fields=["contact_confirmed_at"])

    from argon2 import PasswordHasher, Type

    hasher = PasswordHasher(time_cost=settings.ARGON2_TIME_COST, memory_cost=settings.ARGON2_MEMORY_KIB,
                            parallelism=settings.ARGON2_PARALLELISM, type=Type.ID)
    encoded = hasher.hash("Correct-Horse-42!")
    started = time.perf_counter()
    for _ in range(args.logins):
        hasher.verify(encoded, "Correct-Horse-42!")
    raw_rate = args.logins / (time.perf_counter() - started)

    latencies = []
    for n in range(args.logins):
        client = Client(REMOTE_ADDR=f"10.0.{n // 250}.{n % 250 + 1}")   # members, not one address
        begin = time.perf_counter()
        run = client.post("/api/o/caisse-agricole-exemple/journeys/login").json()["run"]
        body = '{"action": "sign_in", "values": {"identifier": "12345678", "password": "Correct-Horse-42!"}}'
        response = client.post(f"/api/o/caisse-agricole-exemple/journeys/login/{run}", body,
                               content_type="application/json")
        latencies.append(time.perf_counter() - begin)
        assert response.json().get("outcome") == "signed_in", response.content
    login_rate = len(latencies) / sum(latencies)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"argon2id t={settings.ARGON2_TIME_COST} m={settings.ARGON2_MEMORY_KIB}KiB p={settings.ARGON2_PARALLELISM}")
    print(f"raw argon2id verifications/s : {raw_rate:8.1f}")
    print(f"password sign-ins/s          : {login_rate:8.1f}  ({login_rate / raw_rate:.0%} of the raw rate)")
    print(f"sign-in latency median / p99 : {statistics.median(latencies) * 1000:6.1f} ms / {p99 * 1000:6.1f} ms")
    print(f"database                     : {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")


if __name__ == "__main__":
    sys.exit(main())
