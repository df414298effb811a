"""guichet members import --organisation SLUG FILE.csv [--partial] [--report FILE] [--dry-run] [--quiet]
                        [--complete [--allow-retiring-many]]
guichet members generate --organisation SLUG [--count N] [--seed S] [--demo]
guichet members provision --organisation SLUG [--limit N]
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from guichet.organisations.models import Organisation
from guichet.registry.csv_import import CsvFormatError, ImportSummary, import_members
from guichet.registry.retirement import RETIRE_AT_MOST, TooManyRetired
from guichet.registry.synthetic import add_demo_members, generate


class Command(BaseCommand):
    help = "Import a member registry CSV file (import), or create synthetic members for demos (generate)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        load = actions.add_parser("import", help="Import a registry CSV file (see docs/registry-csv.md)")
        load.add_argument("--organisation", required=True, help="The organisation's slug")
        load.add_argument("file", help="CSV file, UTF-8, comma or semicolon separated")
        load.add_argument("--partial", action="store_true", help="Import valid rows, skip rejected ones")
        load.add_argument("--report", help="CSV file listing rejected rows")
        load.add_argument("--dry-run", action="store_true", help="Check and count, then roll everything back")
        load.add_argument("--quiet", action="store_true", help="No progress bar")
        load.add_argument("--complete", action="store_true",
                          help="The file is the whole registry: retire the records it does not hold")
        load.add_argument("--allow-retiring-many", action="store_true",
                          help=f"With --complete: retire even more than {round(RETIRE_AT_MOST * 100)} %% "
                          "of the records")
        generate = actions.add_parser("generate", help="Create synthetic members (deterministic)")
        generate.add_argument("--organisation", required=True, help="The organisation's slug")
        generate.add_argument("--count", type=int, default=1000)
        generate.add_argument("--seed", type=int, default=0)
        generate.add_argument("--demo", action="store_true", help="Also add the well-known demo members")
        provision = actions.add_parser("provision", help="Create the account of every member who has none, "
                                       "with a temporary password sent by post (provisioned registration)")
        provision.add_argument("--organisation", required=True, help="The organisation's slug")
        provision.add_argument("--limit", type=int, help="At most this many accounts in this run")

    def handle(self, *args: Any, action: str, organisation: str, **options: Any) -> None:
        found = Organisation.objects.filter(slug=organisation).first()
        if found is None:
            known = ", ".join(Organisation.objects.values_list("slug", flat=True)) or _("none")
            raise CommandError(_("Unknown organisation “%(slug)s” (known: %(known)s). Apply the policy files "
                                 "first: guichet organisations apply.")
                               % {"slug": organisation, "known": known})
        if action == "generate":
            self._generate(found, options)
        elif action == "provision":
            self._provision(found, options)
        else:
            self._import(found, options)

    def _import(self, organisation: Organisation, options: dict[str, Any]) -> None:
        progress = not options["quiet"] and sys.stderr.isatty()
        if options["allow_retiring_many"] and not options["complete"]:
            raise CommandError(_("--allow-retiring-many goes with --complete: only a complete import retires "
                                 "records."))
        try:
            summary = import_members(organisation, options["file"], partial=options["partial"],
                                     dry_run=options["dry_run"], report=options["report"], progress=progress,
                                     complete=options["complete"],
                                     allow_retiring_many=options["allow_retiring_many"])
        except (CsvFormatError, TooManyRetired) as error:
            raise CommandError(_("%(error)s Nothing was imported.") % {"error": error}) from None
        self._show_rejections(summary, options["report"])
        self.stdout.write(_("Rows read: %(read)d. Created: %(created)d. Updated: %(updated)d. "
                            "Rejected: %(rejected)d.")
                          % {"read": summary.read, "created": summary.created, "updated": summary.updated,
                             "rejected": summary.rejected})
        if summary.complete and (summary.written or summary.dry_run):
            self.stdout.write(ngettext("Retired (missing from the file): %(retired)d record.",
                                       "Retired (missing from the file): %(retired)d records.", summary.retired)
                              % {"retired": summary.retired})
        if summary.dry_run:
            self.stdout.write(_("Dry run: nothing was written."))
        elif not summary.written:
            raise CommandError(ngettext(
                "%(rejected)d row rejected: nothing was imported. Correct the file, or use --partial to "
                "import the valid rows only.",
                "%(rejected)d rows rejected: nothing was imported. Correct the file, or use --partial to "
                "import the valid rows only.", summary.rejected) % {"rejected": summary.rejected})

    def _show_rejections(self, summary: ImportSummary, report: str | None) -> None:
        for rejection in summary.first_rejections:
            self.stderr.write(_("Line %(line)d (%(number)s): %(reason)s")
                              % {"line": rejection.line, "number": rejection.member_number or "-",
                                 "reason": rejection.reason})
        hidden = summary.rejected - len(summary.first_rejections)
        if hidden > 0:
            self.stderr.write(ngettext("… and %(count)d more rejected row.", "… and %(count)d more rejected rows.",
                                       hidden) % {"count": hidden})
        if summary.rejected and report:
            self.stderr.write(_("Every rejected row is listed in %(report)s.") % {"report": report})
        elif hidden > 0:
            self.stderr.write(_("Use --report FILE to list them all."))

    def _generate(self, organisation: Organisation, options: dict[str, Any]) -> None:
        created = generate(organisation, options["count"], seed=options["seed"])
        self.stdout.write(ngettext("%(count)d synthetic member written.", "%(count)d synthetic members written.",
                                   created) % {"count": created})
        if options["demo"]:
            demo = add_demo_members(organisation)
            self.stdout.write(ngettext("%(count)d demo member written.", "%(count)d demo members written.", demo)
                              % {"count": demo})

    def _provision(self, organisation: Organisation, options: dict[str, Any]) -> None:
        from django.utils import timezone

        from guichet.identities.actions import provision_members

        created, skipped = provision_members(organisation, now=timezone.now(), limit=options["limit"],
                                             actor="command")
        for number, error in skipped:
            # An address or number the channel refuses is explained by the channel, already translated.
            reason = (_("Another account already has this member's identifier.") if isinstance(error, IntegrityError)
                      else str(error))
            self.stderr.write(_("Member %(number)s skipped. %(reason)s") % {"number": number, "reason": reason})
        self.stdout.write(ngettext("%(count)d account created.", "%(count)d accounts created.", created)
                          % {"count": created})
