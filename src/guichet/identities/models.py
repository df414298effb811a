"""Member accounts. Writes go through identities.actions only (each one audited)."""

from __future__ import annotations

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models

from guichet.organisations.models import Organisation
from guichet.registry.models import MemberRecord


class AccountManager(BaseUserManager["Account"]):
    pass


class Account(AbstractBaseUser):
    class State(models.TextChoices):
        PENDING = "pending", "pending"      # registered, password or activation still to come
        ACTIVE = "active", "active"
        DISABLED = "disabled", "disabled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="accounts")
    member = models.OneToOneField(MemberRecord, on_delete=models.PROTECT, null=True, related_name="account")
    identifier = models.CharField(max_length=254, help_text="Normalised sign-in identifier")
    email = models.CharField(max_length=254, blank=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    mobile = models.CharField(max_length=32, blank=True)
    landline = models.CharField(max_length=32, blank=True)
    fax = models.CharField(max_length=32, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    must_change_password = models.BooleanField(default=False)
    password_expires_at = models.DateTimeField(null=True, blank=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    contact_confirmed_at = models.DateTimeField(null=True, blank=True)
    policy_version_accepted = models.CharField(max_length=64, blank=True)
    policy_accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AccountManager()
    USERNAME_FIELD = "id"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "identifier"], name="identities_unique_identifier")
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id}:{self.identifier}"

    @property
    def has_signed_in(self) -> bool:
        return self.last_login is not None
