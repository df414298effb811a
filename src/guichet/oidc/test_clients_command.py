"""guichet oidc clients add|list: operators register an organisation's applications."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from oauth2_provider.models import Application

from guichet.audit.models import Event
from guichet.identities.models import Account
from guichet.oidc.models import Client
from guichet.organisations.models import Organisation


def run(*args: str) -> str:
    out = StringIO()
    call_command("oidc", *args, stdout=out)
    return out.getvalue()


def test_add_prints_the_credentials_once_and_stores_the_secret_hashed(farm: Organisation) -> None:
    out = run("clients", "add", "--organisation", farm.slug, "--name", "Espace adhérent",
              "--redirect-uri", "https://app.example/callback", "--post-logout-redirect-uri", "https://app.example/")
    values = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    application = Application.objects.get(client_id=values["client_id"])
    assert values["issuer"].endswith(f"/o/{farm.slug}")
    assert application.client_secret != values["client_secret"]
    assert check_password(values["client_secret"], application.client_secret)
    assert application.skip_authorization and application.algorithm == "RS256"
    assert Client.objects.get(application=application).organisation == farm
    assert Event.objects.filter(kind="oidc.client_created", organisation=farm).exists()
    assert values["client_id"] in run("clients", "list", "--organisation", farm.slug)
    # No --scope: who the member is and their member number, nothing more.
    assert values["scopes"] == "openid member" == Client.objects.get(application=application).scopes


def test_scopes_are_named_with_scope_and_listed(farm: Organisation) -> None:
    out = run("clients", "add", "--organisation", farm.slug, "--name", "Rendez-vous", "--scope", "email",
              "--scope", "profile", "--redirect-uri", "https://rdv.example/callback")
    values = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    assert values["scopes"] == "openid profile email"              # openid always, in the usual order
    assert Client.objects.get().scopes == "openid profile email"
    listed = run("clients", "list", "--organisation", farm.slug)
    assert values["client_id"] in listed and "scopes: openid profile email" in listed
    assert Event.objects.get(kind="oidc.client_created").data["scopes"] == ["openid", "profile", "email"]


def test_a_public_client_has_no_secret(farm: Organisation) -> None:
    out = run("clients", "add", "--organisation", farm.slug, "--name", "Mobile", "--public",
              "--redirect-uri", "https://app.example/mobile")
    assert "client_secret" not in out and Application.objects.get().client_type == "public"


@pytest.mark.parametrize(("args", "words"), [
    (["--organisation", "nowhere", "--name", "A", "--redirect-uri", "https://a.example/cb"], "unknown organisation"),
    (["--name", "A"], "at least one redirect URI"),
    (["--name", "A", "--redirect-uri", "app.example/cb"], "absolute address"),
    (["--name", "A", "--redirect-uri", "https://a.example/cb#x"], "no fragment"),
    (["--name", "A", "--redirect-uri", "https://a.example/cb", "--scope", "address"], "invalid choice"),
])
def test_bad_clients_are_refused_and_nothing_is_created(farm: Organisation, args: list[str], words: str) -> None:
    if "--organisation" not in args:
        args = ["--organisation", farm.slug, *args]
    with pytest.raises(CommandError, match=words):
        run("clients", "add", *args)
    assert not Application.objects.exists() and not Client.objects.exists()


def test_an_operator_changes_a_clients_scopes_and_taking_one_away_ends_its_tokens(
        farm: Organisation, farm_member: Account) -> None:
    from django.test import Client as Browser

    from guichet.oidc.conftest import CALLBACK
    from guichet.oidc.provider.clients import add_client
    from guichet.oidc.testing import application as direct

    client = add_client(farm, name="Espace adhérent", redirect_uris=[CALLBACK], scopes=["member"])
    assert run("clients", "scopes", "--organisation", farm.slug, "--client-id", client.client_id,
               "--scope", "member", "--scope", "email") == "scopes: openid email member\n"
    app = direct.App(farm, client, scope="openid email member")
    tokens = app.signed_in_tokens(farm_member)   # the email now granted
    assert app.userinfo(tokens["access_token"]).json()["email"] == farm_member.email
    other = direct.App(farm, add_client(farm, name="Rendez-vous", redirect_uris=[CALLBACK]), scope="openid")
    others = other.signed_in_tokens(farm_member)

    run("clients", "scopes", "--organisation", farm.slug, "--client-id", client.client_id, "--scope", "member")
    assert app.userinfo(tokens["access_token"]).status_code == 401      # the email went with the scope
    assert app.refresh(tokens["refresh_token"]).status_code == 400
    browser = Browser()
    direct.sign_in(browser, farm_member)
    assert direct.error_in(app.authorize(browser)) == "invalid_scope"   # asking for it again is refused
    assert other.userinfo(others["access_token"]).status_code == 200    # another client keeps its own
    event = Event.objects.get(kind="oidc.client_scopes_changed", data__after=["openid", "member"])
    assert event.data["before"] == ["openid", "email", "member"] and event.data["tokens_ended"] is True


def test_scopes_of_an_unknown_client_or_none_named_change_nothing(farm: Organisation, health: Organisation) -> None:
    from guichet.oidc.conftest import CALLBACK
    from guichet.oidc.provider.clients import add_client

    client = add_client(health, name="Espace", redirect_uris=[CALLBACK])
    with pytest.raises(CommandError, match="no client .* in this organisation; nothing was changed"):
        run("clients", "scopes", "--organisation", farm.slug, "--client-id", client.client_id, "--scope", "email")
    with pytest.raises(CommandError, match="name the scopes with --scope; nothing was changed"):
        run("clients", "scopes", "--organisation", health.slug, "--client-id", client.client_id)
    assert Client.objects.get(application__client_id=client.client_id).scopes == "openid member"
    assert not Event.objects.filter(kind="oidc.client_scopes_changed").exists()
