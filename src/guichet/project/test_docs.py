"""The operator documentation cannot drift from the code: every variable Guichet reads is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from guichet.project.environment import VARIABLES

ROOT = Path(settings.BASE_DIR)
CONFIGURATION = ROOT / "docs" / "configuration.md"
README = ROOT / "README.md"
# Read outside environment.VARIABLES, and documented in docs/configuration.md's second table.
READ_ELSEWHERE = {"WEB_CONCURRENCY", "GUICHET_ALLOW_SQLITE_IN_PRODUCTION", "OIDC_RSA_PRIVATE_KEY"}


def variables_table() -> str:
    """The Markdown table of environment.VARIABLES, as README.md and docs/configuration.md show it."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    rows += [f"| `{v.name}` | {f'`{v.default}`' if v.default else ''} | {v.help} |" for v in VARIABLES]
    return "\n".join(rows)


def documented_names(text: str) -> set[str]:
    return set(re.findall(r"^\|\s*`([A-Z0-9_]+)`\s*\|", text, flags=re.MULTILINE))


@pytest.mark.parametrize("document", [CONFIGURATION, README], ids=lambda p: p.name)
def test_the_table_of_variables_is_the_one_generated_from_the_code(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    missing = sorted({v.name for v in VARIABLES} - documented_names(text))
    table = variables_table()
    assert table in text, (
        f"{document.name} is out of date (missing: {', '.join(missing) or 'none'}; or a default or meaning "
        f"changed). Replace its table of environment variables with:\n\n{table}\n"
    )


def test_no_documented_variable_is_unknown() -> None:
    documented = documented_names(CONFIGURATION.read_text(encoding="utf-8"))
    known = {v.name for v in VARIABLES} | READ_ELSEWHERE
    assert documented <= known, f"documented but never read: {sorted(documented - known)}"
    assert READ_ELSEWHERE <= documented, f"read but not documented: {sorted(READ_ELSEWHERE - documented)}"


def test_readme_links_to_documents_that_exist() -> None:
    readme = README.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(((?:docs|policies)/[^)#]+)", readme):
        assert (ROOT / target).exists(), f"README links to missing {target}"
    assert "scripts/demo" in readme and "scripts/test" in readme
