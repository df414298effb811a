"""An organisation's own host names (`hosts` in its policy) lead to its space, on the real database."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.test import Client
from django.test.utils import override_settings

from guichet.conftest import FARM, POLICY_DIR
from guichet.organisations.apply import apply
from guichet.policy.loader import load_folder


@override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "espace.caisse-agricole.example", "other.example"])
def test_the_root_of_an_organisations_own_host_is_its_home(db: None, client: Client) -> None:
    policies = [p.model_copy(update={"hosts": ["espace.caisse-agricole.example"]}) if p.slug == FARM else p
                for p in load_folder(Path(POLICY_DIR))]
    apply(policies)

    own = client.get("/", HTTP_HOST="espace.caisse-agricole.example:443")
    assert own.status_code == 302 and own["Location"] == f"/o/{FARM}/"

    listing = client.get("/", HTTP_HOST="other.example")   # any other host: the list of organisations
    assert listing.status_code == 200 and f"/o/{FARM}/" in listing.content.decode()
