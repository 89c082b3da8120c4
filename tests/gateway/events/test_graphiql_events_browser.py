"""A newcomer's first event, in a real browser: headless Chromium opens GraphiQL on the gateway
with no credentials, runs a subscription (GraphiQL sends it over SSE), opens the Xendit
sandbox's payment page that an invoice's `paymentUrl` links to, presses Pay, and the event
appears in GraphiQL's result pane with the paid invoice. As in the GraphiQL test, nothing may
leave 127.0.0.1, and a CSP violation, a console error or an uncaught exception fails it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from gateway.app import create_app_from_environment
from tests.gateway.test_graphiql_browser import Watched, editor_text, offline_chromium
from tests.serving import ServedApp

SUBSCRIPTION = """subscription Paid {
  invoiceEvents(filter: {type: [PAID]}) {
    type provider
    invoice { providerId status amountDue { formatted } }
  }
}"""


@pytest.fixture
def gateway_url() -> Iterator[str]:
    """`serve` with no credentials: both sandboxes in process, their webhooks to its receivers,
    and their links (the payment page) on the gateway's own address."""
    app = create_app_from_environment({})
    with ServedApp(app, lifespan=True) as served:
        for name, wired in app.state.wiring.items():  # what GATEWAY_PUBLIC_URL does in `serve`
            wired.sandbox.expose(f"{served.url}/sandbox/{name}")
        yield served.url


def open_invoice(gateway_url: str) -> tuple[str, str]:
    query = """{ invoices(first: 1, filter: {provider: ["xendit"], status: [OPEN]}) {
        edges { node { providerId paymentUrl } } } }"""
    answer = httpx.post(f"{gateway_url}/graphql", json={"query": query}, timeout=30).json()
    node = answer["data"]["invoices"]["edges"][0]["node"]
    return node["providerId"], node["paymentUrl"]


def test_a_subscription_in_graphiql_shows_an_invoice_paid_on_the_sandbox_page(
    gateway_url: str, tmp_path: Path
) -> None:
    invoice_id, payment_url = open_invoice(gateway_url)
    assert payment_url.startswith(f"{gateway_url}/sandbox/xendit/")
    watched = Watched()
    with offline_chromium(tmp_path, watched) as context:
        graphiql = context.pages[0] if context.pages else context.new_page()
        watched.watch(graphiql)
        graphiql.goto(f"{gateway_url}/graphql?q={quote(SUBSCRIPTION)}")
        graphiql.locator(".graphiql-query-editor .CodeMirror").wait_for()
        with graphiql.expect_request(
            lambda r: r.method == "POST" and r.headers.get("accept") == "text/event-stream"
        ):
            graphiql.get_by_label("Execute query (Ctrl-Enter)").click()

        # A customer pays on the sandbox's hosted page, in another tab.
        checkout = context.new_page()
        watched.watch(checkout)
        checkout.goto(payment_url)
        checkout.get_by_test_id("pay-button").click()
        checkout.get_by_test_id("invoice-status").get_by_text("PAID").wait_for()

        # The event reaches GraphiQL's result pane.
        graphiql.bring_to_front()
        graphiql.locator(".graphiql-response").get_by_text(f'"{invoice_id}"').wait_for()
        shown = json.loads(editor_text(graphiql, ".graphiql-response"))
        graphiql.screenshot(path=str(tmp_path / "graphiql-event.png"))
        violations: list[str] = graphiql.evaluate("() => window.__cspViolations")
        violations += checkout.evaluate("() => window.__cspViolations")

    event = shown["data"]["invoiceEvents"]
    assert (event["type"], event["provider"]) == ("PAID", "xendit")
    assert event["invoice"]["providerId"] == invoice_id
    assert event["invoice"]["status"] == "PAID"
    assert event["invoice"]["amountDue"]["formatted"]
    assert violations == [], violations
    assert watched.console_errors == [], watched.console_errors
    assert watched.page_errors == [], watched.page_errors
    assert watched.failed == [], watched.failed
