"""How long the password checklist and strength gauge take (what the live checklist asks for each key
press, through /api/o/<slug>/password-check), for short, long and very long passwords. Prints figures;
asserts nothing.

    .venv/bin/python bench/password_strength.py [--repeat 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("GUICHET_ENV", "test")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guichet.project.settings")
    import django

    django.setup()
    from guichet.policy.model import PasswordRules
    from guichet.security.passwords import evaluate

    rules, member = PasswordRules(), ["Jean-Pierre", "Durand", "jp.durand@example.org", "123456789"]
    started = time.perf_counter()
    evaluate("warm-up", rules)
    print(f"first evaluation (word lists load): {(time.perf_counter() - started) * 1000:.0f} ms")
    for password in ["Kx9!vLq2#pZw", "Lavande-sur-le-toit7", "Soleil2024!", "ab" * 500]:
        times = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            evaluate(password, rules, user_inputs=member)
            times.append(time.perf_counter() - began)
        print(f"{len(password):5d} characters: median {statistics.median(times) * 1000:6.2f} ms, "
              f"max {max(times) * 1000:6.2f} ms")


if __name__ == "__main__":
    main()
