"""Journey runs, saved server-side: the current step and non-secret state, bound to one browser session."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models


class Run(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.CASCADE)
    journey = models.CharField(max_length=40)
    step = models.CharField(max_length=40)
    state = models.JSONField(default=dict, blank=True, help_text="Never a password, code or token")
    binding = models.CharField(max_length=64, help_text="Hash of the secret kept in the browser session")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Not stored: the account a step read during this request, for the journey's end in the same request.
    account_read: Any = None
