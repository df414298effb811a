"""Benchmark of the registry CSV import (not a test).

    .venv/bin/python bench/import_members.py [--rows 1000000] [--organisation caisse-agricole-exemple] [--keep]

Writes a synthetic CSV of N rows to a temporary folder, imports it with the real import into a
fresh SQLite database there (or into DATABASE_URL when set), then prints rows per second and
the peak memory of the process. Run it on the target hardware before importing a real registry.
"""

from __future__ import annotations

import argparse
import csv
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--organisation", default="caisse-agricole-exemple")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder (CSV and SQLite file)")
    arguments = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="guichet-bench-"))
    try:
        run(arguments, folder)
    finally:
        if arguments.keep:
            print(f"kept {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def run(arguments: argparse.Namespace, folder: Path) -> None:
    from database import organisations

    organisation = organisations(folder)[arguments.organisation]
    from django.conf import settings

    from guichet.registry.csv_import import import_members
    from guichet.registry.synthetic import csv_columns, synthetic_rows

    path = folder / "members.csv"
    started = time.perf_counter()
    # A BOM and semicolons, as a French spreadsheet writes them.
    with open(path, "w", encoding="utf-8-sig", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=csv_columns(organisation.policy), delimiter=";")
        writer.writeheader()
        writer.writerows(synthetic_rows(organisation.policy, arguments.rows, seed=arguments.seed))
    written = time.perf_counter() - started
    print(f"CSV: {arguments.rows:,} rows, {path.stat().st_size / 2**20:,.0f} MiB written in {written:,.1f} s "
          f"({path})", file=sys.stderr)

    before = _peak_mib()
    started = time.perf_counter()
    summary = import_members(organisation, path, progress=sys.stderr.isatty())
    elapsed = time.perf_counter() - started
    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")
    print(f"rows read {summary.read:,}, created {summary.created:,}, updated {summary.updated:,}, "
          f"rejected {summary.rejected:,}")
    print(f"import: {elapsed:,.1f} s, {summary.read / elapsed:,.0f} rows/s")
    print(f"peak memory: {_peak_mib():,.0f} MiB (before the import: {before:,.0f} MiB)")


def _peak_mib() -> float:
    # ru_maxrss is in kibibytes on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


if __name__ == "__main__":
    main()
