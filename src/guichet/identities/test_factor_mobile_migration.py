"""Migration 0006: SMS factors enrolled before it sent their codes to the account's mobile, and still do."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE, AFTER = [("identities", "0005_account_language")], [("identities", "0006_factor_mobile")]


@pytest.mark.django_db(transaction=True)
def test_an_sms_factor_keeps_the_number_its_codes_went_to(organisations) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Account, Factor = apps.get_model("identities", "Account"), apps.get_model("identities", "Factor")  # noqa: N806
    organisation_id = next(iter(organisations.values())).pk
    now = timezone.now()
    texted = Account.objects.create(organisation_id=organisation_id, identifier="1", mobile="+33612345678")
    emailed = Account.objects.create(organisation_id=organisation_id, identifier="2", mobile="+33698765432")
    Factor.objects.create(account=texted, kind="sms", created_at=now)
    Factor.objects.create(account=emailed, kind="email", created_at=now)

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    Factor = executor.loader.project_state(AFTER).apps.get_model("identities", "Factor")  # noqa: N806
    assert dict(Factor.objects.values_list("kind", "mobile")) == {"sms": "+33612345678", "email": ""}
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
