"""guichet oidc clients add|list|scopes|secret|remove: operators register and manage an organisation's applications.

The command answers in French by default, as every Guichet command, and in English when asked."""

from __future__ import annotations

import re
from dataclasses import replace
from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from django.test import Client as Browser
from django.utils import translation
from oauth2_provider.models import Application

from guichet.audit.models import Event
from guichet.identities.models import Account
from guichet.oidc.conftest import CALLBACK
from guichet.oidc.models import Client
from guichet.oidc.provider.clients import NewClient, add_client
from guichet.oidc.testing import application as direct
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
    (["--organisation", "nowhere", "--name", "A", "--redirect-uri", "https://a.example/cb"],
     "organisation inconnue 'nowhere' : appliquez d'abord sa politique"),
    (["--name", "A"], "au moins une adresse de redirection .*; rien n'a été créé"),
    (["--name", "A", "--redirect-uri", "app.example/cb"], "'app.example/cb' doit être une adresse complète"),
    (["--name", "A", "--redirect-uri", "https://a.example/cb#x"], "ni fragment"),
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
    client = add_client(health, name="Espace", redirect_uris=[CALLBACK])
    with pytest.raises(CommandError, match="aucun client .* dans cette organisation ; rien n'a été modifié"):
        run("clients", "scopes", "--organisation", farm.slug, "--client-id", client.client_id, "--scope", "email")
    with translation.override("en"), pytest.raises(CommandError,
                                                   match="name the scopes with --scope; nothing was changed"):
        run("clients", "scopes", "--organisation", health.slug, "--client-id", client.client_id)
    assert Client.objects.get(application__client_id=client.client_id).scopes == "openid member"
    assert not Event.objects.filter(kind="oidc.client_scopes_changed").exists()


def test_the_command_speaks_english_when_asked(farm: Organisation) -> None:
    with translation.override("en"), pytest.raises(CommandError) as refused:
        run("clients", "add", "--organisation", farm.slug, "--name", "A", "--redirect-uri", "app.example/cb")
    assert str(refused.value) == ("redirect URI 'app.example/cb' must be an absolute address starting with "
                                  "http://, https://; nothing was created")
    with translation.override("en"):
        out = run("clients", "add", "--organisation", farm.slug, "--name", "A", "--redirect-uri", "https://a.example/cb")
    assert "Keep the secret now: it is stored hashed and cannot be shown again." in out
    assert "Conservez le secret maintenant" in run("clients", "add", "--organisation", farm.slug, "--name", "B",
                                                   "--redirect-uri", "https://b.example/cb")


def test_a_new_secret_works_at_once_and_the_old_one_no_longer(farm: Organisation, farm_member: Account) -> None:
    client = add_client(farm, name="Espace adhérent", redirect_uris=[CALLBACK])
    app = direct.App(farm, client, scope="openid member")
    tokens = app.signed_in_tokens(farm_member)
    out = run("clients", "secret", "--organisation", farm.slug, "--client-id", client.client_id)
    values = dict(line.split(": ", 1) for line in out.splitlines() if line.startswith("client_secret: "))
    assert "L'ancien secret ne fonctionne plus." in out
    stored = Application.objects.get(client_id=client.client_id).client_secret
    assert check_password(values["client_secret"], stored) and not check_password(client.client_secret, stored)

    assert app.refresh(tokens["refresh_token"]).status_code == 401          # the old secret: invalid_client
    renewed = direct.App(farm, replace(client, client_secret=values["client_secret"]), scope="openid member")
    assert renewed.refresh(tokens["refresh_token"]).status_code == 200      # the member stays signed in
    event = Event.objects.get(kind="oidc.client_secret_changed")
    assert event.data["client"] == client.client_id and values["client_secret"] not in str(event.data)


def test_a_public_client_or_another_organisations_gets_no_new_secret(farm: Organisation,
                                                                     health: Organisation) -> None:
    public = add_client(farm, name="Mobile", redirect_uris=[CALLBACK], public=True)
    others = add_client(health, name="Espace", redirect_uris=[CALLBACK])
    before = {app.client_id: app.client_secret for app in Application.objects.all()}
    with pytest.raises(CommandError, match="est un client public : il n'a pas de secret ; rien n'a été modifié"):
        run("clients", "secret", "--organisation", farm.slug, "--client-id", public.client_id)
    with pytest.raises(CommandError, match="aucun client"):
        run("clients", "secret", "--organisation", farm.slug, "--client-id", others.client_id)
    assert {app.client_id: app.client_secret for app in Application.objects.all()} == before
    assert not Event.objects.filter(kind="oidc.client_secret_changed").exists()


def test_removing_a_client_ends_its_tokens_and_codes_and_no_other(farm: Organisation, health: Organisation,
                                                                  farm_member: Account) -> None:
    client = add_client(farm, name="Ancien portail", redirect_uris=[CALLBACK])
    app = direct.App(farm, client, scope="openid member")
    tokens = app.signed_in_tokens(farm_member)
    browser = Browser()
    direct.sign_in(browser, farm_member)
    code = app.code(browser)                                                 # issued, not yet redeemed
    other = direct.App(farm, add_client(farm, name="Rendez-vous", redirect_uris=[CALLBACK]), scope="openid")
    others = other.signed_in_tokens(farm_member)
    with pytest.raises(CommandError, match="aucun client"):                  # not through another organisation
        run("clients", "remove", "--organisation", health.slug, "--client-id", client.client_id)

    out = run("clients", "remove", "--organisation", farm.slug, "--client-id", client.client_id)
    assert out == (f"Client {client.client_id} (Ancien portail) supprimé : "
                   "ses codes et ses jetons ne fonctionnent plus.\n")
    assert app.userinfo(tokens["access_token"]).status_code == 401
    assert app.refresh(tokens["refresh_token"]).status_code == 401
    assert app.token(code).status_code == 401
    assert app.authorize(browser).status_code == 400                         # an unknown client: no redirect
    assert other.userinfo(others["access_token"]).status_code == 200
    assert client.client_id not in run("clients", "list", "--organisation", farm.slug)
    event = Event.objects.get(kind="oidc.client_removed")
    assert event.data == {"client": client.client_id, "name": "Ancien portail"} and event.organisation == farm


def test_a_third_party_client_asks_members_to_agree(farm: Organisation, farm_member: Account) -> None:
    out = run("clients", "add", "--organisation", farm.slug, "--name", "Simulateur retraite", "--consent",
              "--redirect-uri", CALLBACK)
    values = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    application = Application.objects.get(client_id=values["client_id"])
    assert not application.skip_authorization
    assert f"{values['client_id']}  Simulateur retraite  confidential  consent  scopes: openid member" in run(
        "clients", "list", "--organisation", farm.slug)
    assert Event.objects.get(kind="oidc.client_created").data["consent"] is True
    app = direct.App(farm, NewClient(values["client_id"], values["client_secret"]), scope="openid member")
    browser = Browser()
    direct.sign_in(browser, farm_member)
    page = app.authorize(browser)
    assert page.status_code == 200 and "Simulateur retraite" in page.content.decode()   # the consent page
    request_id = re.search(r'name="request" value="([^"]*)"', page.content.decode())
    assert request_id is not None
    run("clients", "remove", "--organisation", farm.slug, "--client-id", values["client_id"])   # meanwhile
    answer = browser.post(app.path("authorize"), {"request": request_id[1], "action": "allow"})
    assert answer.status_code == 400 and "Location" not in answer   # refused, not a server error nor a redirect
