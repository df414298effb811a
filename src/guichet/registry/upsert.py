"""Writing member records in batches: insert new member numbers, update known ones (idempotent)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from guichet.organisations.models import Organisation
from guichet.registry.models import MemberRecord

BATCH_SIZE = 2000


@dataclass
class Counts:
    created: int = 0
    updated: int = 0

    def add(self, other: Counts) -> None:
        self.created += other.created
        self.updated += other.updated


def upsert_batch(organisation: Organisation, rows: Sequence[dict[str, Any]], fields: Iterable[str]) -> Counts:
    """Insert or update one batch of records, each a dict of MemberRecord fields with a member_number.

    Only `fields` are overwritten on records that already exist, so a file holding a few columns
    leaves the others as they were; every record written is in the registry (not retired). Member
    numbers must be unique within the batch.
    """
    if not rows:
        return Counts()
    numbers = [row["member_number"] for row in rows]
    # Counted before writing: bulk_create cannot tell inserted rows from updated ones.
    existing = MemberRecord.objects.filter(organisation=organisation, member_number__in=numbers).count()
    # A record a file holds is in the registry again, whatever a complete import decided before (retired_at).
    # updated_at (auto_now, set on every row written) is what a complete import compares to retire the others.
    update_fields = [f for f in dict.fromkeys([*fields, "updated_at", "retired_at"]) if f != "member_number"]
    MemberRecord.objects.bulk_create(
        [MemberRecord(organisation=organisation, **row, retired_at=None) for row in rows],
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["organisation", "member_number"],
        update_fields=update_fields,
    )
    return Counts(created=len(rows) - existing, updated=existing)


def upsert(organisation: Organisation, rows: Iterable[dict[str, Any]], fields: Iterable[str]) -> Counts:
    """upsert_batch over any number of rows, BATCH_SIZE at a time (the caller owns the transaction)."""
    fields = tuple(fields)
    counts, batch = Counts(), []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH_SIZE:
            counts.add(upsert_batch(organisation, batch, fields))
            batch = []
    counts.add(upsert_batch(organisation, batch, fields))
    return counts
