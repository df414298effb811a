"""A complete import retires the records its file no longer holds (`guichet members import --complete`).

A retired record stays (an account may point to it, and agents need to see it), but it proves nothing any
more: registration does not find it, an identity provider's claims are not matched to it, no account is
provisioned for it and no letter goes to its address (`MemberRecord.objects.in_registry()`). A later import
that holds it again brings it back (registry.upsert).

Which records the file held is told without keeping every member number: the import notes when it starts
writing; every row it writes gets `updated_at` (auto_now) at or after that instant, and so do the records
whose row was rejected (`touch`: they are in the file, only invalid). What is left with an older
`updated_at` was not in the file. Both instants come from this process's clock, never the database's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice

from django.utils import timezone
from django.utils.translation import ngettext

from guichet.organisations.models import Organisation
from guichet.registry.models import MemberRecord
from guichet.registry.upsert import BATCH_SIZE

# A complete import may retire at most this share of the organisation's records in the registry, unless the
# operator says so (--allow-retiring-many): a file cut short, or the export of one office only, would
# otherwise retire most members at once. An organisation loses far fewer members between two exports.
RETIRE_AT_MOST = 0.10


class TooManyRetired(ValueError):
    """The complete import would retire more than RETIRE_AT_MOST of the records: nothing is written."""

    def __init__(self, retiring: int, active: int):
        self.retiring, self.active = retiring, active
        super().__init__(ngettext(
            "%(retiring)d of the %(active)d records in the registry is missing from the file and would be "
            "retired, more than %(most)d %%: is the file the whole registry? If it is, import it again with "
            "--allow-retiring-many.",
            "%(retiring)d of the %(active)d records in the registry are missing from the file and would be "
            "retired, more than %(most)d %%: is the file the whole registry? If it is, import it again with "
            "--allow-retiring-many.", retiring) % {"retiring": retiring, "active": active,
                                                   "most": round(RETIRE_AT_MOST * 100)})


def active_count(organisation: Organisation) -> int:
    return MemberRecord.objects.filter(organisation=organisation).in_registry().count()


def touch(organisation: Organisation, numbers: Iterable[str], *, now: datetime) -> None:
    """Mark these member numbers as present in the file (rows rejected, so not written): not to be retired."""
    records = MemberRecord.objects.filter(organisation=organisation).in_registry()
    for batch in _batches(numbers):
        records.filter(member_number__in=batch).update(updated_at=now)


def retire_missing(organisation: Organisation, *, started: datetime, active: int, allow_many: bool) -> int:
    """Retire the organisation's records in the registry that were not written (nor touched) since `started`;
    `active` is how many records were in the registry before the import. Raises TooManyRetired (the caller
    rolls back) when more than RETIRE_AT_MOST of them would go, unless `allow_many`."""
    missing = MemberRecord.objects.filter(organisation=organisation, updated_at__lt=started).in_registry()
    retiring = missing.count()
    if retiring > RETIRE_AT_MOST * active and not allow_many:
        raise TooManyRetired(retiring, active)
    # QuerySet.update leaves updated_at (auto_now) as it was: when the registry last sent the record.
    return missing.update(retired_at=timezone.now()) if retiring else 0


def _batches(numbers: Iterable[str]) -> Iterator[list[str]]:
    iterator = iter(numbers)
    while batch := list(islice(iterator, BATCH_SIZE)):
        yield batch
