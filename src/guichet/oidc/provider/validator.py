"""django-oauth-toolkit's request validator, bound to one organisation.

django-oauth-toolkit serves one issuer. Here every view builds its oauthlib server with a validator
that knows the organisation named in the URL: clients, tokens and ID tokens of other organisations
are unknown to it, and the issuer is BASE_URL/o/<slug>.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from oauth2_provider.models import get_application_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.common import Request

from guichet.identities.models import Account
from guichet.organisations.models import Organisation

# Claims by scope (OpenID Connect Core 5.4), plus the organisation's own member number.
CLAIM_SCOPES = {
    "sub": "openid",
    "given_name": "profile",
    "family_name": "profile",
    "birthdate": "profile",
    "email": "email",
    "email_verified": "email",
    "member_number": "member",
}


def issuer(organisation: Organisation) -> str:
    return f"{settings.BASE_URL}/o/{organisation.slug}"


def member_claims(account: Account) -> dict[str, Any]:
    """What an application may learn of the member (then filtered by the scopes it was granted)."""
    record = account.member
    email = account.email or (record.email if record else "")
    claims: dict[str, Any] = {
        "email": email,
        # Verified only when it is the account's own address and the member confirmed it.
        "email_verified": bool(account.email and account.email_verified_at),
    }
    if record is not None:
        claims |= {"given_name": record.first_name, "family_name": record.last_name,
                   "member_number": record.member_number}
        if record.birth_date:
            claims["birthdate"] = record.birth_date.isoformat()
    return {name: value for name, value in claims.items() if value not in ("", None)}


def _active(account: Account | None) -> bool:
    """Codes and tokens of an account that is not active (disabled, or pending) are worth nothing."""
    return account is not None and account.state == Account.State.ACTIVE


class OrganisationValidator(OAuth2Validator):
    oidc_claim_scope = CLAIM_SCOPES

    def __init__(self, organisation: Organisation | None = None, member: Account | None = None):
        # Without an organisation (django-oauth-toolkit builds one in a few places), no client is known.
        self.organisation = organisation
        self.member = member   # the member signed in to this organisation, if any (for prompt=none)

    def _load_application(self, client_id: str, request: Request) -> Any:
        application = None
        if self.organisation is not None and client_id:
            application = get_application_model().objects.filter(
                client_id=client_id, guichet_client__organisation=self.organisation).first()
        request.client = application
        return application

    def _get_client_by_audience(self, audience: str | list[str]) -> Any:
        audiences = [audience] if isinstance(audience, str) else list(audience)
        return get_application_model().objects.filter(
            client_id__in=audiences, guichet_client__organisation=self.organisation).first()

    def validate_bearer_token(self, token: str, scopes: list[str], request: Request) -> bool:
        if not super().validate_bearer_token(token, scopes, request):
            return False
        assert request.access_token is not None   # the check above loaded it
        application = request.access_token.application
        if application is None or not _active(request.access_token.user):
            return False
        assert self.organisation is not None
        return application.guichet_client.organisation_id == self.organisation.pk

    def validate_code(self, client_id: str, code: str, client: Any, request: Request, *args: Any,
                      **kwargs: Any) -> bool:
        # Ending the account's sessions deletes its codes (logout.revoke_every_token); this holds whatever
        # path made the account inactive.
        return bool(super().validate_code(client_id, code, client, request, *args, **kwargs)) and \
            _active(request.user)

    def validate_refresh_token(self, refresh_token: str, client: Any, request: Request, *args: Any,
                               **kwargs: Any) -> bool:
        return bool(super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)) and \
            _active(request.user)

    def validate_redirect_uri(self, client_id: str, redirect_uri: str, request: Request, *args: Any,
                              **kwargs: Any) -> bool:
        # Exact string comparison: no port freedom on loopback, no normalisation.
        assert request.client is not None   # oauthlib asks only after validate_client_id found the client
        return redirect_uri in request.client.redirect_uris.split()

    def validate_user(self, *args: Any, **kwargs: Any) -> bool:
        return False   # no password grant: members type their password on Guichet's pages only

    def validate_silent_login(self, request: Request) -> bool:
        return self.member is not None

    def validate_silent_authorization(self, request: Request) -> bool:
        return bool(request.client and request.client.skip_authorization)

    def get_oidc_issuer_endpoint(self, request: Any) -> str:
        assert self.organisation is not None
        return issuer(self.organisation)

    def get_additional_claims(self, request: Request) -> dict[str, Any]:
        assert request.user is not None   # ID tokens are issued for the member who authorised the client
        return member_claims(request.user)
