"""The audit trail: append-only (in Python, and in PostgreSQL itself), never holding a secret, and
exported as JSON lines (the command answers in French by default, as every Guichet command, in English when asked)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone, translation

from guichet.audit import export
from guichet.audit.models import AppendOnly, Event
from guichet.audit.record import record

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("key", ["password", "Password", "code", "token", "secret", "answer", "otp", "OTP"])
def test_secrets_are_refused_not_filtered(key: str) -> None:
    with pytest.raises(ValueError, match="must not hold secrets"):
        record("anything", actor="system", **{key: "hunter2"})
    assert not Event.objects.exists()


def test_an_event_is_never_changed_nor_deleted() -> None:
    event = record("login.failed", actor="member", reason="credentials")
    event.kind = "login.succeeded"
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()
    assert Event.objects.get().kind == "login.failed"


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="the append-only trigger exists on PostgreSQL only (SQLite has no such trigger); "
                           "run with DATABASE_URL=postgres://... to check it")
def test_postgresql_itself_refuses_update_and_delete() -> None:
    record("login.failed", actor="member")
    for statement in (lambda: Event.objects.update(kind="changed"), lambda: Event.objects.all().delete()):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            statement()
    assert Event.objects.get().kind == "login.failed"


def _export(*args: str) -> list[dict]:
    out, err = StringIO(), StringIO()
    call_command("audit", "export", *args, stdout=out, stderr=err)
    lines = out.getvalue().splitlines()
    said = "événement exporté" if len(lines) < 2 else "événements exportés"
    assert err.getvalue().strip() == f"{len(lines)} {said}"
    return [json.loads(line) for line in lines]


def test_export_writes_one_json_object_a_line_oldest_first(pension, farm) -> None:
    account_id = uuid.uuid4()
    Event.objects.create(at=timezone.now() - timedelta(days=10), kind="login.failed", organisation=pension,
                         account_id=account_id, actor="member", ip="192.0.2.1", data={"reason": "credentials"})
    record("backoffice.unlock", organisation=farm, actor="agent:3", reason="Appel du membre")
    record("agent.login.succeeded", actor="agent:3")
    events = _export()
    assert [e["kind"] for e in events] == ["login.failed", "backoffice.unlock", "agent.login.succeeded"]
    assert events[0] == {"at": events[0]["at"], "kind": "login.failed", "organisation": pension.slug,
                         "account_id": str(account_id), "actor": "member", "ip": "192.0.2.1",
                         "data": {"reason": "credentials"}}
    assert events[2]["organisation"] is None
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert [e["kind"] for e in _export("--since", since)] == ["backoffice.unlock", "agent.login.succeeded"]
    assert [e["kind"] for e in _export("--organisation", farm.slug)] == ["backoffice.unlock"]
    assert [e["kind"] for e in _export("--organisation", pension.slug, "--since", since)] == []


def test_export_refuses_bad_options(organisations) -> None:
    with pytest.raises(CommandError) as refused:
        _export("--since", "yesterday")
    assert str(refused.value) == ("--since : 'yesterday' n'est ni une date (2025-01-31) ni une date et une heure "
                                  "(2025-01-31T08:00:00+01:00)")
    for impossible in ("2025-02-30", "2025-01-31T25:00"):   # well formed, yet no such day or hour
        with pytest.raises(CommandError, match="n'est ni une date"):
            _export("--since", impossible)
    with pytest.raises(CommandError) as refused:
        _export("--organisation", "nowhere")
    assert str(refused.value) == "--organisation : aucune organisation 'nowhere'"


def test_export_speaks_english_when_asked(pension) -> None:
    record("login.failed", organisation=pension, actor="member")
    record("login.failed", organisation=pension, actor="member")
    with translation.override("en"):
        for args, count in ((), "2 events exported"), (("--since", "2999-01-01"), "0 events exported"):
            err = StringIO()
            call_command("audit", "export", *args, stdout=StringIO(), stderr=err)
            assert err.getvalue().strip() == count
        with pytest.raises(CommandError, match="^--since: 'soon' is not a date"):
            call_command("audit", "export", "--since", "soon", stdout=StringIO(), stderr=StringIO())
    err = StringIO()
    call_command("audit", "export", "--since", "2999-01-01", stdout=StringIO(), stderr=err)
    assert err.getvalue().strip() == "0 événement exporté"   # French: 0 is singular


def test_export_streams_large_trails(pension) -> None:
    Event.objects.bulk_create(Event(kind="login.failed", organisation=pension, actor="member")
                              for _ in range(export.CHUNK + 5))
    out = StringIO()
    assert export.write(out, organisation_slug=pension.slug) == export.CHUNK + 5
    assert out.getvalue().count("\n") == export.CHUNK + 5
