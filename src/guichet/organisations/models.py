"""An organisation is a row holding its validated policy; the YAML file is the source of truth."""

from __future__ import annotations

from functools import lru_cache

from django.db import models

from guichet.policy.model import Organisation as Policy


@lru_cache(maxsize=64)
def _parsed(fingerprint: str, document: str) -> Policy:
    return Policy.model_validate_json(document)


class Organisation(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    document = models.JSONField(help_text="The validated policy, preset merged")
    fingerprint = models.CharField(max_length=64)
    applied_at = models.DateTimeField()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def policy(self) -> Policy:
        import json

        return _parsed(self.fingerprint, json.dumps(self.document))

    def name(self, language: str) -> str:
        return self.policy.name.get(language)
