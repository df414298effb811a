"""Every user-facing string has its French translation, and the compiled catalogues are up to date."""

from __future__ import annotations

import shutil
import subprocess
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
