"""Outbox figures (not a test): enqueue rate, letter PDF rate, delivery rate to a real local SMTP server
with several concurrent workers, and a check that no email was delivered twice. Prints figures.

    .venv/bin/python bench/outbox_delivery.py [--emails 2000] [--letters 100] [--workers 3]

Uses a temporary SQLite file database (WAL, as in the demo) unless DATABASE_URL is set.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--emails", type=int, default=2000)
    parser.add_argument("--letters", type=int, default=100)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="guichet-bench-")
    try:
        run(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(args: argparse.Namespace, folder: str) -> None:
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{folder}/bench.sqlite3")
    os.environ.update(GUICHET_ENV="test", DATA_DIR=folder, DJANGO_SETTINGS_MODULE="guichet.project.settings")
    import django

    django.setup()
    from aiosmtpd.controller import Controller
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from guichet.channels import outbox, worker
    from guichet.channels.models import Message
    from guichet.channels.testing import free_port
    from guichet.organisations.apply import apply
    from guichet.organisations.models import Organisation
    from guichet.policy.loader import load_folder

    call_command("migrate", verbosity=0)
    apply(load_folder(settings.BASE_DIR / "policies" / "organisations"))
    pension = Organisation.objects.get(slug="caisse-retraite-exemple")

    started = time.perf_counter()
    for n in range(args.emails):
        outbox.send_email(pension, to=f"member{n}@example.fr", template="login_code", language="fr",
                          context={"code": f"{n:06d}", "minutes": 10})
    enqueue_rate = args.emails / (time.perf_counter() - started)

    started = time.perf_counter()
    for n in range(args.letters):
        outbox.send_letter(pension, address=[f"Madame Hélène Lefèvre {n}", "12 rue de l’Église", "35000 RENNES"],
                           template="temporary_password", language="fr", context={"password": "Xk7-pq9-Lm2"})
    letter_rate = args.letters / (time.perf_counter() - started)
    Message.objects.filter(channel=Message.Channel.POSTAL).delete()  # only emails are delivered below

    received: Counter[str] = Counter()
    lock = threading.Lock()

    class Sink:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
            with lock:
                received.update(envelope.rcpt_tos)  # type: ignore[attr-defined]
            return "250 OK"

    port = free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_URL = f"smtp://127.0.0.1:{port}"
    tried: list[int] = []

    def one_worker() -> None:
        total = 0
        while count := worker.deliver_due():
            total += count
        with lock:
            tried.append(total)
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=one_worker) for _ in range(args.workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    controller.stop()

    duplicates = sum(count - 1 for count in received.values() if count > 1)
    sent = Message.objects.filter(status=Message.Status.SENT).count()
    print(f"emails enqueued/s (render + insert)  : {enqueue_rate:8.1f}")
    print(f"letters enqueued/s (with PDF)        : {letter_rate:8.1f}")
    print(f"emails delivered/s, {args.workers} worker(s)       : {args.emails / elapsed:8.1f}  "
          f"(per worker: {', '.join(map(str, tried))})")
    print(f"received {sum(received.values())}, distinct {len(received)}, duplicates {duplicates}, "
          f"marked sent {sent} of {args.emails}")
    print(f"database                             : {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")


if __name__ == "__main__":
    sys.exit(main())
