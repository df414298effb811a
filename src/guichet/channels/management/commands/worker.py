"""guichet worker [--poll SECONDS] [--once]: deliver the outbox (email, SMS, letters).

What it says is translated (French by default, as every Guichet command)."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from guichet.channels import worker


class Command(BaseCommand):
    help = ("Deliver the outbox's emails, text messages and letters until stopped (SIGTERM or Ctrl+C "
            "finish the message in hand, then stop). Several workers may run at once.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--poll", type=float, default=1.0, metavar="SECONDS",
                            help="How often to look for due messages when there are none (default 1).")
        parser.add_argument("--once", action="store_true",
                            help="Deliver what is due now, then stop (for cron or a one-off catch-up).")

    def handle(self, *args: Any, poll: float, once: bool, **options: Any) -> None:
        if once:
            total = 0
            while tried := worker.deliver_due():
                total += tried
            self.stdout.write(ngettext("%(count)d message tried.", "%(count)d messages tried.", total)
                              % {"count": total})
            return
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            self.stdout.write(_("Signal %(signal)s: stopping after the message in hand.")
                              % {"signal": signal.Signals(signum).name})
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        self.stdout.write(_("Delivering the outbox; stop with Ctrl+C or SIGTERM."))
        worker.run(stop, poll_seconds=poll)
