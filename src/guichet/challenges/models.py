"""One model for every one-time secret: codes, links, temporary passwords.

Only a keyed hash of the secret is stored. Each challenge expires, is used at most once, and
counts wrong attempts; a new code for the same purpose inherits the failures of the one it replaces.
"""

from __future__ import annotations

import uuid

from django.db import models


class Challenge(models.Model):
    class Kind(models.TextChoices):
        CODE = "code", "code"
        LINK = "link", "link"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE)
    account = models.ForeignKey("identities.Account", null=True, blank=True, on_delete=models.CASCADE)
    purpose = models.CharField(max_length=40, help_text="e.g. login, registration, recovery, contact")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    scope = models.CharField(max_length=64, blank=True, db_index=True,
                             help_text="What the secret is bound to: a journey run, usually")
    secret_hash = models.CharField(max_length=64, db_index=True)
    channel = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    replaced_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=5)
    data = models.JSONField(default=dict, blank=True, help_text="Non-secret context, e.g. the new email to confirm")

    class Meta:
        indexes = [models.Index(fields=["scope", "purpose"], name="challenges_scope_purpose")]
