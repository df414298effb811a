"""Idle and absolute session timeouts, over the real middleware and session store."""

from __future__ import annotations

import json
import logging
import time

import pytest
from django.test import Client

from guichet.conftest import PASSWORD
from guichet.web.journey_driver import JsonDriver

pytestmark = pytest.mark.django_db


def signed_in_client(organisation, make_account) -> Client:
    account = make_account(organisation, factors=())
    client = Client()
    driver = JsonDriver(client, organisation.slug)
    run = driver.open("login")
    assert run.step == "credentials"
    assert driver.submit({"identifier": account.identifier, "password": PASSWORD}, "sign_in").outcome == "signed_in"
    return client


def age_session(client: Client, **seconds_ago: float) -> None:
    session = client.session
    for key, ago in seconds_ago.items():
        session[key] = time.time() - ago
    session.save()


@pytest.mark.parametrize(("key", "minutes"), [("seen_at", 16), ("signed_in_at", 8 * 60 + 1)])
def test_a_session_ends_after_idle_or_maximum_time(farm, make_account, key: str, minutes: int) -> None:
    client = signed_in_client(farm, make_account)
    assert client.get(f"/api/o/{farm.slug}/session").status_code == 200
    age_session(client, **{key: minutes * 60})
    assert client.get(f"/api/o/{farm.slug}/session").status_code == 401
    home = client.get(f"/o/{farm.slug}/")
    assert b'data-code="login.session_expired"' in home.content


def test_activity_keeps_the_session_alive(farm, make_account) -> None:
    client = signed_in_client(farm, make_account)
    age_session(client, seen_at=14 * 60)            # 14 minutes idle: still within 15
    assert client.get(f"/api/o/{farm.slug}/session").status_code == 200
    assert client.session["seen_at"] > time.time() - 5   # and that request restarted the idle clock


def test_json_logs_are_one_object_a_line() -> None:
    from guichet.core.logs import JsonFormatter

    record = logging.LogRecord("guichet.test", logging.WARNING, __file__, 1, "member %s locked", ("x",), None)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "warning" and entry["message"] == "member x locked" and entry["logger"] == "guichet.test"
