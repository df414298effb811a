"""Append-only security events. Never updated, never deleted (a PostgreSQL trigger enforces it too)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone


class AppendOnly(Exception):
    pass


class Event(models.Model):
    at = models.DateTimeField(default=timezone.now, db_index=True)
    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, null=True)
    kind = models.CharField(max_length=64, db_index=True, help_text="Stable name, e.g. login.failed")
    account_id = models.UUIDField(null=True, blank=True, db_index=True)
    actor = models.CharField(max_length=100, help_text="member, agent:<id>, system or operator")
    ip = models.GenericIPAddressField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True, help_text="Details; never a secret")

    class Meta:
        ordering = ["at", "id"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnly("audit events are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnly("audit events are never deleted")
