"""The operator documentation cannot drift from the code: every variable Guichet reads is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from guichet.project.environment import VARIABLES, Variable

DOCS = Path(settings.BASE_DIR) / "docs"
README = Path(settings.BASE_DIR) / "README.md"


def documented_rows(text: str) -> dict[str, str]:
    """Variable name -> default, from the Markdown table rows that start with `NAME`."""
    rows = re.findall(r"^\|\s*`([A-Z0-9_]+)`\s*\|\s*([^|]*)\|", text, flags=re.MULTILINE)
    return {name: default.strip().strip("`") for name, default in rows}


@pytest.mark.parametrize("document", [DOCS / "configuration.md", README], ids=lambda p: p.name)
@pytest.mark.parametrize("variable", VARIABLES, ids=lambda v: v.name)
def test_every_variable_is_documented_with_its_default(variable: Variable, document: Path) -> None:
    rows = documented_rows(document.read_text(encoding="utf-8"))
    name, default = variable.name, variable.default
    assert name in rows, f"{name} is read by Guichet but missing from {document.name}"
    assert rows[name] == default, f"{document.name} gives {name} the default {rows[name]!r}, not {default!r}"


def test_no_documented_variable_is_unknown() -> None:
    rows = documented_rows((DOCS / "configuration.md").read_text(encoding="utf-8"))
    known = {v.name for v in VARIABLES} | {"WEB_CONCURRENCY", "GUICHET_ALLOW_SQLITE_IN_PRODUCTION"}
    assert set(rows) <= known, f"documented but never read: {sorted(set(rows) - known)}"


def test_readme_links_to_the_documents_it_names() -> None:
    readme = README.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(((?:docs|policies)/[^)#]+)", readme):
        assert (Path(settings.BASE_DIR) / target).exists(), f"README links to missing {target}"
    assert "scripts/demo" in readme and "scripts/test" in readme
