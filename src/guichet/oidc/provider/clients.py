"""Registering an organisation's applications (operators only: there is no self-registration)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import (
    AbstractApplication,
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)
from oauth2_provider.settings import oauth2_settings

from guichet.audit.record import record
from guichet.oidc.models import Client
from guichet.organisations.models import Organisation


class ClientProblem(ValueError):
    """The client cannot be registered as asked (the message says why)."""


# What a client may ask for when the operator names no scope: who the member is (`sub`) and their member
# number, the key to the organisation's own records, which is what a member space needs. Name, birth date and
# email address are given only to clients registered for them (docs/oidc.md, "Scopes and claims").
DEFAULT_SCOPES = ("openid", "member")


def known_scopes() -> list[str]:
    return list(oauth2_settings.SCOPES)


def client_scopes(scopes: list[str] | None) -> list[str]:
    """The scopes a client is registered for: the ones named (openid always among them, first), or the default."""
    if not scopes:
        return list(DEFAULT_SCOPES)
    unknown = [scope for scope in scopes if scope not in oauth2_settings.SCOPES]
    if unknown:
        raise ClientProblem(_("unknown scope %(scope)r (known: %(known)s)")
                            % {"scope": unknown[0], "known": ", ".join(known_scopes())})
    return [scope for scope in known_scopes() if scope == "openid" or scope in scopes]


@dataclass(frozen=True)
class NewClient:
    client_id: str
    client_secret: str   # shown once, stored hashed; empty for a public client
    scopes: tuple[str, ...] = DEFAULT_SCOPES


def check_uri(uri: str, what: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme not in oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES or not parts.netloc:
        allowed = ", ".join(f"{s}://" for s in oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES)
        raise ClientProblem(_("%(what)s %(uri)r must be an absolute address starting with %(allowed)s")
                            % {"what": what, "uri": uri, "allowed": allowed})
    if "#" in uri or "@" in parts.netloc:
        raise ClientProblem(_("%(what)s %(uri)r must have no fragment (#) nor user name") % {"what": what, "uri": uri})
    return uri


@transaction.atomic
def add_client(organisation: Organisation, *, name: str, redirect_uris: list[str],
               post_logout_redirect_uris: list[str] | None = None, public: bool = False,
               skip_authorization: bool = True, scopes: list[str] | None = None) -> NewClient:
    """A new application of the organisation, which may ask for `scopes` (DEFAULT_SCOPES when none are
    named). Operators' clients are first-party unless `skip_authorization` is False: then members are asked
    to agree on a consent page."""
    if not name.strip():
        raise ClientProblem(_("the client needs a name"))
    if not redirect_uris:
        raise ClientProblem(_("the client needs at least one redirect URI"))
    uris = [check_uri(u, _("redirect URI")) for u in redirect_uris]
    logout_uris = [check_uri(u, _("post-logout redirect URI")) for u in post_logout_redirect_uris or []]
    allowed = client_scopes(scopes)
    secret = "" if public else generate_client_secret()
    application = get_application_model().objects.create(
        name=name.strip(), redirect_uris=" ".join(uris), post_logout_redirect_uris=" ".join(logout_uris),
        client_type=AbstractApplication.CLIENT_PUBLIC if public else AbstractApplication.CLIENT_CONFIDENTIAL,
        authorization_grant_type=AbstractApplication.GRANT_AUTHORIZATION_CODE, client_secret=secret,
        skip_authorization=skip_authorization, algorithm=AbstractApplication.RS256_ALGORITHM,
    )
    Client.objects.create(application=application, organisation=organisation, scopes=" ".join(allowed))
    record("oidc.client_created", organisation=organisation, actor="operator", client=application.client_id,
           name=application.name, public=public, scopes=allowed, consent=not skip_authorization)
    return NewClient(application.client_id, secret, tuple(allowed))


@transaction.atomic
def set_scopes(organisation: Organisation, client_id: str, scopes: list[str]) -> tuple[str, ...]:
    """The scopes an existing client may ask for from now on. When one is taken away, every token and code
    the client holds ends (members sign in to it again): a token must not keep a claim its client lost."""
    client = _locked(organisation, client_id)
    if not scopes:
        raise ClientProblem(_("name the scopes with --scope"))
    allowed = client_scopes(scopes)
    before = client.scopes.split()
    client.scopes = " ".join(allowed)
    client.save(update_fields=["scopes"])
    taken_away = [scope for scope in before if scope not in allowed]
    if taken_away:
        application = client.application
        get_grant_model().objects.filter(application=application).delete()
        get_refresh_token_model().objects.filter(application=application, revoked__isnull=True) \
            .update(revoked=timezone.now())
        get_access_token_model().objects.filter(application=application).delete()
        get_id_token_model().objects.filter(application=application).delete()
    record("oidc.client_scopes_changed", organisation=organisation, actor="operator", client=client_id,
           before=before, after=allowed, tokens_ended=bool(taken_away))
    return tuple(allowed)


@transaction.atomic
def new_secret(organisation: Organisation, client_id: str) -> str:
    """A new secret for a confidential client, shown once and stored hashed; the old one stops working at once
    (the application cannot redeem codes nor refresh tokens with it). Members stay signed in to the
    application: what it holds was given to it, not to whoever took the old secret, who cannot use it without
    the secret."""
    client = _locked(organisation, client_id)
    application = client.application
    if application.client_type == AbstractApplication.CLIENT_PUBLIC:
        raise ClientProblem(_("%(client)r is a public client: it has no secret") % {"client": client_id})
    secret = generate_client_secret()
    application.client_secret = secret   # hashed on save (django-oauth-toolkit's ClientSecretField)
    application.save(update_fields=["client_secret", "updated"])
    record("oidc.client_secret_changed", organisation=organisation, actor="operator", client=client_id)
    return secret


@transaction.atomic
def remove_client(organisation: Organisation, client_id: str) -> str:
    """The application can no longer sign anybody in: it is deleted with every code and token it holds, which
    stop working at once. Returns its name."""
    client = _locked(organisation, client_id)
    application = client.application
    name = application.name
    application.delete()   # its Client, grants, access, refresh and ID tokens go with it (CASCADE)
    record("oidc.client_removed", organisation=organisation, actor="operator", client=client_id, name=name)
    return name


def _locked(organisation: Organisation, client_id: str) -> Client:
    """The organisation's client, locked for this transaction; another organisation's is not found."""
    client = Client.objects.select_for_update().select_related("application").filter(
        organisation=organisation, application__client_id=client_id).first()
    if client is None:
        raise ClientProblem(_("no client %(client)r in this organisation") % {"client": client_id})
    return client


def clients_of(organisation: Organisation) -> list[Client]:
    return list(Client.objects.filter(organisation=organisation).select_related("application"))
