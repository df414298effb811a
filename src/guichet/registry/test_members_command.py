from __future__ import annotations

import csv
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from guichet.organisations.models import Organisation
from guichet.registry.models import MemberRecord

GOOD = "member_number;last_name;birth_date\n123456789;Dupont;1950-01-01\n100000002;Durand;02/03/1960\n"
BAD = GOOD + "42;Martin;1970-01-01\n"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("members", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_prints_a_summary(pension: Organisation, tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_text(GOOD, encoding="utf-8")
    out, _ = run("import", "--organisation", pension.slug, str(path), "--quiet")
    assert "Rows read: 2. Created: 2. Updated: 0. Rejected: 0." in out
    out, _ = run("import", "--organisation", pension.slug, str(path))
    assert "Created: 0. Updated: 2." in out
    assert MemberRecord.objects.filter(organisation=pension).count() == 2


def test_rejected_rows_fail_the_command_and_write_nothing(pension: Organisation, tmp_path: Path) -> None:
    path, report = tmp_path / "members.csv", tmp_path / "rejected.csv"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(CommandError, match="1 row rejected: nothing was imported"):
        run("import", "--organisation", pension.slug, str(path), "--report", str(report))
    assert not MemberRecord.objects.exists()
    with open(report, encoding="utf-8", newline="") as file:
        assert [row[:2] for row in csv.reader(file)] == [["line", "member_number"], ["4", "42"]]


def test_partial_import_succeeds_with_the_valid_rows(pension: Organisation, tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_text(BAD, encoding="utf-8")
    out, err = run("import", "--organisation", pension.slug, str(path), "--partial")
    assert "Created: 2. Updated: 0. Rejected: 1." in out
    assert "Line 4 (42):" in err
    assert MemberRecord.objects.count() == 2


def test_dry_run(pension: Organisation, tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_text(GOOD, encoding="utf-8")
    out, _ = run("import", "--organisation", pension.slug, str(path), "--dry-run")
    assert "Created: 2." in out and "Dry run: nothing was written." in out
    assert not MemberRecord.objects.exists()


def test_bad_header_and_unknown_organisation(pension: Organisation, tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_text("member_number,surname\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Unknown column “surname”.*Nothing was imported"):
        run("import", "--organisation", pension.slug, str(path))
    with pytest.raises(CommandError, match="Unknown organisation “nowhere”"):
        run("import", "--organisation", "nowhere", str(path))
    with pytest.raises(CommandError, match="cannot be opened"):
        run("import", "--organisation", pension.slug, str(tmp_path / "missing.csv"))


def test_generate(farm: Organisation) -> None:
    out, _ = run("generate", "--organisation", farm.slug, "--count", "50", "--demo")
    assert "50 synthetic members written." in out and "3 demo members written." in out
    assert MemberRecord.objects.filter(organisation=farm).count() == 53
