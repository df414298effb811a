"""Shared by the in-process benchmarks: Django on a temporary database with the bundled organisations.

Run the benchmarks as scripts (`python bench/NAME.py`), which puts this folder on the import path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def organisations(folder: Path) -> dict[str, Any]:
    """Django set up on DATABASE_URL (else a SQLite file in `folder`), migrated, policies applied."""
    os.environ["GUICHET_ENV"] = "test"   # DEBUG off: no query log growing with the run
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{folder / 'bench.sqlite3'}")
    os.environ.setdefault("DATA_DIR", str(folder))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guichet.project.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from guichet.organisations.apply import apply
    from guichet.organisations.models import Organisation
    from guichet.policy.loader import load_folder

    call_command("migrate", verbosity=0)
    apply(load_folder(Path(settings.BASE_DIR) / "policies" / "organisations"))
    return {organisation.slug: organisation for organisation in Organisation.objects.all()}
