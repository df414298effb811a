"""The member registry: the organisation's own records, against which members prove who they are."""

from __future__ import annotations

from django.db import models

from guichet.organisations.models import Organisation


class MemberRecordQuerySet(models.QuerySet["MemberRecord"]):
    def in_registry(self) -> MemberRecordQuerySet:
        """The records the organisation's registry still holds: only these prove who someone is (registration,
        recognition by an identity provider, provisioning, letters to their address)."""
        return self.filter(retired_at__isnull=True)


class MemberRecord(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="members")
    member_number = models.CharField(max_length=32)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    # Matching keys: case, accents, hyphens, apostrophes and spaces folded (see registry.matching).
    first_name_key = models.CharField(max_length=150, blank=True)
    last_name_key = models.CharField(max_length=150, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    email = models.CharField(max_length=254, blank=True)
    email_key = models.CharField(max_length=254, blank=True, db_index=True)
    mobile = models.CharField(max_length=32, blank=True, help_text="E.164")
    landline = models.CharField(max_length=32, blank=True, help_text="E.164")
    address = models.TextField(blank=True, help_text="Postal address, one line per line, for letters")
    category = models.CharField(max_length=32, blank=True, help_text="individual, farmer, employer, third_party...")
    iban_suffix = models.CharField(max_length=10, blank=True, help_text="Only the last characters are kept")
    facts = models.JSONField(default=dict, blank=True, help_text="Answers to security questions, by fact name")
    updated_at = models.DateTimeField(auto_now=True)
    retired_at = models.DateTimeField(
        null=True, blank=True,
        help_text="No longer in the organisation's registry: missing from a complete import (registry.retirement)")

    objects = MemberRecordQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "member_number"], name="registry_unique_member_number")
        ]
        indexes = [models.Index(fields=["organisation", "last_name_key", "birth_date"], name="registry_name_birth")]

    def __str__(self) -> str:
        return f"{self.organisation_id}:{self.member_number}"

    @property
    def in_registry(self) -> bool:
        """False once a complete import no longer had it: its details and address may no longer be the member's."""
        return self.retired_at is None
