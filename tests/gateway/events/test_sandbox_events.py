"""Events as a newcomer meets them: the gateway with no credentials wires its in-process
sandboxes' webhooks to its own receivers, so paying an invoice on the Xendit sandbox's payment
page, or finalizing and voiding a FlexPrice invoice through the API, reaches a subscription
(the one docs/events.md shows, too), with the invoice as the provider has it now."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from svix.webhooks import Webhook

from gateway.app import create_app_from_environment
from sandboxes.flexprice.webhooks import DEFAULT_WEBHOOK_SECRET
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


def svix_delivery(secret: str, body: bytes, *, message: str, at: dt.datetime) -> dict[str, str]:
    signature = Webhook(secret).sign(message, at, body.decode())
    return {
        "svix-id": message,
        "svix-timestamp": str(int(at.timestamp())),
        "svix-signature": signature,
        "content-type": "application/json",
    }


def test_forged_replayed_and_repeated_flexprice_deliveries_publish_nothing_twice() -> None:
    body = json.dumps(
        {"event_type": "invoice.update.finalized", "invoice": {"id": "inv_forged_0001"}}
    ).encode()
    now = dt.datetime.now(dt.UTC)
    other_secret = "whsec_" + base64.b64encode(b"not-the-sandbox-secret-0123").decode()
    cases = {
        "forged": svix_delivery(other_secret, body, message="msg_forged", at=now),
        "replayed": svix_delivery(
            DEFAULT_WEBHOOK_SECRET, body, message="msg_old", at=now - dt.timedelta(minutes=10)
        ),
        "unsigned": {"content-type": "application/json"},
    }
    good = svix_delivery(DEFAULT_WEBHOOK_SECRET, body, message="msg_good", at=now)
    with newcomer() as url, SseSubscription(url, EVENTS) as watching:
        time.sleep(0.2)
        refused = {
            name: httpx.post(f"{url}/webhooks/flexprice", content=body, headers=h, timeout=10)
            for name, h in cases.items()
        }
        first, again = (
            httpx.post(f"{url}/webhooks/flexprice", content=body, headers=good, timeout=10)
            for _ in range(2)
        )
        (event,) = payloads(watching, 1)
        assert watching.nothing_more()
    for name, answer in refused.items():
        assert answer.status_code == 401, (name, answer.text)
        assert answer.json()["errors"][0]["extensions"]["code"] == "WEBHOOK_UNAUTHENTICATED"
        assert DEFAULT_WEBHOOK_SECRET not in answer.text
    assert (first.json(), again.json()) == (
        {"recorded": 1, "duplicates": 0},
        {"recorded": 0, "duplicates": 1},
    )
    assert (event["provider"], event["type"]) == ("flexprice", "FINALIZED")
    assert event["invoice"] is None  # the webhook is a hint: no such invoice at the provider
