"""A minimal browser over real HTTP (requests): follows redirects one by one and submits forms the way
a person would, keeping cookies. Enough to drive Guichet's pages and oidc-provider's interaction forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


@dataclass
class Form:
    action: str
    method: str
    inputs: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif self.forms and tag == "input" and a.get("name") and a.get("type") not in ("submit", "checkbox"):
            self.forms[-1].inputs[a["name"]] = a.get("value", "")
        elif self.forms and tag == "button" and a.get("name"):
            self.forms[-1].buttons.append((a["name"], a.get("value", "")))


def forms(html: str) -> list[Form]:
    reader = _Forms()
    reader.feed(html)
    return reader.forms


@dataclass
class Arrival:
    """Where following redirects ended: a page, or an address outside (e.g. a client's callback)."""

    url: str
    response: requests.Response | None = None

    @property
    def page(self) -> requests.Response:
        assert self.response is not None, f"left for {self.url}"
        return self.response


class Browser:
    # Every session opened by a test, closed after it (conftest): a kept-alive connection left open
    # keeps a live-server thread, and its database connection, alive past the server's end.
    opened: list[requests.Session] = []

    def __init__(self) -> None:
        self.http = requests.Session()
        self.visited: list[str] = []   # every address requested, in order
        Browser.opened.append(self.http)

    @classmethod
    def close_all(cls) -> None:
        while cls.opened:
            cls.opened.pop().close()

    def go(self, url: str, *, stop_at: str = "", method: str = "get", data: dict[str, str] | None = None) -> Arrival:
        """Request url and follow redirects; stop (without fetching) at an address starting with stop_at."""
        self.visited.append(url)
        response = self.http.request(method, url, data=data, allow_redirects=False, timeout=30)
        for _ in range(20):
            if response.status_code not in (301, 302, 303, 307, 308):
                return Arrival(response.url, response)
            target = urljoin(response.url, response.headers["Location"])
            if stop_at and target.startswith(stop_at):
                return Arrival(target)
            self.visited.append(target)
            response = self.http.get(target, allow_redirects=False, timeout=30)
        raise AssertionError("too many redirects")

    def submit(self, page: requests.Response, values: dict[str, str], *, stop_at: str = "",
               choose: str = "") -> Arrival:
        """Fill and post the page's main form (the one holding `choose`, or the first that is not the
        language switch)."""
        candidates = [f for f in forms(page.text) if "setlang" not in f.action and f.method == "post"]
        if choose:
            candidates = [f for f in candidates if choose in f.inputs or any(n == choose for n, _ in f.buttons)]
        assert candidates, f"no form to submit on {page.url}"
        form = candidates[0]
        data = form.inputs | values
        return self.go(urljoin(page.url, form.action or page.url), stop_at=stop_at, method="post", data=data)
