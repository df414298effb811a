"""A page sends requests together: the password checklist's fetch leaves while the form posts.

Each must get its own answer, whatever the database. On SQLite the live server's threads once
shared Django's in-memory test connection, and such a pair interleaved two transactions on it
("cannot open savepoint - SQL statements in progress", then a 400 or a 500); the test database is
now a file, with a connection per thread, as in production."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from guichet.conftest import HEALTH

ROUNDS = 12
THREADS = 6


def _one_member(base: str) -> list[int]:
    """What one member's page does, ROUNDS times: open sign-in (a session is written), check a password."""
    session = requests.Session()
    token = session.get(f"{base}/api/csrf", timeout=30).json()["csrf_token"]
    headers = {"X-CSRFToken": token, "Origin": base, "Referer": f"{base}/"}
    statuses = []
    for _ in range(ROUNDS):
        statuses.append(session.get(f"{base}/o/{HEALTH}/connexion/", timeout=30).status_code)
        statuses.append(session.post(f"{base}/api/o/{HEALTH}/password-check", json={"password": "Green-Valley-77"},
                                     headers=headers, timeout=30).status_code)
    return statuses


@pytest.mark.django_db(transaction=True)
def test_requests_that_arrive_together_each_get_their_answer(live_url: str, organisations: dict[str, Any]) -> None:
    with ThreadPoolExecutor(THREADS) as pool:
        statuses = [status for member in pool.map(_one_member, [live_url] * THREADS) for status in member]
    assert len(statuses) == THREADS * ROUNDS * 2
    assert set(statuses) == {200}
