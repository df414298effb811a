"""Member accounts. Writes go through identities.actions only (each one audited)."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils.crypto import salted_hmac

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
    language = models.CharField(max_length=8, blank=True,
                                help_text="The language the member last used: what agents send them speaks it")
    policy_version_accepted = models.CharField(max_length=64, blank=True)
    policy_accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    session_version = models.PositiveIntegerField(
        default=0, help_text="Raised to end every session of the account (identities.actions.end_sessions)")

    objects = AccountManager()
    USERNAME_FIELD = "id"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "identifier"], name="identities_unique_identifier")
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id}:{self.identifier}"

    @property
    def has_signed_in(self) -> bool:
        return self.last_login is not None

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Django ends a session whose stored hash no longer matches: the hash covers the password
        # (a new password ends other sessions) and session_version (an agent's "end all sessions").
        key_salt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
        return salted_hmac(key_salt, f"{self.password}:{self.session_version}", secret=secret,
                           algorithm="sha256").hexdigest()


class Factor(models.Model):
    """A second factor the member enrolled: email or SMS codes, an authenticator app (TOTP), or passkeys
    (the keys themselves are Passkey rows; this row says the member chose them)."""

    class Kind(models.TextChoices):
        EMAIL = "email", "email"
        SMS = "sms", "sms"
        TOTP = "totp", "totp"
        PASSKEY = "passkey", "passkey"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="factors")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    secret = models.CharField(max_length=200, blank=True, help_text="TOTP seed, encrypted with the secret key")
    # The number an SMS factor's codes go to, kept apart from Account.mobile: recovery sends temporary
    # passwords to the account's number, so a stolen password that enrols a stranger's phone here must not
    # also take over recovery.
    mobile = models.CharField(max_length=32, blank=True,
                              help_text="SMS factor: the number its codes go to (E.164); not the account's mobile")
    created_at = models.DateTimeField()
    last_used_step = models.BigIntegerField(null=True, blank=True, help_text="Last TOTP time step used (no replay)")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "kind"], name="identities_one_factor_per_kind")]


class Passkey(models.Model):
    """A WebAuthn credential (fingerprint, face, PIN of a device, or security key). Managed by
    identities.passkeys; only the public key is stored, so a leaked database signs nobody in."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="passkeys")
    credential_id = models.CharField(max_length=1400, unique=True, help_text="base64url, as the browser sends it")
    public_key = models.BinaryField()
    sign_count = models.PositiveBigIntegerField(default=0, help_text="Authenticator counter: a lower one is a clone")
    transports = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)


class LoginThrottle(models.Model):
    """Failed sign-ins of one identity (an account, or an unknown identifier), and its locks.

    The rules live in security.lockout. Counters survive a lock: after the first lock each further
    failure locks again for longer, so "3 tries per 2 hours" never means 36 tries a day.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    key_hash = models.CharField(max_length=64, help_text="HMAC of the identity key: no identifier stored")
    failures = models.PositiveIntegerField(default=0)
    locks = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "key_hash"], name="identities_unique_throttle")]


class RememberedDevice(models.Model):
    """A browser the member asked to remember: the second factor is skipped there until expiry.

    Managed by security.devices; revoked on every credential change (identities.actions).
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="devices")
    token_hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=200, blank=True, help_text="Browser description, for the member's list")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
