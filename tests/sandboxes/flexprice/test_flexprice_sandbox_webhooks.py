"""The FlexPrice sandbox posts a webhook for each state change, as FlexPrice does: Svix-signed
(or native with static headers), one at a time per endpoint, retried on a schedule.

The sandbox and the receiver are both served over HTTP on 127.0.0.1; the receiver is
registered through ``/_sandbox/webhooks``, as a user would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from svix.webhooks import Webhook, WebhookVerificationError

from sandboxes.flexprice import DEFAULT_API_KEY, FlexPriceSandbox, create_sandbox_app, webhooks
from sandboxes.flexprice.webhooks import DEFAULT_WEBHOOK_SECRET
from sandboxes.kit import SandboxApp
from tests.sandboxes.webhook_receiver import Receiver, register, served_receiver
from tests.serving import ServedApp

from .flexprice_sandbox_helpers import find_customer, one_off_body

OTHER_SECRET = "whsec_" + "b3RoZXItc2VjcmV0LW9mLTI0LWJ5dGVzISE="


@pytest.fixture
def app() -> SandboxApp:
    # The real clock: Svix's verification checks the timestamp against the time now.
    return create_sandbox_app(seed=0)


@pytest.fixture
def served(app: SandboxApp) -> Iterator[ServedApp]:
    with ServedApp(app) as served:
        yield served


@pytest.fixture
async def api(served: ServedApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=served.url, headers={"x-api-key": DEFAULT_API_KEY}, timeout=10
    ) as http:
        yield http


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with served_receiver() as receiver:
        yield receiver


def _state(app: SandboxApp) -> FlexPriceSandbox:
    state: FlexPriceSandbox = app.state.sandbox
    return state


async def _settled_log(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    """The deliveries, once none is pending or retrying any more (a receiver has the request
    before the sandbox has its answer)."""
    for _ in range(500):
        log: list[dict[str, Any]] = (await api.get("/_sandbox/webhooks")).json()["deliveries"]
        if all(d["status"] not in ("pending", "retrying") for d in log):
            return log
        await asyncio.sleep(0.02)
    raise AssertionError(f"deliveries still under way: {log}")


def _subscription_draft(sandbox: FlexPriceSandbox) -> dict[str, Any]:
    sub = next(iter(sandbox.subscriptions.values()))
    return {
        "customer_id": sub.customer_id,
        "currency": sub.currency,
        "invoice_type": "SUBSCRIPTION",
        "subscription_id": sub.id,
        "billing_period": "MONTHLY",
        "billing_reason": "SUBSCRIPTION_CYCLE",
        "period_start": "2031-07-01T00:00:00Z",
        "period_end": "2031-08-01T00:00:00Z",
        "amount_due": "10",
        "subtotal": "10",
        "total": "10",
    }


async def test_each_state_change_posts_one_webhook_with_the_invoice_at_delivery(
    app: SandboxApp, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    await register(api, receiver.url)
    sandbox = _state(app)
    customer = find_customer(sandbox)

    one_off = (await api.post("/v1/invoices", json=one_off_body(customer.id))).json()
    draft = (await api.post("/v1/invoices", json=_subscription_draft(sandbox))).json()
    draft_id = draft["id"]
    assert (await api.put(f"/v1/invoices/{draft_id}", json={"metadata": {"a": "1"}})).is_success
    assert (await api.post(f"/v1/invoices/{draft_id}/finalize")).is_success
    paid = await api.put(f"/v1/invoices/{draft_id}/payment", json={"payment_status": "SUCCEEDED"})
    assert paid.is_success
    assert (await api.post(f"/v1/invoices/{draft_id}/comms/trigger")).is_success
    assert (await api.post(f"/v1/invoices/{one_off['id']}/void", json={})).is_success
    # A refused change fires nothing: a voided invoice cannot be finalized.
    assert (await api.post(f"/v1/invoices/{one_off['id']}/finalize")).status_code == 400

    got = await receiver.wait_for(7)
    events = [(r.json()["event_type"], r.json()["invoice"]["id"]) for r in got]
    assert events == [
        ("invoice.update.finalized", one_off["id"]),
        ("invoice.create.drafted", draft_id),
        ("invoice.update", draft_id),
        ("invoice.update.finalized", draft_id),
        ("invoice.update.payment", draft_id),
        ("invoice.communication.triggered", draft_id),
        ("invoice.update.voided", one_off["id"]),
    ]
    # The invoice is the API's own JSON (GET /v1/invoices/{id}), as it was when sent: the
    # last events came after the last change to each invoice, so they equal a GET now.
    assert got[6].json()["invoice"] == (await api.get(f"/v1/invoices/{one_off['id']}")).json()
    assert got[5].json()["invoice"] == (await api.get(f"/v1/invoices/{draft_id}")).json()
    assert got[0].json()["invoice"]["line_items"]  # the full invoice, lines included
    assert got[0].json()["invoice"]["customer"]["id"] == customer.id
    assert got[1].json()["invoice"]["invoice_status"] == "DRAFT"
    assert got[2].json()["invoice"]["metadata"] == {"a": "1"}
    assert got[3].json()["invoice"]["invoice_status"] == "FINALIZED"
    assert got[4].json()["invoice"]["payment_status"] == "SUCCEEDED"
    assert got[6].json()["invoice"]["invoice_status"] == "VOIDED"
    await receiver.stays_at(7)
    assert [name for name, _ in sandbox.events][-7:] == [name for name, _ in events]


async def test_the_svix_signature_verifies_with_the_secret_the_registration_returned(
    api: httpx.AsyncClient, receiver: Receiver, app: SandboxApp
) -> None:
    registered = await register(api, receiver.url)
    assert registered["mode"] == "svix"
    assert registered["secret"] == DEFAULT_WEBHOOK_SECRET
    assert registered["url"] == receiver.url
    customer = find_customer(_state(app))
    await api.post("/v1/invoices", json=one_off_body(customer.id))

    (delivery,) = await receiver.wait_for(1)
    assert delivery.headers["svix-id"].startswith("msg_")
    assert delivery.headers["content-type"] == "application/json"
    Webhook(registered["secret"]).verify(delivery.body, delivery.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(OTHER_SECRET).verify(delivery.body, delivery.headers)
    tampered = delivery.body.replace(b"FINALIZED", b"VOIDED")
    with pytest.raises(WebhookVerificationError):
        Webhook(registered["secret"]).verify(tampered, delivery.headers)


async def test_a_secret_given_to_the_app_signs_instead_of_the_published_one(
    receiver: Receiver,
) -> None:
    app = create_sandbox_app(seed=0, webhook_secret=OTHER_SECRET)
    assert app.webhook_settings() == {"FLEXPRICE_WEBHOOK_SECRET": OTHER_SECRET}
    with ServedApp(app) as served:
        async with httpx.AsyncClient(
            base_url=served.url, headers={"x-api-key": DEFAULT_API_KEY}, timeout=10
        ) as api:
            registered = await register(api, receiver.url)
            assert registered["secret"] == OTHER_SECRET
            await api.post("/v1/invoices", json=one_off_body(find_customer(_state(app)).id))
            (delivery,) = await receiver.wait_for(1)
    Webhook(OTHER_SECRET).verify(delivery.body, delivery.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(DEFAULT_WEBHOOK_SECRET).verify(delivery.body, delivery.headers)


@pytest.mark.parametrize(
    "secret", ["", "whsec_", "whsec_not base64!", "c2hvcnQ=", "whsec_c2hvcnQ="]
)
def test_a_secret_that_is_not_a_svix_secret_is_refused(secret: str) -> None:
    with pytest.raises(ValueError, match="webhook_secret"):
        create_sandbox_app(webhook_secret=secret)


async def test_native_mode_carries_the_static_headers_and_no_signature(
    api: httpx.AsyncClient, receiver: Receiver, app: SandboxApp
) -> None:
    static = {"X-Api-Key": "receiver-key-123", "X-Tenant": "acme"}
    registered = await register(api, receiver.url, mode="native", headers=static)
    assert registered["mode"] == "native"
    assert registered["headers"] == static
    assert "secret" not in registered
    await api.post("/v1/invoices", json=one_off_body(find_customer(_state(app)).id))

    (delivery,) = await receiver.wait_for(1)
    assert delivery.headers["x-api-key"] == "receiver-key-123"
    assert delivery.headers["x-tenant"] == "acme"
    assert not [name for name in delivery.headers if name.startswith("svix-")]
    assert delivery.json()["event_type"] == "invoice.update.finalized"


async def test_a_failing_delivery_is_retried_with_the_same_id_before_the_next_event() -> None:
    app = create_sandbox_app(seed=0)
    with served_receiver(statuses=(500, 500)) as receiver, ServedApp(app) as served:
        async with httpx.AsyncClient(
            base_url=served.url, headers={"x-api-key": DEFAULT_API_KEY}, timeout=10
        ) as api:
            await register(api, receiver.url, retry_schedule_ms=[100, 100])
            customer = find_customer(_state(app))
            first = await api.post("/v1/invoices", json=one_off_body(customer.id))
            second = await api.post(
                "/v1/invoices", json=one_off_body(customer.id, idempotency_key="order-43")
            )
            got = await receiver.wait_for(4)
            log = await _settled_log(api)

    assert [r.status for r in got] == [500, 500, 200, 200]
    ids = [r.headers["svix-id"] for r in got]
    assert ids[0] == ids[1] == ids[2] != ids[3]
    invoices = [r.json()["invoice"]["id"] for r in got]
    assert invoices == [first.json()["id"]] * 3 + [second.json()["id"]]
    assert got[0].body == got[2].body  # a retry sends the same message
    assert [(d["status"], d["attempts"], d["last_status"]) for d in log] == [
        ("delivered", 3, 200),
        ("delivered", 1, 200),
    ]
    assert log[0]["message_id"] == ids[0]
    assert log[0]["event"] == "invoice.update.finalized"
    assert log[0]["subject"] == first.json()["id"]


async def test_a_schedule_that_runs_out_marks_the_delivery_failed_and_moves_on() -> None:
    app = create_sandbox_app(seed=0)
    with served_receiver(statuses=(503, 503)) as receiver, ServedApp(app) as served:
        async with httpx.AsyncClient(
            base_url=served.url, headers={"x-api-key": DEFAULT_API_KEY}, timeout=10
        ) as api:
            await register(api, receiver.url, retry_schedule_ms=[50])
            customer = find_customer(_state(app))
            await api.post("/v1/invoices", json=one_off_body(customer.id))
            await api.post(
                "/v1/invoices", json=one_off_body(customer.id, idempotency_key="order-43")
            )
            got = await receiver.wait_for(3)
            await receiver.stays_at(3)
            log = await _settled_log(api)

    assert [r.status for r in got] == [503, 503, 200]
    assert got[0].headers["svix-id"] == got[1].headers["svix-id"] != got[2].headers["svix-id"]
    assert [(d["status"], d["attempts"], d["last_status"]) for d in log] == [
        ("failed", 2, 503),
        ("delivered", 1, 200),
    ]


async def test_an_unreachable_endpoint_fails_with_the_reason_in_the_log(
    api: httpx.AsyncClient, app: SandboxApp
) -> None:
    with served_receiver() as gone:
        url = gone.url  # a port that nobody listens on once the receiver stopped
    await register(api, url, retry_schedule_ms=[10])
    await api.post("/v1/invoices", json=one_off_body(find_customer(_state(app)).id))
    (delivery,) = await _settled_log(api)
    assert delivery["status"] == "failed"
    assert delivery["attempts"] == 2
    assert delivery["last_status"] is None
    assert delivery["last_error"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "url"),
        ({"url": "ftp://example.com/hook"}, "url"),
        ({"url": "/hook"}, "url"),
        ({"url": "http://127.0.0.1/hook", "mode": "smtp"}, "mode"),
        ({"url": "http://127.0.0.1/hook", "headers": {"X-Key": "v"}}, "headers"),
        ({"url": "http://127.0.0.1/hook", "mode": "native", "headers": ["X-Key"]}, "headers"),
        (
            {"url": "http://127.0.0.1/hook", "mode": "native", "headers": {"X Key": "v"}},
            "headers.X Key",
        ),
        (
            {"url": "http://127.0.0.1/hook", "mode": "native", "headers": {"Host": "v"}},
            "headers.Host",
        ),
        ({"url": "http://127.0.0.1/hook", "retry_schedule_ms": [-1]}, "retry_schedule_ms"),
        ({"url": "http://127.0.0.1/hook", "retry_schedule_ms": 100}, "retry_schedule_ms"),
        ({"url": "http://127.0.0.1/hook", "retry_schedule_ms": [1] * 11}, "retry_schedule_ms"),
        ({"url": "http://127.0.0.1/hook", "retry_schedule_ms": [True]}, "retry_schedule_ms"),
        ({"url": "http://127.0.0.1/hook", "secret": "whsec_x"}, "secret"),
    ],
)
async def test_a_bad_registration_is_a_400_naming_the_field(
    api: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    answer = await api.post("/_sandbox/webhooks", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_webhook"
    assert answer.json()["field"] == field
    assert answer.json()["message"]
    assert (await api.get("/_sandbox/webhooks")).json()["endpoints"] == []


async def test_a_body_that_is_not_an_object_is_a_400(api: httpx.AsyncClient) -> None:
    for raw in (b"[1]", b"{", b"\xff"):
        answer = await api.post("/_sandbox/webhooks", content=raw)
        assert answer.status_code == 400
        assert answer.json() == {
            "error": "invalid_webhook",
            "field": None,
            "message": "the body must be a JSON object",
        }


async def test_a_removed_endpoint_gets_nothing_and_reset_keeps_endpoints_but_not_the_log(
    api: httpx.AsyncClient, receiver: Receiver, app: SandboxApp
) -> None:
    kept = await register(api, receiver.url + "/kept")
    removed = await register(api, receiver.url + "/removed")
    listed = (await api.get("/_sandbox/webhooks")).json()["endpoints"]
    assert [e["id"] for e in listed] == [kept["id"], removed["id"]]
    assert (await api.delete(f"/_sandbox/webhooks/{removed['id']}")).status_code == 204
    unknown = await api.delete(f"/_sandbox/webhooks/{removed['id']}")
    assert unknown.status_code == 404

    await api.post("/v1/invoices", json=one_off_body(find_customer(_state(app)).id))
    (delivery,) = await receiver.wait_for(1)
    assert delivery.path == "/hook/kept"
    assert len((await api.get("/_sandbox/webhooks")).json()["deliveries"]) == 1

    assert (await api.post("/_sandbox/reset")).is_success
    after = (await api.get("/_sandbox/webhooks")).json()
    assert after["deliveries"] == []
    assert [e["id"] for e in after["endpoints"]] == [kept["id"]]
    await api.post("/v1/invoices", json=one_off_body(find_customer(_state(app)).id))
    await receiver.wait_for(2)
    await receiver.stays_at(2)


async def test_the_events_fired_are_kept_in_order_and_bounded(
    app: SandboxApp, api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhooks, "EVENTS_KEPT", 3)
    sandbox = _state(app)
    customer = find_customer(sandbox)
    created = (await api.post("/v1/invoices", json=one_off_body(customer.id))).json()
    for _ in range(3):
        assert (await api.post(f"/v1/invoices/{created['id']}/comms/trigger")).is_success
    assert sandbox.events == [("invoice.communication.triggered", created["id"])] * 3
