"""guichet organisations check|apply [FOLDER]"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from guichet.policy.loader import PolicyError, json_schema, load_folder


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
            raise CommandError(
                f"{len(error.problems)} problem(s) in the policy files; nothing was applied:\n{error}"
            ) from None
        if action == "check":
            self.stdout.write(f"{len(policies)} policy file(s) valid: {', '.join(p.slug for p in policies)}")
            return
        from guichet.organisations.apply import apply

        report = apply(policies)
        for label, slugs in (("created", report.created), ("updated", report.updated),
                             ("unchanged", report.unchanged), ("not in the folder, left as is", report.not_in_folder)):
            if slugs:
                self.stdout.write(f"{label}: {', '.join(slugs)}")
