"""Webhooks in, subscriptions out, through the served gateway: what a subscriber receives over
SSE and graphql-transport-ws (each event once, in order, resumable), what a provider's delivery
is answered, the filters, the limits and the heartbeats. The provider is `Ledger` (this
package), so what is tested is the gateway's side; FlexPrice's and Xendit's own readings are
tested with their sandboxes."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.events.records import encode_cursor
from gateway.ids import encode_id
from gateway.settings import GatewaySettings
from providers.models import InvoiceStatus
from tests.gateway.events.ledger import Ledger, invoice
from tests.gateway.events.streams import SseSubscription, WsConnection
from tests.processes import free_port
from tests.serving import ServedApp

TOKEN = "ledger-token-0123456789"
EVENTS = """subscription($after: ID, $filter: InvoiceEventFilter) {
  invoiceEvents(after: $after, filter: $filter) {
    id type provider providerEvent invoiceId invoice { providerId status } } }"""
PLAIN = """subscription($after: ID, $filter: InvoiceEventFilter) {
  invoiceEvents(after: $after, filter: $filter) { id type invoiceId } }"""
READER = "reader-0123456789abcdef0123"
WRITER = "writer-0123456789abcdef0123"


@contextlib.contextmanager
def served(ledger: Ledger | None = None, **settings: Any) -> Iterator[tuple[str, Ledger]]:
    ledger = ledger or Ledger()
    # Heartbeats every 0.2 s: the tests' SSE readers end at the next line they read.
    options: dict[str, Any] = {"providers": ("ledger",), "heartbeat_seconds": 0.2, **settings}
    app = create_app(settings=GatewaySettings(**options), providers={"ledger": ledger})
    with ServedApp(app, lifespan=True) as server:  # the lifespan closes the event log
        yield server.url, ledger


def deliver(url: str, body: dict[str, Any], token: str | None = TOKEN) -> httpx.Response:
    headers = {} if token is None else {"x-ledger-token": token}
    return httpx.post(f"{url}/webhooks/ledger", json=body, headers=headers, timeout=10)


def gid(invoice_id: str) -> str:
    return encode_id("Invoice", "ledger", invoice_id)


def events_of(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for payload in payloads:
        assert "errors" not in payload, payload
    return [payload["data"]["invoiceEvents"] for payload in payloads]


def test_every_subscriber_gets_each_event_once_in_order_and_the_invoice_is_read_once() -> None:
    with served() as (url, ledger):
        ledger.invoices["inv-1"] = invoice("inv-1", InvoiceStatus.OPEN)
        ledger.invoices["inv-2"] = invoice("inv-2", InvoiceStatus.PAID)
        with SseSubscription(url, EVENTS) as one, SseSubscription(url, EVENTS) as two:
            assert one.status == 200
            assert one.content_type.startswith("text/event-stream")
            time.sleep(0.3)  # both subscribed
            answers = [
                deliver(url, {"id": "d1", "event": "created", "invoice": "inv-1"}),
                deliver(url, {"id": "d2", "event": "paid", "invoice": "inv-2"}),
                deliver(url, {"id": "d1", "event": "created", "invoice": "inv-1"}),  # a retry
                deliver(url, {"id": "d3", "event": "voided", "invoice": "inv-gone"}),
            ]
            assert [a.status_code for a in answers] == [200, 200, 200, 200]
            assert [a.json() for a in answers] == [
                {"recorded": 1, "duplicates": 0},
                {"recorded": 1, "duplicates": 0},
                {"recorded": 0, "duplicates": 1},
                {"recorded": 1, "duplicates": 0},
            ]
            got = [events_of(one.payloads(3)), events_of(two.payloads(3))]
            assert one.nothing_more()
            assert two.nothing_more()
    for events in got:
        assert [(e["type"], e["providerEvent"], e["invoiceId"]) for e in events] == [
            ("CREATED", "created", gid("inv-1")),
            ("PAID", "paid", gid("inv-2")),
            ("VOIDED", "voided", gid("inv-gone")),
        ]
        assert [e["invoice"] for e in events] == [
            {"providerId": "inv-1", "status": "OPEN"},
            {"providerId": "inv-2", "status": "PAID"},
            None,  # it no longer exists
        ]
        assert all(e["provider"] == "ledger" for e in events)
    assert got[0] == got[1]  # the same ids: one record of each event
    # Two subscribers, three events: one read of each invoice.
    assert sorted(ledger.reads) == ["inv-1", "inv-2", "inv-gone"]


def test_a_subscriber_resumes_after_the_last_event_it_saw_and_misses_nothing() -> None:
    with served() as (url, _):
        with SseSubscription(url, PLAIN) as first:
            time.sleep(0.2)
            deliver(url, {"id": "d1", "event": "created", "invoice": "inv-1"})
            (seen,) = events_of(first.payloads(1))
        # Gone; meanwhile two more events.
        deliver(url, {"id": "d2", "event": "paid", "invoice": "inv-1"})
        deliver(url, {"id": "d3", "event": "voided", "invoice": "inv-2"})
        with SseSubscription(url, PLAIN, {"after": seen["id"]}) as resumed:
            missed = events_of(resumed.payloads(2))
            deliver(url, {"id": "d4", "event": "created", "invoice": "inv-3"})
            live = events_of(resumed.payloads(1))
            assert resumed.nothing_more()
    assert [(e["type"], e["invoiceId"]) for e in missed + live] == [
        ("PAID", gid("inv-1")),
        ("VOIDED", gid("inv-2")),
        ("CREATED", gid("inv-3")),
    ]
    assert len({seen["id"], *(e["id"] for e in missed + live)}) == 4


def refusal(subscription: SseSubscription) -> dict[str, Any]:
    """The one error a refused subscription ends with."""
    name, data = subscription.next()
    assert name in ("next", "answer"), (name, data)
    (error,) = data["errors"]
    return dict(error)


@pytest.mark.parametrize(
    ("after", "code"),
    [
        ("not-a-cursor", "BAD_USER_INPUT"),
        (encode_id("Invoice", "ledger", "inv-1"), "BAD_USER_INPUT"),  # an id, not a cursor
    ],
)
def test_a_cursor_that_is_not_one_or_too_old_is_refused(after: str, code: str) -> None:
    with served() as (url, _), SseSubscription(url, PLAIN, {"after": after}) as refused:
        error = refusal(refused)
    assert error["extensions"]["code"] == code
    assert error["extensions"].get("field") == "after"
    assert "Traceback" not in str(error)


def test_resuming_after_an_event_the_retention_dropped_is_refused_and_before_any_is_not() -> None:
    with served(event_retention="1s") as (url, _):
        with SseSubscription(url, PLAIN) as first:
            time.sleep(0.2)
            deliver(url, {"id": "d1", "event": "paid", "invoice": "inv-1"})
            deliver(url, {"id": "d2", "event": "paid", "invoice": "inv-2"})
            one, two = events_of(first.payloads(2))
        # From before the first event: nothing was dropped yet, so all of it.
        with SseSubscription(url, PLAIN, {"after": encode_cursor("1000-0")}) as everything:
            assert [e["id"] for e in events_of(everything.payloads(2))] == [one["id"], two["id"]]
        time.sleep(1.2)
        deliver(url, {"id": "d3", "event": "paid", "invoice": "inv-3"})  # drops d1 and d2
        with SseSubscription(url, PLAIN, {"after": one["id"]}) as expired:
            error = refusal(expired)  # d2 is gone
        with SseSubscription(url, PLAIN, {"after": two["id"]}) as resumed:
            (three,) = events_of(resumed.payloads(1))  # nothing after d2 is
    assert error["extensions"]["code"] == "EVENT_CURSOR_EXPIRED"
    assert error["extensions"]["field"] == "after"
    assert three["invoiceId"] == gid("inv-3")


def test_filters_narrow_by_type_provider_and_customer() -> None:
    with served() as (url, ledger):
        ledger.invoices["inv-2"] = invoice("inv-2", InvoiceStatus.PAID, customer="cust-2")
        customer = encode_id("Customer", "ledger", "cust-2")
        with (
            SseSubscription(url, PLAIN, {"filter": {"type": ["PAID"]}}) as paid,
            SseSubscription(url, PLAIN, {"filter": {"customerId": customer}}) as theirs,
            SseSubscription(url, PLAIN, {"filter": {"provider": ["ledger"]}}) as ledgers,
        ):
            time.sleep(0.3)
            deliver(url, {"id": "d1", "event": "created", "invoice": "inv-1", "customer": "c1"})
            deliver(url, {"id": "d2", "event": "paid", "invoice": "inv-2"})  # no customer said
            deliver(url, {"id": "d3", "event": "voided", "invoice": "inv-3", "customer": "cust-2"})
            assert [e["type"] for e in events_of(paid.payloads(1))] == ["PAID"]
            # inv-2's webhook names no customer: its invoice, read again, does.
            assert [e["type"] for e in events_of(theirs.payloads(2))] == ["PAID", "VOIDED"]
            assert len(events_of(ledgers.payloads(3))) == 3
            assert paid.nothing_more()
            assert theirs.nothing_more(0.1)


@pytest.mark.parametrize(
    ("chosen", "field", "code"),
    [
        ({"provider": ["stripe"]}, "filter.provider", "UNKNOWN_PROVIDER"),
        ({"customerId": encode_id("Invoice", "ledger", "x")}, "filter.customerId", "INVALID_ID"),
    ],
)
def test_a_filter_naming_what_is_not_here_is_refused(
    chosen: dict[str, Any], field: str, code: str
) -> None:
    with served() as (url, _), SseSubscription(url, PLAIN, {"filter": chosen}) as refused:
        error = refusal(refused)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == (code, field)


def test_deliveries_that_fail_their_check_are_refused_and_reach_no_subscriber() -> None:
    with served() as (url, _), SseSubscription(url, PLAIN) as watching:
        time.sleep(0.2)
        body = {"id": "d1", "event": "paid", "invoice": "inv-1"}
        wrong = deliver(url, body, token="ledger-token-WRONG")
        missing = deliver(url, body, token=None)
        doubled = httpx.post(
            f"{url}/webhooks/ledger",
            json=body,
            headers=[("x-ledger-token", TOKEN), ("x-ledger-token", TOKEN)],
            timeout=10,
        )
        malformed = deliver(url, {"id": "d2"})
        unknown = httpx.post(f"{url}/webhooks/stripe", json=body, timeout=10)
        huge = httpx.post(
            f"{url}/webhooks/ledger",
            content=b"x" * 1_100_000,
            headers={"x-ledger-token": TOKEN},
            timeout=10,
        )
        assert watching.nothing_more()
    for answer in (wrong, missing, doubled):
        assert answer.status_code == 401, answer.text
        assert answer.json()["errors"][0]["extensions"]["code"] == "WEBHOOK_UNAUTHENTICATED"
        assert TOKEN not in answer.text
        assert "WRONG" not in answer.text
    assert malformed.status_code == 400
    assert malformed.json()["errors"][0]["extensions"]["code"] == "WEBHOOK_MALFORMED"
    assert unknown.status_code == 404
    assert huge.status_code == 413


def test_a_provider_without_a_secret_refuses_every_delivery() -> None:
    with served(Ledger(token=None)) as (url, _):
        answer = deliver(url, {"id": "d1", "event": "paid", "invoice": "inv-1"})
    assert answer.status_code == 401
    assert "LEDGER_TOKEN is not set" in answer.json()["errors"][0]["message"]


def test_a_log_that_cannot_record_answers_503_so_the_provider_retries() -> None:
    down = f"redis://127.0.0.1:{free_port()}/0"
    with served(redis_url=down) as (url, _):
        answer = deliver(url, {"id": "d1", "event": "paid", "invoice": "inv-1"})
        with SseSubscription(url, PLAIN) as refused:
            error = refusal(refused)
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert answer.json()["errors"][0]["extensions"]["code"] == "EVENT_LOG_UNAVAILABLE"
    assert error["extensions"]["code"] == "EVENT_LOG_UNAVAILABLE"


def test_subscribing_needs_a_key_and_a_read_key_may_while_webhooks_need_none() -> None:
    keys = f"app:read:{READER},ops:write:{WRITER}"
    with served(api_keys=keys) as (url, _):
        with SseSubscription(url, PLAIN) as anonymous:
            assert anonymous.status == 401
        with SseSubscription(url, PLAIN, authorization=f"Bearer {READER}") as reader:
            time.sleep(0.2)
            assert deliver(url, {"id": "d1", "event": "paid", "invoice": "inv-1"}).json() == {
                "recorded": 1,
                "duplicates": 0,
            }
            assert [e["type"] for e in events_of(reader.payloads(1))] == ["PAID"]
        # Without a key, only a POST to exactly /webhooks/<name> passes the gate.
        for method, path in [("GET", "/webhooks/ledger"), ("POST", "/webhooks/ledger/x")]:
            assert httpx.request(method, url + path, timeout=10).status_code == 401


def test_over_websocket_with_heartbeats_and_a_limit_per_connection() -> None:
    settings = {"heartbeat_seconds": 0.2, "max_subscriptions_per_connection": 1}
    with served(**settings) as (url, _):
        ws = WsConnection(url)
        try:
            ws.subscribe("1", PLAIN)
            ws.subscribe("2", PLAIN)
            refused = ws.received()
            assert refused["type"] == "error"
            assert refused["id"] == "2"
            assert refused["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
            assert ws.received(skip_pings=False, wait=2)["type"] == "ping"
            deliver(url, {"id": "d1", "event": "paid", "invoice": "inv-1"})
            message = ws.received()
            assert (message["type"], message["id"]) == ("next", "1")  # the first still runs
            assert message["payload"]["data"]["invoiceEvents"]["type"] == "PAID"
        finally:
            ws.close()


def test_sse_sends_heartbeats() -> None:
    with served(heartbeat_seconds=0.2) as (url, _), SseSubscription(url, PLAIN) as quiet:
        deadline = time.monotonic() + 5
        while quiet.heartbeats < 2:
            assert time.monotonic() < deadline, "no heartbeat"
            time.sleep(0.05)


def test_a_caller_has_at_most_its_share_of_subscriptions_and_gets_it_back() -> None:
    with served(max_subscriptions_per_caller=1) as (url, _):
        with SseSubscription(url, PLAIN) as first:
            time.sleep(0.2)
            with SseSubscription(url, PLAIN) as second:
                error = refusal(second)
            assert error["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
            assert first.status == 200
        deadline = time.monotonic() + 5
        while True:  # the first one's slot is given back once the server sees it gone
            with SseSubscription(url, PLAIN) as again:
                time.sleep(0.1)
                if again.nothing_more(0.2):
                    break
            assert time.monotonic() < deadline, "the slot was never given back"


def test_a_webhook_to_one_gateway_reaches_a_subscriber_of_another_on_the_same_redis(
    redis_url: str,
) -> None:
    with served(redis_url=redis_url) as (a, _), served(redis_url=redis_url) as (b, ledger_b):
        ledger_b.invoices["inv-1"] = invoice("inv-1", InvoiceStatus.PAID)
        with SseSubscription(b, EVENTS) as on_b:
            time.sleep(0.3)
            deliver(a, {"id": "d1", "event": "paid", "invoice": "inv-1"})
            deliver(b, {"id": "d1", "event": "paid", "invoice": "inv-1"})  # the retry, to B
            (event,) = events_of(on_b.payloads(1))
            assert on_b.nothing_more()
    assert event["invoice"] == {"providerId": "inv-1", "status": "PAID"}


def test_a_subscription_sent_without_a_stream_is_refused_not_run_as_a_query() -> None:
    with served() as (url, _):
        posted = httpx.post(f"{url}/graphql", json={"query": PLAIN}, timeout=10)
        through_get = httpx.get(
            f"{url}/graphql",
            params={"query": PLAIN},
            headers={"apollo-require-preflight": "true"},
            timeout=10,
        )
    assert posted.status_code == 400
    assert posted.json()["errors"][0]["message"].startswith("A subscription needs a stream")
    assert through_get.status_code == 400
    assert through_get.json()["errors"][0]["message"] == posted.json()["errors"][0]["message"]


@pytest.mark.parametrize(("query", "overlapping"), [(EVENTS, True), (PLAIN, False)])
def test_the_invoices_of_events_in_line_are_read_ahead_for_a_subscriber_that_wants_them(
    query: str, overlapping: bool
) -> None:
    # A subscriber takes its events one at a time: were each invoice read only when it reached
    # its event, the reads would follow one another, one round trip per event at most.
    with served() as (url, ledger), SseSubscription(url, query) as watching:
        ledger.read_seconds = 0.3
        time.sleep(0.2)
        for n in range(5):
            deliver(url, {"id": f"d{n}", "event": "paid", "invoice": f"inv-{n}"})
        assert len(events_of(watching.payloads(5))) == 5
    if overlapping:
        assert ledger.most_in_flight >= 2
        assert sorted(ledger.reads) == [f"inv-{n}" for n in range(5)]
    else:  # no subscriber selects `invoice`: nothing is read
        assert ledger.reads == []


class Other(Ledger):
    name = "other"


def test_an_event_of_a_provider_not_enabled_here_says_so_in_its_invoice(redis_url: str) -> None:
    # B shares A's Redis but not its providers: the event reaches B's subscriber, and its
    # `invoice`, which B cannot read, is a coded error (it was an unexpected KeyError).
    settings = GatewaySettings(providers=("other",), redis_url=redis_url, heartbeat_seconds=0.2)
    b_app = create_app(settings=settings, providers={"other": Other()})
    with (
        served(redis_url=redis_url) as (a, _),
        ServedApp(b_app, lifespan=True) as b,
        SseSubscription(b.url, EVENTS) as on_b,
    ):
        time.sleep(0.3)
        deliver(a, {"id": "d1", "event": "paid", "invoice": "inv-1"})
        (payload,) = on_b.payloads(1)
    event = payload["data"]["invoiceEvents"]
    assert (event["provider"], event["type"], event["invoice"]) == ("ledger", "PAID", None)
    (error,) = payload["errors"]
    assert error["extensions"]["code"] == "UNKNOWN_PROVIDER"
    assert error["path"] == ["invoiceEvents", "invoice"]
