"""Test fixtures for the web: a live server, a real Chromium through Playwright, axe-core.

How a browser test uses them::

    @pytest.mark.browser
    @pytest.mark.django_db(transaction=True)
    def test_home(page: Page, live_url: str, organisations: dict) -> None:
        page.goto(f"{live_url}/o/caisse-retraite-exemple/")
        assert_accessible(page)

`live_url` runs Guichet in a real HTTP server thread (pytest-django's `live_server`). That thread
has its own database connection, so the test needs committed data: `transaction=True`, never the
default rolled-back transaction. The `organisations` fixture (src/guichet/conftest.py) applies the
three demo policies first.

The browser is the system's Chromium (/usr/bin/chromium, Debian package `chromium`); we never
download one. Without it, browser tests are skipped with the reason, unless GUICHET_REQUIRE_BROWSER=1
(CI sets it) turns the skip into a failure so a broken CI machine cannot pass silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

CHROMIUM = Path(os.environ.get("GUICHET_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE_VIEWPORT: ViewportSize = {"width": 390, "height": 844}
REPOSITORY = Path(__file__).resolve().parents[3]
AXE_SCRIPT = REPOSITORY / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _unavailable(reason: str) -> NoReturn:
    """Skip, or fail when the machine promised a browser (GUICHET_REQUIRE_BROWSER=1)."""
    if os.environ.get("GUICHET_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (GUICHET_REQUIRE_BROWSER=1, so this is an error)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole session."""
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM}: install the Debian package 'chromium'")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the Python package 'playwright' is not installed (pip install -e '.[test]')")
    # Playwright's sync API keeps an asyncio loop marked as running in this thread; Django then
    # believes every ORM call comes from async code and refuses it. The calls are in fact
    # synchronous (the loop only waits for the browser), so the check is switched off here only.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _new_page(browser: Browser, **options: Any) -> Iterator[Page]:
    context = browser.new_context(locale="fr-FR", viewport=PHONE_VIEWPORT, **options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page (own cookies) on a phone-sized screen, French preferred like most members."""
    yield from _new_page(browser)


@pytest.fixture
def no_js_page(browser: Browser) -> Iterator[Page]:
    """The same, with JavaScript switched off: every journey must work without it.

    axe-core is a script, so it cannot run here (page.evaluate would wait forever): check the same
    screen's accessibility with `page` instead."""
    for page in _new_page(browser, java_script_enabled=False):
        page._guichet_no_js = True  # type: ignore[attr-defined]  # a mark read back by accessibility_violations
        yield page


@pytest.fixture
def live_url(live_server: Any) -> str:
    """Address of Guichet served over real HTTP for this test, without a trailing slash."""
    return str(live_server.url).rstrip("/")


_RUN_AXE = """async (tags) => {
  const options = {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]};
  const results = await axe.run(document, options);
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary || ""})),
  }));
}"""


def accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """WCAG 2.1 A and AA violations axe-core finds on the page as it is now."""
    if getattr(page, "_guichet_no_js", False):
        pytest.fail("axe-core needs JavaScript: check accessibility with the `page` fixture, not `no_js_page`")
    if not AXE_SCRIPT.exists():
        _unavailable(f"axe-core is missing ({AXE_SCRIPT}): run 'npm ci' at the repository root")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol rather than a <script> tag, so that the
        # page's Content-Security-Policy (which forbids foreign scripts) does not block it.
        page.evaluate("() => {\n" + AXE_SCRIPT.read_text(encoding="utf-8") + "\n}")
    return list(page.evaluate(_RUN_AXE, WCAG_TAGS))


def describe_violations(url: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"{len(violations)} accessibility problem(s) (WCAG 2.1 AA) on {url}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"    at {node['target']}")
            lines.extend(f"       {line}" for line in node["summary"].splitlines() if line.strip())
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """Fail, listing each problem and where it is, unless axe-core finds no WCAG 2.1 AA violation."""
    violations = accessibility_violations(page)
    if violations:
        pytest.fail(describe_violations(page.url, violations), pytrace=False)
