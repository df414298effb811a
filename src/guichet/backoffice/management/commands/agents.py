"""guichet agents create|enrolment|organisations|disable|enable|unlock|list

    guichet agents create --email marie@caisse.fr --name "Marie Martin" --role agent --organisation SLUG [SLUG...]
    guichet agents create --email ... --name ... --role supervisor --organisation SLUG [SLUG...]
    guichet agents create --email ... --name ... --role supervisor --all-organisations
    guichet agents organisations --email ... --organisation SLUG [SLUG...] | --all-organisations
    guichet agents enrolment --email marie@caisse.fr     a new enrolment link (lost phone, forgotten password)
    guichet agents disable|enable|unlock --email ...
    guichet agents list

Every agent, supervisors included, helps the members of the organisations it is given (--organisation). A
supervisor reaches every organisation, present and future, only with --all-organisations.

`create` and `enrolment` print a one-time link, valid 72 hours: the agent opens it, chooses a password
and adds the console to an authenticator app. Give it to the agent in person or by a trusted channel.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse
from django.utils import timezone

from guichet.backoffice import agents, throttle
from guichet.backoffice.models import Agent


class Command(BaseCommand):
    help = "Manage the agents of the back-office console (create prints a one-time enrolment link)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["create", "enrolment", "organisations", "disable", "enable", "unlock",
                                               "list"])
        parser.add_argument("--email", default="")
        parser.add_argument("--name", default="")
        parser.add_argument("--role", default=Agent.Role.AGENT, choices=Agent.Role.values)
        parser.add_argument("--organisation", nargs="*", default=[], metavar="SLUG",
                            help="Organisations whose members the agent (or supervisor) may help")
        parser.add_argument("--all-organisations", action="store_true",
                            help="Supervisors only, instead of --organisation: every organisation, present and future")

    def handle(self, *args: Any, action: str, email: str, name: str, role: str, organisation: list[str],
               all_organisations: bool, **options: Any) -> None:
        if action == "list":
            self._list()
            return
        if not email:
            raise CommandError("--email is required")
        now = timezone.now()
        if action == "create":
            if not name.strip():
                raise CommandError("--name is required")
            try:
                agent, token = agents.create(email=email, name=name, role=role, organisation_slugs=organisation,
                                             now=now, all_organisations=all_organisations)
            except agents.AgentError as error:
                raise CommandError(f"{error}; nothing was created") from None
            self.stdout.write(f"Agent created: {agent} ({agent.role}; {_reach(agent)})")
            self._print_link(token)
            return
        existing = Agent.objects.filter(email=agents.normalise_email(email)).first()
        if existing is None:
            raise CommandError(f"no agent with the email {agents.normalise_email(email)}")
        if action == "enrolment":
            self._print_link(agents.issue_enrolment(existing, now=now))
        elif action == "organisations":
            try:
                agents.set_reach(existing, organisation_slugs=organisation, all_organisations=all_organisations)
            except agents.AgentError as error:
                raise CommandError(f"{error}; nothing was changed") from None
            self.stdout.write(f"{existing} now helps the members of: {_reach(existing)}")
        elif action == "unlock":
            throttle.unlock(existing)
            self.stdout.write(f"Console sign-in unlocked for {existing}")
        else:
            agents.set_active(existing, action == "enable")
            self.stdout.write(f"Agent {action}d: {existing}")

    def _print_link(self, token: str) -> None:
        self.stdout.write("One-time enrolment link (valid 72 hours; give it to the agent only):")
        self.stdout.write(f"{settings.BASE_URL}{reverse('backoffice:enrol')}?jeton={token}")

    def _list(self) -> None:
        for agent in Agent.objects.prefetch_related("organisations"):
            scope = _reach(agent)
            state = "active" if agent.active else "disabled"
            enrolled = "enrolled" if agent.enrolled else "enrolment pending"
            self.stdout.write(f"{agent.email}\t{agent.name}\t{agent.role}\t{state}\t{enrolled}\t{scope}")


def _reach(agent: Agent) -> str:
    if agent.global_reach:
        return "all organisations"
    return ", ".join(sorted(o.slug for o in agent.organisations.all())) or "no organisation"
