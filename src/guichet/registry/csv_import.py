"""Importing a member registry CSV file: validate everything, then write everything (or nothing).

The file is streamed twice over, never held in memory: the first pass checks every row and
spools the valid ones, already converted, to a temporary file; the second writes them in batches
inside one transaction. If any row is rejected nothing is written, unless the operator asked for
a partial import. A complete import (the file is the whole registry) then retires, in the same
transaction, the records the file no longer holds (registry.retirement). The format is described in
docs/registry-csv.md.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from tqdm import tqdm

from guichet.audit.record import record
from guichet.organisations.models import Organisation
from guichet.registry import retirement
from guichet.registry.csv_columns import Header, HeaderError, Rejected, RowReader, read_header
from guichet.registry.matching import normalise_member_number
from guichet.registry.upsert import BATCH_SIZE, Counts, upsert_batch

SHOWN_REJECTIONS = 20  # kept in memory for the summary; the report file has them all


class CsvFormatError(ValueError):
    """The file as a whole cannot be read (encoding, header, broken quoting): nothing is written."""


@dataclass(frozen=True)
class Rejection:
    line: int
    member_number: str
    reason: str


@dataclass
class ImportSummary:
    read: int = 0
    rejected: int = 0
    created: int = 0
    updated: int = 0
    retired: int = 0   # complete imports only: records missing from the file
    complete: bool = False
    written: bool = False
    dry_run: bool = False
    first_rejections: list[Rejection] = field(default_factory=list)

    @property
    def valid(self) -> int:
        return self.read - self.rejected


@dataclass
class _Options:
    partial: bool
    dry_run: bool
    progress: bool
    complete: bool = False
    allow_retiring_many: bool = False


def import_members(organisation: Organisation, path: str | os.PathLike[str], *, partial: bool = False,
                   dry_run: bool = False, report: str | os.PathLike[str] | None = None,
                   progress: bool = False, complete: bool = False,
                   allow_retiring_many: bool = False) -> ImportSummary:
    """Import a registry CSV file into `organisation`'s member records; see the module docstring.

    `report` receives every rejected row (line, member_number, reason). A dry run does the whole
    import and then rolls it back, so its counts are exact. `complete`: the file is the whole registry,
    and the records it lacks are retired (rejected rows count as present). Raises CsvFormatError when the
    file cannot be read at all, retirement.TooManyRetired (nothing written, even for a dry run) when a
    complete import would retire more than retirement.RETIRE_AT_MOST of the records, unless
    `allow_retiring_many`.
    """
    if report is not None and _same_file(path, report):
        raise CsvFormatError(_("The report cannot be written to the file being imported: choose another "
                               "name for --report."))
    options = _Options(partial=partial, dry_run=dry_run, progress=progress, complete=complete,
                       allow_retiring_many=allow_retiring_many)
    summary = ImportSummary(dry_run=dry_run, complete=complete)
    present: list[str] = []   # member numbers of rejected rows, kept for a complete import only
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool, _report_writer(report) as rejections:
        header = _check(organisation, Path(path), spool, rejections, summary, options, present)
        if summary.rejected and not partial:
            return summary
        spool.seek(0)
        _write(organisation, header, spool, summary, options, present)
    return summary


def _check(organisation: Organisation, path: Path, spool: IO[str], rejections: Any, summary: ImportSummary,
           options: _Options, present: list[str]) -> Header:
    """First pass: validate every row, spool the valid ones as JSON batches, report the others."""
    with _rows(path) as (header, rows, position):
        reader, fields = RowReader(organisation.policy, header), header.fields
        seen: set[str] = set()  # member numbers, to refuse a number twice in one file
        batch: list[list[Any]] = []
        with tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc=_("Checking"), file=sys.stderr,
                  disable=not options.progress, leave=False) as bar:
            for line, cells in rows:
                summary.read += 1
                if summary.read % 1000 == 0:
                    bar.update(position() - bar.n)
                try:
                    values = reader.values(cells)
                    if values["member_number"] in seen:
                        raise Rejected(_("The member number %(number)s appears earlier in the file.")
                                       % {"number": values["member_number"]})
                except Rejected as error:
                    number = _cell(header, cells, "member_number")
                    _reject(summary, rejections, Rejection(line, number, str(error)))
                    if options.complete and number:
                        present.append(normalise_member_number(number))
                    continue
                seen.add(values["member_number"])
                batch.append([_encode(values[f]) for f in fields])
                if len(batch) >= BATCH_SIZE:
                    spool.write(json.dumps(batch) + "\n")
                    batch = []
            bar.update(position() - bar.n)
        if batch:
            spool.write(json.dumps(batch) + "\n")
    return header


def _write(organisation: Organisation, header: Header, spool: IO[str], summary: ImportSummary,
           options: _Options, present: list[str]) -> None:
    """Second pass: upsert the spooled batches, then (complete import) retire the records the file lacks, in
    one transaction (rolled back for a dry run, and when too many would be retired)."""
    counts, retired = Counts(), 0
    with transaction.atomic(), tqdm(total=summary.valid, unit=" rows", desc=_("Importing"), file=sys.stderr,
                                    disable=not options.progress, leave=False) as bar:
        active = retirement.active_count(organisation) if options.complete else 0
        started = timezone.now()   # every row written from now on gets updated_at >= started
        for line in spool:
            rows = [_decode(dict(zip(header.fields, values, strict=True))) for values in json.loads(line)]
            counts.add(upsert_batch(organisation, rows, header.fields))
            bar.update(len(rows))
        if options.complete:
            retirement.touch(organisation, present, now=timezone.now())
            retired = retirement.retire_missing(organisation, started=started, active=active,
                                                allow_many=options.allow_retiring_many)
        record("registry.imported", organisation=organisation, actor="operator", read=summary.read,
               created=counts.created, updated=counts.updated, rejected=summary.rejected,
               complete=options.complete, retired=retired)
        if options.dry_run:
            transaction.set_rollback(True)
    summary.created, summary.updated, summary.written = counts.created, counts.updated, not options.dry_run
    summary.retired = retired


@contextmanager
def _rows(path: Path) -> Iterator[tuple[Header, Iterator[tuple[int, list[str]]], Any]]:
    """Open the file; yield its header, its rows as (first line number, cells), and a byte position."""
    try:
        # Not `with open(...)` here: only the opening's OSError means "cannot be opened".
        raw = open(path, "rb")
    except OSError as error:
        raise CsvFormatError(_("The file cannot be opened: %(error)s") % {"error": error.strerror}) from None
    with raw:
        # utf-8-sig drops the byte order mark that spreadsheet programs write, and reads files without one.
        # Bytes that are not UTF-8 become lone surrogates, found row by row to name the right line.
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
        first = text.readline()
        _check_decoded(first, 1)
        if not first.strip():
            raise CsvFormatError(_("The file is empty: the first line must be the header."))
        delimiter = ";" if first.count(";") > first.count(",") else ","
        try:
            header = read_header(next(csv.reader([first], delimiter=delimiter)))
        except HeaderError as error:
            raise CsvFormatError(str(error)) from None
        yield header, _records(csv.reader(text, delimiter=delimiter)), raw.tell


def _records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    consumed = 1  # the header line
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            if "field larger than field limit" in str(error):
                raise CsvFormatError(_("A value near line %(line)d is longer than %(limit)d characters: the file "
                                       "cannot be read. Check the quotes of that line.")
                                     % {"line": consumed + 1, "limit": csv.field_size_limit()}) from None
            raise CsvFormatError(_("The file cannot be read as CSV near line %(line)d: %(error)s")
                                 % {"line": consumed + 1, "error": error}) from None
        line, consumed = consumed + 1, 1 + reader.line_num
        _check_decoded("".join(cells), line)
        if cells and any(cell.strip() for cell in cells):  # blank lines are not rows
            yield line, cells


_UNDECODABLE = re.compile("[\udc80-\udcff]")


def _check_decoded(text: str, line: int) -> None:
    if _UNDECODABLE.search(text):
        raise CsvFormatError(_("The file is not UTF-8 text (line %(line)d). Save it again choosing "
                               "“CSV UTF-8”.") % {"line": line})


@contextmanager
def _report_writer(path: str | os.PathLike[str] | None) -> Iterator[Any]:
    if path is None:
        yield None
        return
    with open(path, "w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["line", "member_number", "reason"])
        yield writer


def _reject(summary: ImportSummary, report: Any, rejection: Rejection) -> None:
    summary.rejected += 1
    if len(summary.first_rejections) < SHOWN_REJECTIONS:
        summary.first_rejections.append(rejection)
    if report is not None:
        report.writerow([rejection.line, _inert(rejection.member_number), _inert(rejection.reason)])


# A spreadsheet evaluates a cell that starts with one of these (CSV injection): the report's cells quote the
# registry's text, so such a cell gets a leading apostrophe, which spreadsheets show as text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _same_file(path: str | os.PathLike[str], other: str | os.PathLike[str]) -> bool:
    try:
        return os.path.samefile(path, other)
    except OSError:   # one of them does not exist (yet): compare the names
        return Path(path).resolve() == Path(other).resolve()


def _cell(header: Header, cells: list[str], column: str) -> str:
    index = header.columns.index(column)
    return cells[index].strip() if index < len(cells) else ""


def _encode(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    if row.get("birth_date"):
        row["birth_date"] = date.fromisoformat(row["birth_date"])
    return row
