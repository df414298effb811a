"""guichet oidc clients add|list|scopes|secret|remove: the applications that sign an organisation's members in.

What it says is translated (French by default, as every Guichet command); the `key: value` lines it prints
for the operator to copy (issuer, client_id, client_secret...) keep their keys, so scripts can read them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from guichet.oidc.provider.clients import (
    DEFAULT_SCOPES,
    ClientProblem,
    add_client,
    clients_of,
    known_scopes,
    new_secret,
    remove_client,
    set_scopes,
)
from guichet.oidc.provider.validator import issuer
from guichet.organisations.models import Organisation


class Command(BaseCommand):
    help = ("Register an organisation's OpenID Connect clients (add), list them (list), change what one may "
            "ask for (scopes --client-id ID --scope S ...), give one a new secret (secret --client-id ID) or "
            "remove one with its tokens (remove --client-id ID).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subject", choices=["clients"])
        parser.add_argument("action", choices=["add", "list", "scopes", "secret", "remove"])
        parser.add_argument("--organisation", required=True, help="The organisation's slug")
        parser.add_argument("--name", help="The application's name, shown to members")
        parser.add_argument("--redirect-uri", action="append", default=[], help="Exact redirect URI (repeatable)")
        parser.add_argument("--post-logout-redirect-uri", action="append", default=[],
                            help="Exact address to return to after logout (repeatable)")
        parser.add_argument("--client-id", help="The client to change (scopes, secret, remove)")
        parser.add_argument("--public", action="store_true",
                            help="A client that cannot keep a secret (mobile or single-page app): PKCE only")
        parser.add_argument("--consent", action="store_true",
                            help="A third-party application: members are asked to agree before it gets their "
                                 "identity (the organisation's own applications do not ask)")
        parser.add_argument("--scope", action="append", default=[], choices=known_scopes(),
                            help="A scope the client may ask for (repeatable; openid always). "
                                 f"Default: {' '.join(DEFAULT_SCOPES)}")

    def handle(self, *args: Any, action: str, organisation: str, **options: Any) -> None:
        found = Organisation.objects.filter(slug=organisation).first()
        if found is None:
            raise CommandError(_("unknown organisation %(slug)r: apply its policy first") % {"slug": organisation})
        try:
            getattr(self, f"_{action}")(found, options)
        except ClientProblem as problem:
            nothing = _("nothing was created") if action == "add" else _("nothing was changed")
            raise CommandError(_("%(problem)s; %(nothing)s") % {"problem": problem, "nothing": nothing}) from None

    def _list(self, organisation: Organisation, options: dict[str, Any]) -> None:
        for client in clients_of(organisation):
            app = client.application
            asks = "  consent" if not app.skip_authorization else ""
            self.stdout.write(f"{app.client_id}  {app.name}  {app.client_type}{asks}  scopes: {client.scopes}  "
                              f"{app.redirect_uris}")

    def _scopes(self, organisation: Organisation, options: dict[str, Any]) -> None:
        scopes = set_scopes(organisation, options["client_id"] or "", options["scope"])
        self.stdout.write(f"scopes: {' '.join(scopes)}")

    def _secret(self, organisation: Organisation, options: dict[str, Any]) -> None:
        secret = new_secret(organisation, options["client_id"] or "")
        self.stdout.write(f"client_secret: {secret}")
        self.stdout.write(_("Keep the secret now: it is stored hashed and cannot be shown again. "
                            "The previous secret no longer works."))

    def _remove(self, organisation: Organisation, options: dict[str, Any]) -> None:
        name = remove_client(organisation, options["client_id"] or "")
        self.stdout.write(_("Client %(client)s (%(name)s) removed: its codes and tokens no longer work.")
                          % {"client": options["client_id"], "name": name})

    def _add(self, organisation: Organisation, options: dict[str, Any]) -> None:
        new = add_client(organisation, name=options["name"] or "", redirect_uris=options["redirect_uri"],
                         post_logout_redirect_uris=options["post_logout_redirect_uri"], public=options["public"],
                         skip_authorization=not options["consent"], scopes=options["scope"])
        self.stdout.write(f"issuer: {issuer(organisation)}")
        self.stdout.write(f"discovery: {issuer(organisation)}/.well-known/openid-configuration")
        self.stdout.write(f"client_id: {new.client_id}")
        self.stdout.write(f"scopes: {' '.join(new.scopes)}")
        if new.client_secret:
            self.stdout.write(f"client_secret: {new.client_secret}")
            self.stdout.write(_("Keep the secret now: it is stored hashed and cannot be shown again."))
