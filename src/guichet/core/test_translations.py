"""Every user-facing string has its French translation, and the compiled catalogues are up to date."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]
CATALOGUES = sorted(PACKAGE.glob("*/locale/fr/LC_MESSAGES/django.po"))


def test_there_are_catalogues() -> None:
    assert len(CATALOGUES) >= 2


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parts[-5])
def test_every_message_is_translated(po: Path) -> None:
    result = subprocess.run(["msgfmt", "--statistics", "-o", "/dev/null", str(po)], capture_output=True, text=True,
                            check=False) if shutil.which("msgfmt") else None
    if result is None:
        pytest.fail("msgfmt (GNU gettext) is needed to check the catalogues: apt-get install gettext")
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, f"{po}: {result.stderr}"


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parts[-5])
def test_the_compiled_catalogue_matches(po: Path, tmp_path: Path) -> None:
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(compiled), str(po)], check=True)
    hint = f"recompile: msgfmt -o {po.with_suffix('.mo')} {po}"
    assert compiled.read_bytes() == po.with_suffix(".mo").read_bytes(), hint


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parts[-5])
def test_every_string_of_the_code_is_in_the_catalogue(po: Path, tmp_path: Path) -> None:
    """makemessages, run on a copy of the app, finds no string that the catalogue lacks: a `_()` added
    without its French is caught here, not by a member reading English on a French page."""
    app = po.parents[3]
    copy = tmp_path / app.name
    shutil.copytree(app, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    # -P: the copy is the working directory, and web/html/ must not hide the standard library's html
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "guichet.project.settings", "GUICHET_ENV": "test"}
    subprocess.run([sys.executable, "-P", "-m", "django", "makemessages", "-l", "fr"], cwd=copy, env=environment,
                   check=True, capture_output=True)
    result = subprocess.run(["msgfmt", "--statistics", "-o", "/dev/null", str(copy / po.relative_to(app))],
                            capture_output=True, text=True, check=False)
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, (
        f"{app.name}: strings in the code are missing from {po} ({result.stderr.strip()}): "
        f"run makemessages -l fr in src/guichet/{app.name}, translate, then msgfmt")
