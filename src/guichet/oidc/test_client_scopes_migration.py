"""Migration 0003: clients registered before scopes were per client keep every scope: nothing stops working."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from oauth2_provider.models import Application

BEFORE, AFTER = [("oidc", "0002_authentication")], [("oidc", "0003_client_scopes")]


@pytest.mark.django_db(transaction=True)
def test_an_existing_client_keeps_every_scope(organisations) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    Client = executor.loader.project_state(BEFORE).apps.get_model("oidc", "Client")  # noqa: N806
    # django-oauth-toolkit's table is not migrated back: its current model fits it.
    application = Application.objects.create(name="Espace adhérent", client_id="before-scopes",
                                             redirect_uris="https://app.example/cb", client_type="confidential",
                                             authorization_grant_type="authorization-code", algorithm="RS256")
    Client.objects.create(application_id=application.pk, organisation_id=next(iter(organisations.values())).pk)

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    Client = executor.loader.project_state(AFTER).apps.get_model("oidc", "Client")  # noqa: N806
    assert Client.objects.get().scopes == "openid profile email member"
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
