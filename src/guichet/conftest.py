"""Fixtures shared by every test: the bundled organisations, applied to the real test database."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from guichet.organisations.apply import apply
from guichet.organisations.models import Organisation
from guichet.policy.loader import load_folder

POLICY_DIR = Path(settings.BASE_DIR) / "policies" / "organisations"
PENSION, FARM, HEALTH = "caisse-retraite-exemple", "caisse-agricole-exemple", "mutuelle-sante-exemple"


@pytest.fixture
def organisations(db: None) -> dict[str, Organisation]:
    apply(load_folder(POLICY_DIR))
    return {o.slug: o for o in Organisation.objects.all()}


@pytest.fixture
def pension(organisations: dict[str, Organisation]) -> Organisation:
    return organisations[PENSION]


@pytest.fixture
def farm(organisations: dict[str, Organisation]) -> Organisation:
    return organisations[FARM]


@pytest.fixture
def health(organisations: dict[str, Organisation]) -> Organisation:
    return organisations[HEALTH]
