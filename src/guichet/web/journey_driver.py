"""Driving a journey through either renderer with one interface, so each journey test runs twice:
once as HTML pages (parsed the way a browser would read them) and once as JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from django.test import Client

from guichet.journeys.paths import journey_path


@dataclass
class Page:
    status: int
    step: str = ""
    title: str = ""
    notices: list[str] = field(default_factory=list)          # message codes
    field_errors: dict[str, list[str]] = field(default_factory=dict)
    fields: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    outcome: str = ""                                          # signed_in, done, redirect
    redirect: str = ""
    text: str = ""

    @property
    def codes(self) -> set[str]:
        return set(self.notices) | {c for codes in self.field_errors.values() for c in codes}


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.page = Page(status=200)
        self._in_h1 = False
        self._error_for: str | None = None
        self.run = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "h1":
            self._in_h1 = True
        if tag == "form" and a.get("data-step"):
            self.page.step = a["data-step"] or ""
        if tag == "input" and a.get("name") == "run":
            self.run = a.get("value") or ""
        elif tag in ("input", "select", "textarea") and a.get("name") not in (None, "csrfmiddlewaretoken", "next") \
                and a.get("name") not in self.page.fields \
                and not (a.get("name") or "").endswith("__typed"):   # an open choice's box: the same field
            self.page.fields.append(a["name"] or "")
        if tag == "button" and a.get("name") == "action":
            self.page.actions.append(a.get("value") or "")
        if tag == "p" and a.get("class") == "field-error":
            self._error_for = (a.get("id") or "").removeprefix("field-").removesuffix("-error")
        code = a.get("data-code")
        if code and tag == "span" and self._error_for:
            self.page.field_errors.setdefault(self._error_for, []).append(code)
        elif code and tag == "div":
            self.page.notices.append(code)

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1":
            self._in_h1 = False
        if tag == "p":
            self._error_for = None

    def handle_data(self, data: str) -> None:
        if self._in_h1:
            self.page.title += data.strip()
        self.page.text += data


class HtmlDriver:
    kind = "html"

    def __init__(self, client: Client, slug: str):
        self.client, self.slug, self.run, self.path = client, slug, "", ""

    def open(self, journey: str) -> Page:
        self.path = journey_path(self.slug, journey)
        return self._read(self.client.get(self.path))

    def submit(self, values: dict[str, Any] | None = None, action: str = "") -> Page:
        data = {k: v for k, v in (values or {}).items() if v is not False}
        data = {k: ("on" if v is True else v) for k, v in data.items()}
        response = self.client.post(self.path, {**data, "run": self.run, "action": action})
        if response.status_code == 303 and response["Location"].rstrip("/").endswith(
                self.path.rstrip("/")):
            return self._read(self.client.get(self.path))
        return self._read(response)

    def _read(self, response: Any) -> Page:
        if response.status_code in (302, 303):
            location = response["Location"]
            return Page(status=response.status_code, outcome="signed_in" if "/espace/" in location else "redirect",
                        redirect=location)
        reader = _Reader()
        reader.feed(response.content.decode())
        reader.page.status = response.status_code
        self.run = reader.run
        if not reader.run:
            reader.page.outcome = "done"
        return reader.page


class JsonDriver:
    kind = "json"

    def __init__(self, client: Client, slug: str):
        self.client, self.slug, self.run, self.journey = client, slug, "", ""

    def open(self, journey: str) -> Page:
        self.journey = journey
        return self._read(self.client.post(f"/api/o/{self.slug}/journeys/{journey}"))

    def submit(self, values: dict[str, Any] | None = None, action: str = "") -> Page:
        data = {k: ("on" if v is True else v) for k, v in (values or {}).items() if v is not False}
        response = self.client.post(f"/api/o/{self.slug}/journeys/{self.journey}/{self.run}",
                                    json.dumps({"values": data, "action": action}), content_type="application/json")
        return self._read(response)

    def _read(self, response: Any) -> Page:
        body = response.json()
        if "error" in body:
            return Page(status=response.status_code, notices=[body["error"]["code"]])
        if "outcome" in body:
            screen = body.get("screen") or {}
            return Page(status=response.status_code, outcome=body["outcome"], redirect=body.get("redirect", ""),
                        title=screen.get("title", ""), notices=[n["code"] for n in screen.get("notices", [])],
                        text=json.dumps(body, ensure_ascii=False))
        self.run = body["run"] or ""
        return Page(
            status=response.status_code, step=body["step"] or "", title=body["title"],
            notices=[n["code"] for n in body["notices"]],
            field_errors={f["name"]: [e["code"] for e in f["errors"]] for f in body["fields"] if f["errors"]},
            fields=[f["name"] for f in body["fields"]], actions=[a["name"] for a in body["actions"]],
            outcome="" if body["run"] else "done", text=json.dumps(body, ensure_ascii=False),
        )


Driver = HtmlDriver | JsonDriver
