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

What it says is translated (French by default, as every Guichet command). The link, and the tab-separated lines
of `list`, are for scripts: they keep their shape and their words (see `_list`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

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
            raise CommandError(_("--email is required"))
        now = timezone.now()
        if action == "create":
            if not name.strip():
                raise CommandError(_("--name is required"))
            try:
                agent, token = agents.create(email=email, name=name, role=role, organisation_slugs=organisation,
                                             now=now, all_organisations=all_organisations)
            except agents.AgentError as error:
                raise CommandError(_("%(problem)s; nothing was created") % {"problem": error}) from None
            self.stdout.write(_("Agent created: %(agent)s (%(role)s; %(reach)s)")
                              % {"agent": agent, "role": agent.role, "reach": _reach(agent)})
            self._print_link(token)
            return
        existing = Agent.objects.filter(email=agents.normalise_email(email)).first()
        if existing is None:
            raise CommandError(_("no agent with the email %(email)s") % {"email": agents.normalise_email(email)})
        if action == "enrolment":
            self._print_link(agents.issue_enrolment(existing, now=now))
        elif action == "organisations":
            try:
                agents.set_reach(existing, organisation_slugs=organisation, all_organisations=all_organisations)
            except agents.AgentError as error:
                raise CommandError(_("%(problem)s; nothing was changed") % {"problem": error}) from None
            self.stdout.write(_("%(agent)s now helps the members of: %(reach)s")
                              % {"agent": existing, "reach": _reach(existing)})
        elif action == "unlock":
            throttle.unlock(existing)
            self.stdout.write(_("Console sign-in unlocked for %(agent)s") % {"agent": existing})
        elif action == "enable":
            agents.set_active(existing, True)
            self.stdout.write(_("Agent enabled: %(agent)s") % {"agent": existing})
        else:
            agents.set_active(existing, False)
            self.stdout.write(_("Agent disabled: %(agent)s") % {"agent": existing})

    def _print_link(self, token: str) -> None:
        self.stdout.write(_("One-time enrolment link (valid 72 hours; give it to the agent only):"))
        self.stdout.write(f"{settings.BASE_URL}{reverse('backoffice:enrol')}?jeton={token}")

    def _list(self) -> None:
        # One agent a line, tab-separated, for scripts: email, name, role, state, enrolment, reach. The state
        # words ("active"/"disabled", "enrolled"/"enrolment pending", "all organisations"/"no organisation")
        # are stable tokens, NOT translated, like the role ("agent"/"supervisor", the values of --role): a
        # script's `grep`/`awk` must not depend on the language the command runs in.
        for agent in Agent.objects.prefetch_related("organisations"):
            scope = _reach(agent, stable=True)
            state = "active" if agent.active else "disabled"
            enrolled = "enrolled" if agent.enrolled else "enrolment pending"
            self.stdout.write(f"{agent.email}\t{agent.name}\t{agent.role}\t{state}\t{enrolled}\t{scope}")


def _reach(agent: Agent, *, stable: bool = False) -> str:
    """Whose members the agent helps: the organisations' slugs, or all or none said in words (translated, or
    the list's stable tokens)."""
    if agent.global_reach:
        return "all organisations" if stable else _("all organisations")
    slugs = ", ".join(sorted(o.slug for o in agent.organisations.all()))
    if slugs:
        return slugs
    return "no organisation" if stable else _("no organisation")
