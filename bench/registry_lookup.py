"""Registry lookup latency (not a test): by member number and by last name + birth date, with N members
in the registry. Prints figures; asserts nothing.

    .venv/bin/python bench/registry_lookup.py [--members N] [--lookups 2000]

Uses DATABASE_URL when set (default N: 5,000,000, for PostgreSQL), else a temporary SQLite file
(default N: 1,000,000). Members come from registry.synthetic (the same code as `guichet members generate`).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=0, help="default 5,000,000 on PostgreSQL, 1,000,000 on SQLite")
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--organisation", default="caisse-retraite-exemple")
    arguments = parser.parse_args()
    arguments.members = arguments.members or (5_000_000 if os.environ.get("DATABASE_URL") else 1_000_000)
    folder = Path(tempfile.mkdtemp(prefix="guichet-bench-"))
    try:
        run(arguments, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(arguments: argparse.Namespace, folder: Path) -> None:
    from database import organisations

    organisation = organisations(folder)[arguments.organisation]
    from django.conf import settings

    from guichet.registry.models import MemberRecord
    from guichet.registry.synthetic import generate
    members = MemberRecord.objects.filter(organisation=organisation)
    missing = arguments.members - members.count()
    started = time.perf_counter()
    if missing > 0:   # a kept PostgreSQL database is topped up, not refilled
        generate(organisation, missing, seed=members.count() // 10_000_000 + 1)
    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}; "
          f"{members.count():,} members (generated {max(missing, 0):,} in {time.perf_counter() - started:,.1f} s)")

    rng = random.Random(1)
    step = max(members.count() // 5000, 1)
    sample = list(members.order_by("pk").values_list("member_number", "last_name_key", "birth_date")[::step][:5000])
    picks = [rng.choice(sample) for _ in range(arguments.lookups)]
    measure("by member number", picks,
            lambda p: members.filter(member_number=p[0]).first())
    measure("by last name + birth date", picks,
            lambda p: list(members.filter(last_name_key=p[1], birth_date=p[2])[:20]))


def measure(what: str, picks: list[tuple], lookup: Callable[[tuple], object]) -> None:
    timings = []
    for pick in picks:
        began = time.perf_counter()
        lookup(pick)
        timings.append(time.perf_counter() - began)
    timings.sort()
    print(f"{what:28s}: median {statistics.median(timings) * 1000:6.2f} ms, "
          f"p99 {timings[int(len(timings) * 0.99)] * 1000:6.2f} ms, {len(timings) / sum(timings):8.0f} lookups/s")


if __name__ == "__main__":
    sys.exit(main())
