"""Journey tests take `drive`, run once per renderer (HTML pages and JSON)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from guichet.web.journey_driver import Driver, HtmlDriver, JsonDriver


@pytest.fixture(params=["html", "json"])
def drive(request: pytest.FixtureRequest) -> Callable[[str], Driver]:
    kind = HtmlDriver if request.param == "html" else JsonDriver

    def make(slug: str, client: Client | None = None) -> Driver:
        return kind(client or Client(), slug)

    return make
