"""guichet oidc clients add|list|scopes: the applications that sign an organisation's members in."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guichet.oidc.provider.clients import (
    DEFAULT_SCOPES,
    ClientProblem,
    add_client,
    clients_of,
    known_scopes,
    set_scopes,
)
from guichet.oidc.provider.validator import issuer
from guichet.organisations.models import Organisation


class Command(BaseCommand):
    help = ("Register an organisation's OpenID Connect clients (add), list them (list), or change what one may "
            "ask for (scopes --client-id ID --scope S ...).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subject", choices=["clients"])
        parser.add_argument("action", choices=["add", "list", "scopes"])
        parser.add_argument("--organisation", required=True, help="The organisation's slug")
        parser.add_argument("--name", help="The application's name, shown to members")
        parser.add_argument("--redirect-uri", action="append", default=[], help="Exact redirect URI (repeatable)")
        parser.add_argument("--post-logout-redirect-uri", action="append", default=[],
                            help="Exact address to return to after logout (repeatable)")
        parser.add_argument("--client-id", help="The client whose scopes change (scopes)")
        parser.add_argument("--public", action="store_true",
                            help="A client that cannot keep a secret (mobile or single-page app): PKCE only")
        parser.add_argument("--scope", action="append", default=[], choices=known_scopes(),
                            help="A scope the client may ask for (repeatable; openid always). "
                                 f"Default: {' '.join(DEFAULT_SCOPES)}")

    def handle(self, *args: Any, action: str, organisation: str, **options: Any) -> None:
        found = Organisation.objects.filter(slug=organisation).first()
        if found is None:
            raise CommandError(f"unknown organisation {organisation!r}: apply its policy first")
        if action == "list":
            for client in clients_of(found):
                app = client.application
                self.stdout.write(f"{app.client_id}  {app.name}  {app.client_type}  scopes: {client.scopes}  "
                                  f"{app.redirect_uris}")
            return
        if action == "scopes":
            try:
                scopes = set_scopes(found, options["client_id"] or "", options["scope"])
            except ClientProblem as problem:
                raise CommandError(f"{problem}; nothing was changed") from None
            self.stdout.write(f"scopes: {' '.join(scopes)}")
            return
        try:
            new = add_client(found, name=options["name"] or "", redirect_uris=options["redirect_uri"],
                             post_logout_redirect_uris=options["post_logout_redirect_uri"], public=options["public"],
                             scopes=options["scope"])
        except ClientProblem as problem:
            raise CommandError(f"{problem}; nothing was created") from None
        self.stdout.write(f"issuer: {issuer(found)}")
        self.stdout.write(f"discovery: {issuer(found)}/.well-known/openid-configuration")
        self.stdout.write(f"client_id: {new.client_id}")
        self.stdout.write(f"scopes: {' '.join(new.scopes)}")
        if new.client_secret:
            self.stdout.write(f"client_secret: {new.client_secret}")
            self.stdout.write("Keep the secret now: it is stored hashed and cannot be shown again.")
