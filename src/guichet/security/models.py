"""Counters and single-use marks shared by every node through the database (when Redis is absent)."""

from __future__ import annotations

from django.db import models


class RateCounter(models.Model):
    """Hits on one key during one fixed window (see ratelimit.py)."""

    # HMAC of the key, never the key: keys hold emails and addresses, which must not sit in clear
    # in a table that anyone debugging rate limits will read.
    key_hash = models.CharField(max_length=64)
    window_seconds = models.PositiveIntegerField()
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key_hash", "window_seconds", "window_start"], name="one_counter_per_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key_hash[:8]}… {self.count} since {self.window_start:%H:%M:%S}"


class SpentToken(models.Model):
    """A single-use token (CAPTCHA solution, text challenge) already used, kept until it expires."""

    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.digest[:8]}… until {self.expires_at:%H:%M:%S}"
