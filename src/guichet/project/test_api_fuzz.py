"""The JSON API under generated input: schemathesis reads /api/openapi.json from a live server and sends
each operation random (and schema-conforming) requests. Whatever it sends, no answer is a server error.

The session carries a CSRF token, so POST requests reach the journeys rather than stopping at the CSRF
check; the organisation slugs are narrowed to the demo ones so that requests reach real policies.
"""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from guichet.organisations.models import Organisation


@pytest.fixture
def api_schema(live_server: Any, organisations: dict[str, Organisation]) -> Any:
    with urllib.request.urlopen(f"{live_server.url}/api/openapi.json", timeout=10) as answer:  # noqa: S310
        document = json.load(answer)
    slugs = sorted(organisation.slug for organisation in organisations.values())
    for operations in document["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "slug":
                    # Real organisations (and one unknown) so that requests reach real policies and journeys.
                    parameter["schema"] = {"enum": [*slugs, "organisation-inconnue"]}
    return schemathesis.openapi.from_dict(document)


@pytest.fixture
def member_session(live_server: Any) -> tuple[requests.Session, dict[str, str]]:
    session = requests.Session()
    token = session.get(f"{live_server.url}/api/csrf", timeout=10).json()["csrf_token"]
    return session, {"X-CSRFToken": token, "Origin": live_server.url, "Referer": f"{live_server.url}/"}


@pytest.mark.django_db(transaction=True)
def test_no_api_operation_answers_with_a_server_error(api_schema: Any, live_server: Any,
                                                      member_session: tuple[requests.Session, dict[str, str]]) -> None:
    # One hypothesis run per operation (schemathesis' own pytest plugin does not work with pytest 9 yet).
    session, headers = member_session
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 6
    answers: Counter[tuple[str, int]] = Counter()

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def no_server_error(case: Any) -> None:
            response = case.call_and_validate(base_url=live_server.url, session=session, headers=headers,
                                              checks=[not_a_server_error], timeout=30)
            answers[(case.method.upper(), response.status_code)] += 1

        no_server_error()
    # Not only refusals: the CSRF token let POSTs through and real organisations' journeys started.
    assert answers[("POST", 201)] > 0, answers
