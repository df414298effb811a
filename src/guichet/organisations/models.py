"""An organisation is a row holding its validated policy; the YAML file is the source of truth."""

from __future__ import annotations

from django.db import models

from guichet.policy.model import Organisation as Policy

# Parsed policies by fingerprint (the digest of the document): a request reads the organisation without
# its document (see resolve.by_slug) and parses it only the first time a node meets that version.
_POLICIES: dict[str, Policy] = {}


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
        parsed = _POLICIES.get(self.fingerprint)
        if parsed is None:
            if len(_POLICIES) >= 256:   # versions applied over a long life: start afresh, never grow
                _POLICIES.clear()
            parsed = _POLICIES[self.fingerprint] = Policy.model_validate(self.document)
        return parsed

    def name(self, language: str) -> str:
        return self.policy.name.get(language)
