"""guichet demo: everything a visitor needs to try Guichet on one machine, in one command.

Development settings (SQLite, messages kept for the mailbox page), the three demo organisations,
synthetic members, the delivery worker in a background thread, and Django's development server
(which also serves the static files).
"""

from __future__ import annotations

import os
import threading
from typing import Any, TextIO

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.utils.translation import gettext as _

from guichet.organisations.models import Organisation
from guichet.policy.model import Organisation as Policy
from guichet.registry.models import MemberRecord

SYNTHETIC_SEED = 1


def prepare_data(members_per_organisation: int, out: TextIO | OutputWrapper) -> None:
    """Migrate, apply the bundled policies, and fill an empty registry with synthetic members."""
    call_command("migrate", interactive=False, verbosity=0)
    call_command("organisations", "apply", str(settings.POLICY_DIR), stdout=out)
    from guichet.registry import synthetic

    for organisation in Organisation.objects.order_by("slug"):
        if not MemberRecord.objects.filter(organisation=organisation).exists():
            out.write(_("Creating %(count)d synthetic members for %(slug)s ...")
                      % {"count": members_per_organisation, "slug": organisation.slug} + "\n")
            synthetic.generate(organisation, count=members_per_organisation, seed=SYNTHETIC_SEED)
        # Always: a visitor who played with a demo member's record gets it back as the banner shows it.
        synthetic.add_demo_members(organisation)
        if organisation.policy.registration.mode == "provisioned":
            provision_demo_members(organisation, out)


def provision_demo_members(organisation: Organisation, out: TextIO | OutputWrapper) -> None:
    """Where accounts come by post, the demo members get theirs: the letters wait in the mailbox."""
    from django.utils import timezone

    from guichet.identities import actions
    from guichet.registry.synthetic import demo_members

    numbers = [member["member_number"] for member in demo_members(organisation)]
    for record in MemberRecord.objects.filter(organisation=organisation, member_number__in=numbers,
                                              account__isnull=True):
        actions.provision_account(organisation, record, now=timezone.now(), actor="demo")
        out.write(_("Posted a temporary password to %(number)s (see the mailbox)") % {"number": record.member_number}
                  + "\n")


def start_worker() -> threading.Event:
    """The outbox delivery worker, in a daemon thread: it dies with the demo. Set the event to stop it."""
    from guichet.channels import worker

    stop = threading.Event()
    threading.Thread(target=worker.run, args=(stop,), name="outbox-worker", daemon=True).start()
    return stop


def describe_member(policy: Policy, values: dict[str, Any]) -> str:
    """What a visitor types to prove they are this demo member: one line, then the answers asked."""
    born = _("born %(date)s") % {"date": f"{values['birth_date']:%d/%m/%Y}"}
    line = f"{values['member_number']}  {values['first_name']} {values['last_name']}, {born}, {values['email']}"
    extras = []
    if "iban_suffix" in policy.registration.match:
        extras.append(_("IBAN ends with %(end)s")
                      % {"end": values["iban_suffix"][-policy.registration.iban_suffix_length:]})
    facts = values.get("facts", {})
    extras += [f"{fact}: {facts[fact]}" for fact in asked_facts(policy, values.get("category", "")) if fact in facts]
    return line + ("\n        " + "; ".join(extras) if extras else "")


def asked_facts(policy: Policy, category: str) -> list[str]:
    """Registry facts this member may be asked about: registration questions, never-connected checks."""
    questions = list(policy.registration.questions)
    never_connected = policy.recovery.never_connected
    if never_connected is not None:
        questions += never_connected.questions_by_category.get(category, [])
    return list(dict.fromkeys(question.fact for question in questions))


def banner(url: str) -> str:
    from guichet.registry.synthetic import demo_members

    lines = [
        "",
        _("Guichet demo"),
        "  " + _("Member spaces: %(url)s") % {"url": f"{url}/"},
        "  " + _("Mailbox: %(url)s (every email, SMS and letter sent)") % {"url": f"{url}/_mailbox/"},
        "  " + _("Demo members (register with these details; where accounts come by post, the temporary "
                 "password letters are already in the mailbox):"),
    ]
    for organisation in Organisation.objects.order_by("slug"):
        lines.append(f"    {organisation.slug}")
        lines.extend(f"      {describe_member(organisation.policy, member)}" for member in demo_members(organisation))
    lines += ["  " + _("Stop with Ctrl+C."), ""]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Start the demo: demo organisations, synthetic members, mailbox, on http://127.0.0.1:8000/"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="Port to listen on (default 8000)")
        parser.add_argument("--members", type=int, default=2000,
                            help="Synthetic members per organisation whose registry is empty (default 2000)")

    def handle(self, *args: Any, host: str, port: int, members: int, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(_("The demo never runs with production settings: unset GUICHET_ENV."))
        shown_host = f"[{host}]" if ":" in host else host
        if "BASE_URL" not in os.environ:   # links in emails and letters lead to this demo, whatever its port
            reachable = "127.0.0.1" if host in {"0.0.0.0", "::"} else shown_host  # noqa: S104 (compared, not bound)
            settings.BASE_URL = f"http://{reachable}:{port}"
        prepare_data(members, self.stdout)
        stop = start_worker()
        self.stdout.write(banner(f"http://{shown_host}:{port}"))
        self.stdout.flush()
        try:
            # No reloader: it would restart the process and start a second worker thread.
            call_command("runserver", f"{shown_host}:{port}", use_reloader=False)
        finally:
            stop.set()
