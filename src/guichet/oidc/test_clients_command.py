"""guichet oidc clients add|list: operators register an organisation's applications."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from oauth2_provider.models import Application

from guichet.audit.models import Event
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


def test_a_public_client_has_no_secret(farm: Organisation) -> None:
    out = run("clients", "add", "--organisation", farm.slug, "--name", "Mobile", "--public",
              "--redirect-uri", "https://app.example/mobile")
    assert "client_secret" not in out and Application.objects.get().client_type == "public"


@pytest.mark.parametrize(("args", "words"), [
    (["--organisation", "nowhere", "--name", "A", "--redirect-uri", "https://a.example/cb"], "unknown organisation"),
    (["--name", "A"], "at least one redirect URI"),
    (["--name", "A", "--redirect-uri", "app.example/cb"], "absolute address"),
    (["--name", "A", "--redirect-uri", "https://a.example/cb#x"], "no fragment"),
])
def test_bad_clients_are_refused_and_nothing_is_created(farm: Organisation, args: list[str], words: str) -> None:
    if "--organisation" not in args:
        args = ["--organisation", farm.slug, *args]
    with pytest.raises(CommandError, match=words):
        run("clients", "add", *args)
    assert not Application.objects.exists() and not Client.objects.exists()
