"""guichet organisations check|apply [FOLDER]"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from guichet.policy.loader import PolicyError, Problem, json_schema, load_folder

# pydantic's errors that a policy file commonly meets, said in the operator's language (others stay in English).
PYDANTIC = {
    "extra_forbidden": gettext_noop("unknown option (a typing mistake?)"),
    "missing": gettext_noop("required"),
    "greater_than_equal": gettext_noop("must be at least %(ge)s"),
    "less_than_equal": gettext_noop("must be at most %(le)s"),
    "greater_than": gettext_noop("must be more than %(gt)s"),
    "less_than": gettext_noop("must be less than %(lt)s"),
    "int_parsing": gettext_noop("must be a whole number"),
    "int_type": gettext_noop("must be a whole number"),
    "bool_parsing": gettext_noop("must be true or false"),
    "bool_type": gettext_noop("must be true or false"),
    "string_type": gettext_noop("must be a text"),
    "literal_error": gettext_noop("must be one of: %(expected)s"),
    "string_pattern_mismatch": gettext_noop("does not have the expected form (%(pattern)s)"),
}


def said(problem: Problem) -> str:
    """One problem in the active language: the file, where in it, and what is wrong."""
    if problem.line is not None:
        where = _("line %(line)d, column %(column)d") % {"line": problem.line, "column": problem.column}
    else:
        where = problem.field or _("(file)")
    if problem.template:
        message = _(problem.template) % problem.params if problem.params else _(problem.template)
    elif problem.kind in PYDANTIC:
        try:
            message = _(PYDANTIC[problem.kind]) % problem.params
        except (KeyError, TypeError, ValueError):
            message = problem.message
    else:
        message = problem.message
    return _("%(file)s: %(field)s: %(message)s") % {"file": problem.file, "field": where, "message": message}


class Command(BaseCommand):
    help = "Validate (check) or apply (apply) the organisations' policy files; write the JSON Schema (schema)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["check", "apply", "schema"])
        parser.add_argument("folder", nargs="?", help="Folder of *.yaml policy files (default: POLICY_DIR)")

    def handle(self, *args: Any, action: str, folder: str | None, **options: Any) -> None:
        if action == "schema":
            self.stdout.write(json.dumps(json_schema(), indent=2, ensure_ascii=False))
            return
        path = Path(folder) if folder else settings.POLICY_DIR
        try:
            policies = load_folder(path)
        except PolicyError as error:
            count = len(error.problems)
            heading = ngettext("%(count)d problem in the policy files; nothing was applied:",
                               "%(count)d problems in the policy files; nothing was applied:", count) % {"count": count}
            raise CommandError("\n".join([heading, *(said(p) for p in error.problems)])) from None
        slugs = ", ".join(p.slug for p in policies)
        if action == "check":
            self.stdout.write(ngettext("%(count)d policy file valid: %(slugs)s",
                                       "%(count)d policy files valid: %(slugs)s", len(policies))
                              % {"count": len(policies), "slugs": slugs})
            return
        from guichet.organisations.apply import apply

        report = apply(policies)
        for line, applied in ((_("Organisations created: %(slugs)s"), report.created),
                              (_("Organisations updated: %(slugs)s"), report.updated),
                              (_("Organisations unchanged: %(slugs)s"), report.unchanged),
                              (_("Organisations not in the folder, left as they are: %(slugs)s"),
                               report.not_in_folder)):
            if applied:
                self.stdout.write(line % {"slugs": ", ".join(applied)})
