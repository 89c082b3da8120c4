"""GraphiQL in a real browser with no network: headless Chromium (Debian's `chromium`, driven by
Playwright) opens /graphql on the gateway served on 127.0.0.1 over its in-process sandboxes,
pastes the README's first query, runs it and finds the invoices in the result pane.

Every request the page makes to anything but 127.0.0.1 is aborted and fails the test, as do a
Content-Security-Policy violation, a console error, an uncaught exception and a failed response.
The page also keeps what Strawberry's GraphiQL has: the explorer plugin, the headers editor
(a header typed there reaches the gateway) and its dialogs, whose scroll lock writes the one
<style> the CSP allows by its hash. The screenshot is left in the test's tmp_path.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Response,
    Route,
    expect,
    sync_playwright,
)

from gateway.app import create_app, providers_from_environment
from gateway.settings import GatewaySettings
from tests.serving import ServedApp

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
#: Headless, and none of Chromium's own calls home (updates, sync, safe browsing, ...). As root,
#: Chromium runs only without its sandbox.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Shared memory in /tmp: a container's small /dev/shm makes Chromium's pages crash.
    "--disable-dev-shm-usage",
]
#: The longest any one step may take (Chromium's start, a page load, a query), in ms.
STEP_MS = 30_000
REQUEST_ID = "graphiql-browser-test"
#: Mouse-wheel steps of 200 px at most to scroll the result pane to the first invoice.
SCROLLS = 20

#: Set before the page's own scripts run: every CSP violation the page sees.
RECORD_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(
    `${e.violatedDirective} blocked ${e.blockedURI || "inline"}: ${e.sample}`);
});
"""


def readme_first_query() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    query = readme.split("## A first query", 1)[1].split("```graphql\n", 1)[1].split("```", 1)[0]
    assert query.startswith("query FirstInvoices {")
    return query


def is_local(url: str) -> bool:
    """The gateway's own address, or a URL that fetches nothing (the fonts' data: URLs)."""
    parts = urlsplit(url)
    return parts.hostname == "127.0.0.1" or parts.scheme in ("data", "blob", "about")


@dataclass
class Watched:
    """What the page did that it must not."""

    outside: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def route(self, route: Route) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort("blockedbyclient")

    def request(self, request: Request) -> None:
        # Anything the route did not see (it records and aborts the rest).
        self.request_url(request.url)

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def response(self, response: Response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.status} {response.request.method} {response.url}")

    def watch(self, page: Page) -> None:
        page.on("request", self.request)
        page.on("console", self.console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("response", self.response)
        page.on("requestfailed", lambda r: self.failed.append(f"{r.failure} {r.url}"))
        page.on("websocket", lambda ws: self.request_url(ws.url))

    def request_url(self, url: str) -> None:
        if not is_local(url) and url not in self.outside:
            self.outside.append(url)


@contextlib.contextmanager
def offline_chromium(tmp_path: Path, watched: Watched) -> Iterator[BrowserContext]:
    """Headless Chromium on a fresh profile, every request outside 127.0.0.1 aborted and
    recorded in `watched`, CSP violations recorded (`RECORD_CSP`); closed afterwards, and
    then, even when a step failed, nothing may have tried to leave (a page stuck on
    "Loading..." tried a CDN). Fails when Debian's Chromium is missing."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: this test needs Debian's Chromium. "
            "Install it with: apt-get update && apt-get install -y chromium"
        )
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh profile
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 1000},
            timeout=STEP_MS,
        )
        try:
            context.set_default_timeout(STEP_MS)
            context.route("**/*", watched.route)
            context.add_init_script(RECORD_CSP)
            yield context
        finally:
            context.close()
            assert watched.outside == [], f"a page tried to reach outside: {watched.outside}"


@pytest.fixture
def gateway_url() -> Iterator[str]:
    """The gateway as `invoice-gateway serve` builds it with no credentials (both in-process
    sandboxes, GraphiQL on), served over HTTP on a free port of 127.0.0.1."""
    settings = GatewaySettings.from_environ({})
    providers = providers_from_environment(settings, {})
    app = create_app(settings=settings, providers=providers)
    try:
        with ServedApp(app) as served:
            yield served.url
    finally:

        async def close() -> None:
            await asyncio.gather(*(wired.provider.aclose() for wired in providers.values()))

        asyncio.run(close())


def editor_text(page: Page, pane: str) -> str:
    """The whole text of a CodeMirror pane (it draws only the lines in view)."""
    text: str = page.evaluate(
        f"() => document.querySelector('{pane} .CodeMirror').CodeMirror.getValue()"
    )
    return text


def test_graphiql_runs_the_readme_query_offline_under_a_strict_csp(
    gateway_url: str, tmp_path: Path
) -> None:
    query = readme_first_query()
    watched = Watched()
    with offline_chromium(tmp_path, watched) as context:
        page = context.pages[0] if context.pages else context.new_page()
        watched.watch(page)

        page.goto(f"{gateway_url}/graphql")
        editor = page.locator(".graphiql-query-editor .CodeMirror")
        editor.wait_for()
        # The schema arrived: the docs list the root fields.
        page.get_by_label("Show Documentation Explorer").click()
        page.locator(".graphiql-doc-explorer").get_by_text("Query", exact=True).wait_for()
        page.get_by_label("Hide Documentation Explorer").click()

        # The explorer plugin lists the root fields. It is closed again before the README's
        # query is pasted: graphiql-explorer 0.9.0 cannot show a list argument such as
        # `status: [OPEN]` and logs a console error for it (on Strawberry's own page too).
        page.get_by_label("Show GraphiQL Explorer").click()
        explorer = page.locator(".graphiql-explorer-root")
        explorer.get_by_text("invoices", exact=True).first.wait_for()
        page.get_by_label("Hide GraphiQL Explorer").click()
        explorer.wait_for(state="detached")

        # Paste the README's query over the welcome text.
        editor.click()
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(query)
        assert editor_text(page, ".graphiql-query-editor").split() == query.split()

        # A header typed in the headers editor reaches the gateway, which echoes it.
        page.get_by_role("button", name="Headers").click()
        page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror").click()
        page.keyboard.insert_text(json.dumps({"X-Request-ID": REQUEST_ID}))

        with page.expect_response(
            lambda r: r.request.method == "POST" and r.url == f"{gateway_url}/graphql"
        ) as answered:
            page.get_by_label("Execute query (Ctrl-Enter)").click()
        assert answered.value.status == 200
        assert answered.value.headers["x-request-id"] == REQUEST_ID

        # The result pane holds the answer: both providers and three open invoices.
        result = page.locator(".graphiql-response")
        result.get_by_text('"providers"').wait_for()
        body = json.loads(editor_text(page, ".graphiql-response"))
        assert "errors" not in body, body
        assert [p["name"] for p in body["data"]["providers"]] == ["flexprice", "xendit"]
        nodes = [edge["node"] for edge in body["data"]["invoices"]["edges"]]
        assert len(nodes) == 3
        assert {node["status"] for node in nodes} == {"OPEN"}
        assert {node["provider"] for node in nodes} <= {"flexprice", "xendit"}
        assert all(node["number"] and node["total"]["formatted"] for node in nodes)
        # The user scrolls the pane down to the first invoice and sees it.
        first = nodes[0]
        number = result.get_by_text(f'"{first["number"]}"').first
        for _ in range(SCROLLS):
            try:
                expect(number).to_be_in_viewport(timeout=500)
                break
            except AssertionError:
                result.hover()
                page.mouse.wheel(0, 200)
        expect(number).to_be_in_viewport(timeout=500)
        shown = result.inner_text()
        assert '"edges"' in shown or '"node"' in shown
        assert f'"{first["provider"]}"' in shown
        assert f'"{first["total"]["formatted"]}"' in shown
        page.screenshot(path=str(tmp_path / "graphiql.png"))

        # A dialog locks scrolling with a <style> the CSP allows by its hash.
        page.get_by_label("Open short keys dialog").click()
        page.get_by_role("dialog").wait_for()
        assert page.locator("style").count() >= 1
        page.keyboard.press("Escape")
        page.get_by_role("dialog").wait_for(state="detached")

        violations: list[str] = page.evaluate("() => window.__cspViolations")

    assert violations == [], violations
    assert watched.console_errors == [], watched.console_errors
    assert watched.page_errors == [], watched.page_errors
    assert watched.failed == [], watched.failed
    assert (tmp_path / "graphiql.png").stat().st_size > 0
