"""A complete import retires the records its file no longer holds (registry.retirement)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from guichet.audit.models import Event
from guichet.organisations.models import Organisation
from guichet.registry.csv_import import import_members
from guichet.registry.models import MemberRecord
from guichet.registry.retirement import RETIRE_AT_MOST, TooManyRetired, retire_missing

HEADER = "member_number,last_name,birth_date\n"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def numbers(count: int, start: int = 1) -> list[str]:
    return [f"{n:09d}" for n in range(start, start + count)]


def write(tmp_path: Path, members: list[str], extra: str = "", name: str = "members.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(f"{n},Dupont,1950-01-01\n" for n in members) + extra, encoding="utf-8")
    return path


def registry(organisation: Organisation, tmp_path: Path, count: int = 20) -> list[str]:
    """`count` records in the registry, imported the ordinary way."""
    members = numbers(count)
    import_members(organisation, write(tmp_path, members, name="first.csv"))
    return members


def retired(organisation: Organisation) -> set[str]:
    return set(MemberRecord.objects.filter(organisation=organisation, retired_at__isnull=False)
               .values_list("member_number", flat=True))


def test_a_complete_import_retires_the_missing_records(pension: Organisation, tmp_path: Path) -> None:
    members = registry(pension, tmp_path)
    kept, gone = members[:18], members[18:]
    summary = import_members(pension, write(tmp_path, [*kept, "000000099"]), complete=True)
    assert (summary.created, summary.updated, summary.retired, summary.written) == (1, 18, 2, True)
    assert retired(pension) == set(gone)
    assert not MemberRecord.objects.filter(organisation=pension).in_registry().filter(member_number__in=gone)
    event = Event.objects.filter(kind="registry.imported").latest("id")
    assert (event.data["complete"], event.data["retired"], event.data["created"]) == (True, 2, 1)


def test_a_retired_record_keeps_its_details_and_comes_back_with_any_later_import(pension: Organisation,
                                                                                  tmp_path: Path) -> None:
    members = registry(pension, tmp_path)
    import_members(pension, write(tmp_path, members[1:]), complete=True)
    record = MemberRecord.objects.get(organisation=pension, member_number=members[0])
    assert record.retired_at is not None and not record.in_registry and record.last_name == "Dupont"
    # A partial (not complete) file that holds it again: it is in the registry again.
    summary = import_members(pension, write(tmp_path, members[:1], name="one.csv"))
    assert (summary.updated, summary.retired) == (1, 0)
    record.refresh_from_db()
    assert record.retired_at is None and record.in_registry
    assert not retired(pension)


def test_rows_rejected_in_a_complete_file_are_present_not_retired(pension: Organisation, tmp_path: Path) -> None:
    members = registry(pension, tmp_path)
    # The first member's row is now invalid (birth date in the future): in the file, but not written.
    bad = f"{members[0]},Dupont,2999-01-01\n{members[1][:3]} {members[1][3:]},Dupont,31/02/1950\n"
    summary = import_members(pension, write(tmp_path, members[2:], bad), complete=True, partial=True)
    assert (summary.rejected, summary.retired) == (2, 0)
    assert not retired(pension)


def test_a_complete_import_with_rejected_rows_and_no_partial_writes_and_retires_nothing(
        pension: Organisation, tmp_path: Path) -> None:
    members = registry(pension, tmp_path)
    summary = import_members(pension, write(tmp_path, members[5:], "42,Martin,1970-01-01\n"), complete=True)
    assert (summary.written, summary.retired) == (False, 0)
    assert not retired(pension)


def test_an_import_that_is_not_complete_never_retires(pension: Organisation, tmp_path: Path) -> None:
    members = registry(pension, tmp_path)
    summary = import_members(pension, write(tmp_path, members[:1]))
    assert summary.retired == 0 and not retired(pension)
    assert Event.objects.filter(kind="registry.imported").latest("id").data["complete"] is False


def test_a_dry_run_counts_the_retired_and_changes_nothing(pension: Organisation, tmp_path: Path) -> None:
    members = registry(pension, tmp_path)
    before = list(MemberRecord.objects.order_by("pk").values())
    summary = import_members(pension, write(tmp_path, members[:-2]), complete=True, dry_run=True)
    assert (summary.retired, summary.written, summary.dry_run) == (2, False, True)
    assert list(MemberRecord.objects.order_by("pk").values()) == before


def test_retiring_more_than_the_share_is_refused_and_writes_nothing(pension: Organisation, tmp_path: Path) -> None:
    members = registry(pension, tmp_path)   # 20 records: 2 is 10 %, 3 is more
    assert RETIRE_AT_MOST == 0.10
    before = list(MemberRecord.objects.order_by("pk").values())
    events = Event.objects.count()
    with pytest.raises(TooManyRetired, match="3 of the 20 records in the registry are missing") as refused:
        import_members(pension, write(tmp_path, [*members[3:], "000000099"]), complete=True)
    assert (refused.value.retiring, refused.value.active) == (3, 20)
    assert list(MemberRecord.objects.order_by("pk").values()) == before   # not even the new record
    assert Event.objects.count() == events
    with pytest.raises(TooManyRetired):   # a dry run tells the same
        import_members(pension, write(tmp_path, members[3:]), complete=True, dry_run=True)
    summary = import_members(pension, write(tmp_path, members[3:]), complete=True, allow_retiring_many=True)
    assert summary.retired == 3 and retired(pension) == set(members[:3])


def test_the_share_counts_only_records_still_in_the_registry(pension: Organisation, tmp_path: Path) -> None:
    members = registry(pension, tmp_path)
    import_members(pension, write(tmp_path, members[2:]), complete=True)   # 2 of 20 retired
    # 18 left: 1 more is allowed, 2 (11 %) are not. The 2 already retired are not counted again.
    with pytest.raises(TooManyRetired, match="2 of the 18 records"):
        import_members(pension, write(tmp_path, members[4:]), complete=True)
    assert import_members(pension, write(tmp_path, members[3:]), complete=True).retired == 1


def test_a_complete_file_without_rows_is_refused(pension: Organisation, tmp_path: Path) -> None:
    registry(pension, tmp_path)
    with pytest.raises(TooManyRetired, match="20 of the 20 records"):
        import_members(pension, write(tmp_path, []), complete=True)
    assert not retired(pension)


def test_other_organisations_are_untouched(pension: Organisation, farm: Organisation, tmp_path: Path) -> None:
    call_command("members", "generate", "--organisation", farm.slug, "--count", "5", stdout=StringIO())
    members = registry(pension, tmp_path)
    import_members(pension, write(tmp_path, members[1:]), complete=True)
    assert not retired(farm) and retired(pension) == {members[0]}


def test_an_upsert_moves_updated_at_of_every_row_it_writes(pension: Organisation, tmp_path: Path) -> None:
    """What retiring relies on: bulk_create(update_conflicts=True) sets updated_at (auto_now) on updated rows too."""
    members = registry(pension, tmp_path)
    before = dict(MemberRecord.objects.values_list("member_number", "updated_at"))
    import_members(pension, write(tmp_path, members))
    after = dict(MemberRecord.objects.values_list("member_number", "updated_at"))
    assert all(after[number] > before[number] for number in members)


def test_the_instant_the_import_started_is_compared_to_the_microsecond(pension: Organisation) -> None:
    """SQLite keeps datetimes as text (no fraction when it is zero), PostgreSQL as microseconds: both compare
    right on either side of the instant the import started."""
    started = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    before = [started - timedelta(microseconds=1), started - timedelta(microseconds=500_000)]
    after = [started, started + timedelta(microseconds=1), started + timedelta(seconds=1)]
    for n, at in enumerate(before + after, start=1):
        MemberRecord.objects.create(organisation=pension, member_number=f"{n:09d}")
        MemberRecord.objects.filter(organisation=pension, member_number=f"{n:09d}").update(updated_at=at)
    assert retire_missing(pension, started=started, active=5, allow_many=True) == 2
    assert retired(pension) == {"000000001", "000000002"}


# The command -------------------------------------------------------------------------------------------

def run(*args: str) -> str:
    out = StringIO()
    call_command("members", *args, "--quiet", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_command_prints_the_retired_count(pension: Organisation, tmp_path: Path) -> None:
    members = registry(pension, tmp_path)
    path = str(write(tmp_path, members[:-1]))
    out = run("import", "--organisation", pension.slug, path, "--complete", "--dry-run")
    assert "Retired (missing from the file): 1 record." in out and "Dry run: nothing was written." in out
    out = run("import", "--organisation", pension.slug, path, "--complete")
    assert "Rows read: 19. Created: 0. Updated: 19. Rejected: 0." in out
    assert "Retired (missing from the file): 1 record." in out
    assert "Retired" not in run("import", "--organisation", pension.slug, path)


def test_the_command_refuses_too_many_and_names_the_numbers(pension: Organisation, tmp_path: Path) -> None:
    members = registry(pension, tmp_path)
    path = str(write(tmp_path, members[:10]))
    with pytest.raises(CommandError, match=r"10 of the 20 records .* more than 10 %.*Nothing was imported\."):
        run("import", "--organisation", pension.slug, path, "--complete")
    assert not retired(pension)
    with pytest.raises(CommandError, match="--allow-retiring-many goes with --complete"):
        run("import", "--organisation", pension.slug, path, "--allow-retiring-many")
    out = run("import", "--organisation", pension.slug, path, "--complete", "--allow-retiring-many")
    assert "Retired (missing from the file): 10 records." in out


def test_the_command_speaks_french_by_default(pension: Organisation, tmp_path: Path) -> None:
    members = registry(pension, tmp_path)
    path = str(write(tmp_path, members[:10]))
    with translation.override("fr"):
        with pytest.raises(CommandError, match="10 des 20 fiches"):
            run("import", "--organisation", pension.slug, path, "--complete")
        out = run("import", "--organisation", pension.slug, path, "--complete", "--allow-retiring-many")
    assert "Retirées (absentes du fichier) : 10 fiches." in out
