"""Events as a newcomer meets them: the gateway with no credentials wires its in-process
sandboxes' webhooks to its own receivers, so paying an invoice on the Xendit sandbox's payment
page, or finalizing and voiding a FlexPrice invoice through the API, reaches a subscription
(the one docs/events.md shows, too), with the invoice as the provider has it now."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app_from_environment
from tests.gateway.events.streams import SseSubscription
from tests.serving import ServedApp

ROOT = Path(__file__).resolve().parents[3]
EVENTS = """subscription { invoiceEvents {
  id type provider providerEvent invoice { providerId status paymentStatus } } }"""


@contextlib.contextmanager
def newcomer(**environ: str) -> Iterator[str]:
    """`serve` with no credentials: both providers on their in-process sandboxes."""
    app = create_app_from_environment({"GATEWAY_HEARTBEAT_SECONDS": "0.2", **environ})
    with ServedApp(app, lifespan=True) as served:
        for name, wired in app.state.wiring.items():  # what GATEWAY_PUBLIC_URL does in `serve`
            wired.sandbox.expose(f"{served.url}/sandbox/{name}")
        yield served.url


def query(url: str, text: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = httpx.post(
        f"{url}/graphql", json={"query": text, "variables": variables or {}}, timeout=30
    ).json()
    assert "errors" not in answer, answer
    data: dict[str, Any] = answer["data"]
    return data


def open_xendit_invoices(url: str, count: int) -> list[str]:
    data = query(
        url,
        """query($n: Int) { invoices(first: $n, filter: {provider: ["xendit"], status: [OPEN]}) {
        edges { node { providerId paymentUrl } } } }""",
        {"n": count},
    )
    nodes = [edge["node"] for edge in data["invoices"]["edges"]]
    assert len(nodes) == count
    for node in nodes:  # the invoice's own link is the sandbox's payment page
        assert node["paymentUrl"].endswith(f"/sandbox/xendit/web/{node['providerId']}")
    return [node["providerId"] for node in nodes]


def pay_on_the_page(url: str, invoice_id: str) -> None:
    page = httpx.get(f"{url}/sandbox/xendit/web/{invoice_id}", timeout=30)
    assert 'data-testid="pay-button"' in page.text
    paid = httpx.post(f"{url}/sandbox/xendit/web/{invoice_id}", data={}, timeout=30)
    assert paid.status_code in (200, 303), paid.text


def payloads(subscription: SseSubscription, count: int) -> list[dict[str, Any]]:
    found = subscription.payloads(count)
    for payload in found:
        assert "errors" not in payload, payload
    return [payload["data"]["invoiceEvents"] for payload in found]


def test_paying_on_the_sandbox_page_and_changing_invoices_reach_a_subscriber() -> None:
    with newcomer() as url, SseSubscription(url, EVENTS) as watching:
        (paid_id,) = open_xendit_invoices(url, 1)
        draft = query(
            url,
            """{ invoices(first: 1, filter: {provider: ["flexprice"], status: [DRAFT]}) {
            edges { node { id providerId } } } }""",
        )["invoices"]["edges"][0]["node"]
        time.sleep(0.2)
        pay_on_the_page(url, paid_id)
        finalize = (
            "mutation($id: ID!) { finalizeInvoice(input: {id: $id}) { userErrors { code } } }"
        )
        void = "mutation($id: ID!) { voidInvoice(input: {id: $id}) { userErrors { code } } }"
        assert query(url, finalize, {"id": draft["id"]})["finalizeInvoice"]["userErrors"] == []
        assert query(url, void, {"id": draft["id"]})["voidInvoice"]["userErrors"] == []
        events = payloads(watching, 3)
        assert watching.nothing_more()
    assert [(e["provider"], e["type"], e["providerEvent"]) for e in events] == [
        ("xendit", "PAID", "PAID"),
        ("flexprice", "FINALIZED", "invoice.update.finalized"),
        ("flexprice", "VOIDED", "invoice.update.voided"),
    ]
    assert events[0]["invoice"] == {
        "providerId": paid_id,
        "status": "PAID",
        "paymentStatus": "PAID",
    }
    # Each event's invoice is read when it is delivered: the voided one by then.
    assert [e["invoice"]["providerId"] for e in events[1:]] == [draft["providerId"]] * 2
    assert events[2]["invoice"]["status"] == "VOID"


@pytest.mark.parametrize("page", ["README.md", "docs/events.md"])
def test_the_documented_subscription_runs(page: str) -> None:
    text = (ROOT / page).read_text()
    (documented,) = re.findall(r"```graphql\n(subscription.*?)```", text, re.DOTALL)
    with newcomer() as url, SseSubscription(url, documented) as watching:
        (invoice_id,) = open_xendit_invoices(url, 1)
        time.sleep(0.2)
        pay_on_the_page(url, invoice_id)
        (event,) = payloads(watching, 1)
    assert event["type"] == "PAID"
    assert event["invoice"]["status"] == "PAID"
    assert event["invoice"]["amountDue"]["formatted"]


def test_a_long_subscription_is_not_cut_off_by_the_upstream_call_limit() -> None:
    # Each event's invoice is read once for the whole process, outside any operation's
    # GATEWAY_MAX_UPSTREAM_CALLS: charged to the subscription, its third event failed.
    with (
        newcomer(GATEWAY_MAX_UPSTREAM_CALLS="2") as url,
        SseSubscription(url, EVENTS) as watching,
    ):
        ids = open_xendit_invoices(url, 4)
        time.sleep(0.2)
        for invoice_id in ids:
            pay_on_the_page(url, invoice_id)
        events = payloads(watching, 4)
    assert [e["invoice"]["providerId"] for e in events] == ids
