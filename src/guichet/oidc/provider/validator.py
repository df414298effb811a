"""django-oauth-toolkit's request validator, bound to one organisation.

django-oauth-toolkit serves one issuer. Here every view builds its oauthlib server with a validator
that knows the organisation named in the URL: clients, tokens and ID tokens of other organisations
are unknown to it, and the issuer is BASE_URL/o/<slug>.

Each code records the sign-in of the session that authorised it (oidc.models.Authentication): the
refresh tokens it leads to end SESSION_MAX_SECONDS after that sign-in, however often they rotate.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.utils import timezone
from jwcrypto import jwt
from jwcrypto.common import JWException
from oauth2_provider.models import get_application_model, get_grant_model, get_refresh_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.utils import jwk_from_pem
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors

from guichet.audit.record import record as audit
from guichet.identities.models import Account
from guichet.oidc.models import Authentication
from guichet.organisations.models import Organisation
from guichet.web.outcomes import SessionSignIn

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


# Authentication Method Reference values (RFC 8176) of the ways Guichet signs members in (the session's
# method, web.outcomes.sign_in). See docs/oidc.md and docs/decisions.md ("OpenID Connect provider").
_ONE_TIME_CODE = ("pwd", "otp", "mfa")
AMR = {
    "password": ("pwd",),
    "password+code": _ONE_TIME_CODE,    # a code sent by text message or email at sign-in
    "password+sms": _ONE_TIME_CODE,     # the first code of a second factor just enrolled
    "password+email": _ONE_TIME_CODE,
    "password+totp": _ONE_TIME_CODE,
    # No attestation is asked of passkeys: a synced passkey's key is not known to be in hardware.
    "password+passkey": ("pwd", "swk", "mfa"),
}


def amr(method: str) -> list[str] | None:
    """What to say of a sign-in `method`: None (no claim) for a sign-in through an upstream provider
    (federation:<name>), whose own methods Guichet does not know, and for any method it has no value for."""
    methods = AMR.get(method)
    return None if methods is None else list(methods)


def issuer(organisation: Organisation) -> str:
    return f"{settings.BASE_URL}/o/{organisation.slug}"


def member_claims(account: Account) -> dict[str, Any]:
    """What an application may learn of the member (then filtered by the scopes it was granted)."""
    record = account.member
    # The registry's address stands in for an account without one, unless the registry no longer holds the
    # record (registry.retirement): then it may no longer be the member's.
    email = account.email or (record.email if record is not None and record.in_registry else "")
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


_AUTHENTICATION = "guichet_authentication"


def _session_max() -> timedelta:
    return timedelta(seconds=settings.SESSION_MAX_SECONDS)


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def hint_claims(token: str) -> dict[str, Any] | None:
    """The claims of an ID token Guichet signed (an id_token_hint), or None. Expired ID tokens are accepted
    as hints (the spec allows it): only the signature is checked here; the caller checks `iss`."""
    for pem in [oauth2_settings.OIDC_RSA_PRIVATE_KEY, *oauth2_settings.OIDC_RSA_PRIVATE_KEYS_INACTIVE]:
        try:
            return dict(json.loads(jwt.JWT(key=jwk_from_pem(pem), jwt=token, check_claims={}).claims))
        except (JWException, ValueError):
            continue
    return None


def max_age(value: str | None) -> int | None:
    """The max_age of an authorization request (OpenID Connect Core 3.1.2.1): seconds, or None when absent.
    ValueError when it is not a number of seconds."""
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise ValueError(value)
    return int(value)


def signed_in_too_long_ago(sign_in: SessionSignIn, requested_max_age: str | None) -> bool:
    """Whether the session signed in longer ago than the application allows (an invalid max_age: yes)."""
    try:
        seconds = max_age(requested_max_age)
    except ValueError:
        return True
    return seconds is not None and (timezone.now() - sign_in.at).total_seconds() > seconds


def _remember(request: Request, authentication: Authentication) -> None:
    """Keeps the sign-in a code or refresh token came from on the request, for the tokens issued next."""
    setattr(request, _AUTHENTICATION, authentication)


def _remembered(request: Request) -> Authentication:
    authentication = request.__dict__.get(_AUTHENTICATION)
    assert isinstance(authentication, Authentication)   # validate_code or validate_refresh_token found it
    return authentication


def _active(account: Account | None) -> bool:
    """Codes and tokens of an account that is not active (disabled, or pending) are worth nothing."""
    return account is not None and account.state == Account.State.ACTIVE


class OrganisationValidator(OAuth2Validator):
    oidc_claim_scope = CLAIM_SCOPES

    def __init__(self, organisation: Organisation | None = None, member: Account | None = None,
                 sign_in: SessionSignIn | None = None):
        # Without an organisation (django-oauth-toolkit builds one in a few places), no client is known.
        self.organisation = organisation
        self.member = member   # the member signed in to this organisation, if any (for prompt=none)
        self.sign_in = sign_in   # when and how that member's session signed in

    def _load_application(self, client_id: str, request: Request) -> Any:
        application = None
        if self.organisation is not None and client_id:
            application = get_application_model().objects.select_related("guichet_client").filter(
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

    def save_authorization_code(self, client_id: str, code: dict[str, str], request: Request, *args: Any,
                                **kwargs: Any) -> None:
        if self.sign_in is None:   # the authorization view issues codes to signed-in sessions only
            raise errors.LoginRequired(request=request)
        super().save_authorization_code(client_id, code, request, *args, **kwargs)
        now = timezone.now()
        # Nothing refers to a sign-in older than a session may last: its code and refresh tokens are dead.
        Authentication.objects.filter(authenticated_at__lt=now - _session_max()).delete()
        assert request.user is not None   # the member signed in (DOT's credentials)
        Authentication.objects.create(account=request.user, authenticated_at=self.sign_in.at,
                                      method=self.sign_in.method, code_digest=_digest(code["code"]))

    def validate_code(self, client_id: str, code: str, client: Any, request: Request, *args: Any,
                      **kwargs: Any) -> bool:
        # Single use under concurrency: the token view redeems a code in one transaction; this row lock makes
        # another redemption of the same code wait until this one has committed (and deleted the Grant), so
        # it then fails below as a replay. (SQLite: the transaction itself holds the database's write lock.)
        get_grant_model().objects.select_for_update().filter(code=code, application=client).first()
        # Ending the account's sessions deletes its codes (logout.revoke_every_token); this holds whatever
        # path made the account inactive.
        if not super().validate_code(client_id, code, client, request, *args, **kwargs):
            self._revoke_if_replayed(code, client_id)
            return False
        if not _active(request.user):
            return False
        authentication = Authentication.objects.filter(code_digest=_digest(code)).first()
        if authentication is None:   # a code issued before sign-ins were recorded
            return False
        _remember(request, authentication)
        return True

    def _revoke_if_replayed(self, code: str, client_id: str) -> None:
        """RFC 6749 4.1.2: a code used twice was stolen (or the application is broken); the tokens issued
        for it are revoked: every refresh token of its family, and their access tokens."""
        redeemed = Authentication.objects.filter(code_digest=_digest(code), token_family__isnull=False).first()
        if redeemed is None:
            return
        get_refresh_token_model().revoke_family(redeemed.token_family)
        if self.organisation is not None:
            audit("oidc.code_replayed", organisation=self.organisation, account_id=redeemed.account_id,
                  actor="system", client=client_id)

    def _create_refresh_token(self, request: Request, refresh_token_code: str, access_token: Any,
                              previous_refresh_token: Any) -> Any:
        refresh_token = super()._create_refresh_token(request, refresh_token_code, access_token,
                                                      previous_refresh_token)
        if previous_refresh_token is None:
            # The first of a family (a code redeemed): the family carries the code's sign-in from now on.
            Authentication.objects.filter(pk=_remembered(request).pk).update(
                token_family=refresh_token.token_family)
        return refresh_token

    def validate_refresh_token(self, refresh_token: str, client: Any, request: Request, *args: Any,
                               **kwargs: Any) -> bool:
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs) or \
                not _active(request.user):
            return False
        # Rotation gives each refresh a new token dated from its own access token: without this, an
        # application refreshing every few hours would keep the member's access for ever.
        family = cast(Any, request).refresh_token_instance.token_family
        authentication = Authentication.objects.filter(token_family=family).first() if family else None
        if authentication is None or authentication.authenticated_at + _session_max() <= timezone.now():
            return False
        _remember(request, authentication)
        return True

    def validate_scopes(self, client_id: str, scopes: list[str], client: Any, request: Request, *args: Any,
                        **kwargs: Any) -> bool:
        """Only the scopes the client was registered for (oidc.Client.scopes). Asking for another is refused
        (invalid_scope, back to the application) rather than silently narrowed: see docs/decisions.md."""
        if not super().validate_scopes(client_id, scopes, client, request, *args, **kwargs):
            return False
        refused = [scope for scope in scopes if scope not in client.guichet_client.allowed_scopes]
        if refused:
            raise errors.InvalidScopeError(
                description=f"This client may not ask for: {' '.join(refused)}.", request=request)
        return True

    def validate_redirect_uri(self, client_id: str, redirect_uri: str, request: Request, *args: Any,
                              **kwargs: Any) -> bool:
        # Exact string comparison: no port freedom on loopback, no normalisation.
        assert request.client is not None   # oauthlib asks only after validate_client_id found the client
        return redirect_uri in request.client.redirect_uris.split()

    def validate_user(self, *args: Any, **kwargs: Any) -> bool:
        return False   # no password grant: members type their password on Guichet's pages only

    def validate_silent_login(self, request: Request) -> bool:
        # prompt=none: no sign-in page may be shown, so a session too old for max_age is login_required.
        return self.member is not None and self.sign_in is not None and \
            not signed_in_too_long_ago(self.sign_in, request.max_age)

    def validate_user_match(self, id_token_hint: str | None, scopes: Any, claims: Any, request: Request) -> bool:
        """OpenID Connect Core 3.1.2.1: an id_token_hint naming another member than the one signed in is
        answered with login_required (as is a hint Guichet did not sign for this issuer). Nobody signed in
        yet: the hint is checked again when the member comes back from the sign-in page."""
        if not id_token_hint:
            return True
        hinted = hint_claims(id_token_hint)
        assert self.organisation is not None
        if hinted is None or hinted.get("iss") != issuer(self.organisation):
            return False
        return self.member is None or hinted.get("sub") == str(self.member.pk)

    def validate_silent_authorization(self, request: Request) -> bool:
        return bool(request.client and request.client.skip_authorization)

    def get_oidc_issuer_endpoint(self, request: Any) -> str:
        assert self.organisation is not None
        return issuer(self.organisation)

    def get_id_token_dictionary(self, token: dict[str, Any], token_handler: Any,
                                request: Request) -> tuple[dict[str, Any], Any]:
        claims, expiration_time = super().get_id_token_dictionary(token, token_handler, request)
        # When the session that authorised the code signed in (django-oauth-toolkit says Account.last_login:
        # the account's latest sign-in anywhere). A refreshed ID token tells the same original sign-in.
        authentication = _remembered(request)
        claims["auth_time"] = int(authentication.authenticated_at.timestamp())
        methods = amr(authentication.method)
        if methods is not None:
            claims["amr"] = methods
        return claims, expiration_time

    def get_additional_claims(self, request: Request) -> dict[str, Any]:
        assert request.user is not None   # ID tokens are issued for the member who authorised the client
        return member_claims(request.user)
