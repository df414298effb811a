"""Which organisation an application belongs to, and the upstream identities linked to accounts."""

from __future__ import annotations

from django.db import models
from oauth2_provider.settings import oauth2_settings

from guichet.identities.models import Account
from guichet.organisations.models import Organisation


class Client(models.Model):
    """An organisation's application that signs its members in (one django-oauth-toolkit Application).

    django-oauth-toolkit knows a single issuer; this link is what makes each organisation its own:
    a client only ever sees the endpoints, members and tokens of its organisation.
    """

    application = models.OneToOneField(oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE,
                                       related_name="guichet_client")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="oidc_clients")
    scopes = models.CharField(max_length=255, help_text="The scopes it may ask for, space separated "
                                                        "(always openid); asking for another is refused")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.organisation_id}:{self.application_id}"

    @property
    def allowed_scopes(self) -> list[str]:
        return self.scopes.split()


class FederatedIdentity(models.Model):
    """An identity at an upstream provider (FranceConnect...) recognised as this member's account."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="federated_identities")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="federated_identities")
    provider = models.CharField(max_length=31, help_text="The provider's name in the organisation's policy")
    issuer = models.CharField(max_length=255, help_text="The provider's issuer: a subject is unique only there")
    subject = models.CharField(max_length=255, help_text="The provider's 'sub' for this person")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "issuer", "subject"], name="oidc_unique_upstream_subject"),
            models.UniqueConstraint(fields=["account", "provider"], name="oidc_one_identity_per_provider"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.subject}"


class Authentication(models.Model):
    """The member's sign-in that an application's code came from, and so the refresh tokens that code led
    to (their whole rotation family): when it happened and how. A refresh token never outlives
    SESSION_MAX_SECONDS from it, and ID tokens tell it (`auth_time`, `amr`), however often the
    application refreshes."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    authenticated_at = models.DateTimeField(help_text="When the session that authorised the code signed in")
    method = models.CharField(max_length=63, help_text="How it signed in: the session's method "
                                                       "(password, password+code, federation:<provider>...)")
    code_digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the authorization code")
    token_family = models.UUIDField(null=True, unique=True,
                                    help_text="The refresh tokens' family once the code was redeemed")

    class Meta:
        indexes = [models.Index(fields=["authenticated_at"], name="oidc_authentication_at")]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.method}@{self.authenticated_at.isoformat()}"
