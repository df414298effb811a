"""Applying validated policies to the database: all or nothing, idempotent."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from guichet.organisations.models import Organisation
from guichet.policy.loader import fingerprint
from guichet.policy.model import Organisation as Policy


@dataclass
class Report:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    not_in_folder: list[str] = field(default_factory=list)


@transaction.atomic
def apply(policies: list[Policy]) -> Report:
    report = Report()
    now = timezone.now()
    for policy in policies:
        digest = fingerprint(policy)
        row = Organisation.objects.select_for_update().filter(slug=policy.slug).first()
        if row is None:
            Organisation.objects.create(slug=policy.slug, document=policy.model_dump(mode="json"),
                                        fingerprint=digest, applied_at=now)
            report.created.append(policy.slug)
        elif row.fingerprint != digest:
            row.document, row.fingerprint, row.applied_at = policy.model_dump(mode="json"), digest, now
            row.save(update_fields=["document", "fingerprint", "applied_at"])
            report.updated.append(policy.slug)
        else:
            report.unchanged.append(policy.slug)
    # An organisation whose file disappeared is left as it is: its members and accounts remain.
    applied = {p.slug for p in policies}
    report.not_in_folder = list(Organisation.objects.exclude(slug__in=applied).values_list("slug", flat=True))
    return report
