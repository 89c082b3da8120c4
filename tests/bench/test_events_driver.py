"""The `events` scenario's driver (`python -m bench.events_driver`), run as the harness runs it
(a process of its own, the spec on stdin, `warm`, `go`, `done`), against a real gateway and
against a gateway that loses, repeats and reorders deliveries: what it counts. No timing is
asserted; the durations are short and every wait is bounded."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import json
import os
import subprocess
import sys
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bench.events_driver import callback_body, global_invoice_id
from bench.measurement import read_event
from bench.scenarios import EVENTS, EVENTS_INVOICE
from bench.stack import Stack
from gateway.app import create_app
from gateway.callers import Scope, parse_api_keys
from gateway.ids import encode_id
from gateway.settings import GatewaySettings
from gateway.wiring import load_factory, load_sandbox
from providers.models import InvoiceEventType
from providers.xendit.settings import XenditSettings
from providers.xendit.webhooks import read_callback
from tests.gateway.events.streams import SseSubscription
from tests.serving import ServedApp

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "bench-callback-token-0123456789"
WRITER = "bench-writer-0123456789abcdef"
READER = "bench-reader-0123456789abcdef"
EVENT_WAIT_S = 40.0  # the driver's own waits are shorter (spec below)


def test_a_driver_callback_is_a_valid_paid_xendit_callback_about_its_invoice() -> None:
    now = dt.datetime.now(dt.UTC)
    body = callback_body("0123456789abcdef01234567", now)
    (event,) = read_callback(SecretStr(TOKEN), {"x-callback-token": TOKEN}, body, received_at=now)
    assert event.type is InvoiceEventType.PAID
    assert event.invoice_id == "0123456789abcdef01234567"
    # What the driver expects in `invoiceId` is what the gateway writes.
    assert global_invoice_id("0123456789abcdef01234567") == encode_id(
        "Invoice", "xendit", "0123456789abcdef01234567"
    )
    assert global_invoice_id("a") == encode_id("Invoice", "xendit", "a")  # padding dropped


def run_driver(
    url: str, *, subscribers: int, concurrency: int, duration_s: float, query: str = EVENTS
) -> Any:
    """The driver's `done` result, driven through its protocol as the harness drives it."""
    spec = {
        "url": url,
        "query": query,
        "subscriber_key": READER,
        "callback_token": TOKEN,
        "subscribers": subscribers,
        "concurrency": concurrency,
        "warmup_s": 0.0,
        "duration_s": duration_s,
        "request_timeout_s": 10.0,
        "subscribe_timeout_s": 10.0,
        "settle_s": 2.0,
    }
    with subprocess.Popen(
        [sys.executable, "-m", "bench.events_driver"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ) as process:
        assert process.stdin is not None
        buffer = bytearray()
        try:
            process.stdin.write(json.dumps(spec).encode() + b"\n")
            process.stdin.flush()
            warm = read_event(process, buffer, EVENT_WAIT_S)
            assert warm["event"] == "warm", warm
            process.stdin.write(b"go\n")
            process.stdin.flush()
            done = read_event(process, buffer, EVENT_WAIT_S)
            assert done["event"] == "done", done
            assert process.wait(timeout=EVENT_WAIT_S) == 0
            return done["result"]
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


@contextlib.contextmanager
def gateway_before_a_xendit_sandbox(**options: Any) -> Iterator[tuple[str, str]]:
    """The gateway as the bench's stack runs it (Xendit with a key, so real, pointed at a
    sandbox server; a callback token; a write and a read key), with `options` for its
    settings: (its URL, the sandbox's)."""
    entry = load_sandbox("xendit")
    assert entry is not None
    with ServedApp(entry.app()) as sandbox:
        environ = {
            "XENDIT_SECRET_KEY": entry.api_key,
            "XENDIT_BASE_URL": sandbox.url,
            "XENDIT_CALLBACK_TOKEN": TOKEN,
        }
        settings = GatewaySettings(
            providers=("xendit",),
            api_keys=SecretStr(f"writer:write:{WRITER},reader:read:{READER}"),
            **options,
        )
        app = create_app(settings=settings, providers={"xendit": load_factory("xendit")(environ)})
        with ServedApp(app, lifespan=True) as gateway:
            yield gateway.url, sandbox.url


@pytest.mark.parametrize(
    ("query", "reads_per_event", "options"),
    [
        (EVENTS, 0, {}),
        # No limit on a subscription's upstream calls: the default ends it after 300 events
        # with `invoice` (test_a_subscriber_with_invoice_outlives_the_upstream_call_limit).
        (EVENTS_INVOICE, 1, {"max_upstream_calls": 0}),
    ],
    ids=["plain", "with-invoice"],
)
def test_every_acknowledged_webhook_reaches_every_subscriber_of_a_real_gateway(
    query: str, reads_per_event: int, options: dict[str, Any]
) -> None:
    with gateway_before_a_xendit_sandbox(**options) as (url, sandbox):
        result = run_driver(url, subscribers=4, concurrency=2, duration_s=1.0, query=query)
        stats = httpx.get(f"{sandbox}/_sandbox/stats", timeout=10).json()
    events = result["events"]
    assert result["error_samples"] == []
    assert result["errors"] == 0
    assert events["webhooks"] > 0
    assert result["requests"] == events["webhooks"]  # every POST acknowledged
    assert events["subscribers"] == 4
    assert events["deliveries"] == events["deliveries_expected"] == 4 * events["webhooks"]
    assert (events["missing"], events["duplicated"], events["out_of_order"]) == (0, 0, 0)
    assert events["subscriptions_ended"] == 0
    latency = events["delivery_latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"]
    assert result["latency_ms"]["p50"] > 0
    # Without `invoice`, no upstream call; with it, one read per event (the probes' too) for
    # all four subscribers.
    events_sent = events["webhooks"] + events["probes"]
    assert stats["requests_total"] == reads_per_event * events_sent


# Found by the events-invoice scenario: a subscription was one operation for
# GATEWAY_MAX_UPSTREAM_CALLS, so its invoice reads added up over its life and it ended with
# TOO_MANY_UPSTREAM_CALLS (fixed in gateway/events/hub.py: the read is no operation's).
def test_a_subscriber_with_invoice_outlives_the_upstream_call_limit() -> None:
    limit = 20  # GATEWAY_MAX_UPSTREAM_CALLS, small to keep the test short; 300 by default
    with (
        gateway_before_a_xendit_sandbox(max_upstream_calls=limit, heartbeat_seconds=0.2) as (
            url,
            _,
        ),
        SseSubscription(url, EVENTS_INVOICE, authorization=f"Bearer {READER}") as subscriber,
    ):
        now = dt.datetime.now(dt.UTC)
        headers = {"x-callback-token": TOKEN, "content-type": "application/json"}
        # Each call of the loop waits for its event, so the subscription is live throughout.
        for number in range(limit + 5):
            native = f"{number:024x}"
            answer = httpx.post(
                f"{url}/webhooks/xendit",
                content=callback_body(native, now),
                headers=headers,
                timeout=10,
            )
            assert answer.status_code == 200
            name, payload = subscriber.next()
            assert name == "next", (name, payload)
            assert "errors" not in payload, payload  # the 21st: TOO_MANY_UPSTREAM_CALLS
            assert payload["data"]["invoiceEvents"]["invoiceId"] == global_invoice_id(native)


# -- a gateway that gets deliveries wrong ------------------------------------------------------


class Faulty:
    """Acknowledges every callback but the 8th after the first (503), and streams each to every
    subscriber over SSE, except that the first subscriber to connect never gets the 5th, the
    second gets it twice, the third gets the 6th before the 5th, the fourth's stream ends
    after the 7th, and the fifth is sent something that is not JSON after the 7th. The first
    callback is the driver's probe: all get it."""

    def __init__(self) -> None:
        self.queues: list[asyncio.Queue[bytes | None]] = []
        self.posted = 0
        self.held = b""

    async def webhook(self, request: Request) -> Response:
        body = msgspec.json.decode(await request.body())
        if request.headers.get("x-callback-token") != TOKEN:
            return JSONResponse({"errors": [{"message": "no"}]}, status_code=401)
        number = self.posted
        self.posted += 1
        if number == 8:
            return JSONResponse({"errors": [{"message": "later"}]}, status_code=503)
        event = {
            "id": f"cursor-{number}",
            "type": "PAID",
            "invoiceId": encode_id("Invoice", "xendit", body["id"]),
            "receivedAt": dt.datetime.now(dt.UTC).isoformat(),
        }
        frame = b"event: next\r\ndata: %s\r\n\r\n" % msgspec.json.encode(
            {"data": {"invoiceEvents": event}}
        )
        for subscriber, queue in enumerate(self.queues):
            self._deliver(subscriber, number, frame, queue)
        return JSONResponse({"recorded": 1, "duplicates": 0})

    def _deliver(
        self, subscriber: int, number: int, frame: bytes, queue: asyncio.Queue[bytes | None]
    ) -> None:
        if subscriber == 0 and number == 5:
            return  # lost
        if subscriber == 1 and number == 5:
            queue.put_nowait(frame)  # and again below
        if subscriber == 2 and number == 5:
            self.held = frame  # sent after the 6th
            return
        queue.put_nowait(frame)
        if subscriber == 2 and number == 6:
            queue.put_nowait(self.held)
        if subscriber == 3 and number == 7:
            queue.put_nowait(b"event: complete\r\ndata: \r\n\r\n")
            queue.put_nowait(None)
        if subscriber == 4 and number == 7:
            queue.put_nowait(b"event: next\r\ndata: {not json\r\n\r\n")

    async def subscribe(self, request: Request) -> Response:
        assert request.headers["authorization"] == f"Bearer {READER}"
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.queues.append(queue)

        async def stream() -> AsyncIterator[bytes]:
            while (frame := await queue.get()) is not None:
                yield frame

        return StreamingResponse(stream(), media_type="text/event-stream")


def test_lost_repeated_and_reordered_deliveries_a_refused_webhook_and_an_ended_stream_count() -> (
    None
):
    faulty = Faulty()
    app = Starlette(
        routes=[
            Route("/webhooks/xendit", faulty.webhook, methods=["POST"]),
            Route("/graphql", faulty.subscribe, methods=["POST"]),
        ]
    )
    with ServedApp(app) as served:
        result = run_driver(served.url, subscribers=5, concurrency=1, duration_s=0.5)
    events = result["events"]
    acknowledged = events["webhooks"]
    assert faulty.posted >= 10  # the faults above all happened
    assert acknowledged == faulty.posted - 2  # neither the probe nor the refused 8th count
    assert result["requests"] == faulty.posted - 1  # every timed POST, the refused one too
    assert events["webhook_errors"] == 1
    # The fourth and fifth subscribers got the timed callbacks 1 to 7, all acknowledged, then
    # the stream ended, or the driver gave up on it: each lacks every later one.
    assert events["subscriptions_ended"] == 2
    lost_by_the_ended = 2 * (acknowledged - 7)
    assert events["missing"] == 1 + lost_by_the_ended
    assert events["duplicated"] == 1
    assert events["out_of_order"] == 1
    assert events["deliveries"] == 5 * acknowledged - events["missing"]
    # The webhook, the lost, the duplicate, the reordered, the two ended.
    assert result["errors"] == 1 + events["missing"] + 1 + 1 + 2
    assert result["error_samples"]  # described, a few


@pytest.mark.parametrize("workers", ["2"])
def test_events_with_workers_but_no_shared_log_is_refused_before_anything_starts(
    workers: str,
) -> None:
    run_py = str(ROOT / "bench" / "run.py")
    finished = subprocess.run(
        [sys.executable, run_py, "--scenario", "events", "--workers", workers, "--duration", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 2
    assert "GATEWAY_REDIS_URL" in finished.stderr
    assert "run.py: events x" not in finished.stderr  # nothing measured


def test_the_stacks_gateway_takes_the_drivers_callbacks_and_subscribers(tmp_path: Path) -> None:
    stack = Stack(
        log_dir=tmp_path,
        latency_ms=0,
        workers=1,
        gateway_cpus=None,
        other_cpus=None,
        subscribers=150,
    )
    stack.close()  # nothing was started; its control client is closed
    environ = stack.gateway_environ({"flexprice": "http://127.0.0.1:9", "xendit": "http://x:9"})
    settings = GatewaySettings.from_environ(environ)
    assert settings.api_keys is not None
    keys = parse_api_keys(settings.api_keys.get_secret_value())
    subscriber = keys.identify(Headers({"authorization": f"Bearer {stack.subscriber_key}"}))
    assert subscriber is not None
    assert subscriber.scope is Scope.READ  # a frontend's kind of key
    assert settings.max_subscriptions_per_caller >= 150
    # Xendit reads the token from the same environment, and it authenticates the callbacks.
    token = XenditSettings.from_environ(environ).callback_token
    now = dt.datetime.now(dt.UTC)
    headers = {"x-callback-token": stack.callback_token}
    (event,) = read_callback(token, headers, callback_body("0a1b", now), received_at=now)
    assert event.invoice_id == "0a1b"


#: The allocations of this test's own HTTP clients (their read buffers, queues, JSON) are
#: not the gateway's.
NOT_THE_TESTS_CLIENTS = [
    tracemalloc.Filter(False, pattern)
    for pattern in ("*/httpx/*", "*/httpcore/*", "*/h11/*", "*/queue.py", "*/json/*", "*/ssl.py")
]


# Found by the events scenario: graphql-core's build_per_event_executor copies the
# subscription's executor shallowly, so its memos (_relevant_sub_fields, and
# PlannedExecutor._local) were shared by every event and kept each event's field sets, about
# 2 kB a delivery, until the subscription ended (fixed in gateway/schema/plan/executor.py).
def test_a_subscription_keeps_no_memory_per_event_it_delivered() -> None:
    subscribers, events = 10, 120
    headers = {"x-callback-token": TOKEN, "content-type": "application/json"}
    now = dt.datetime.now(dt.UTC)

    def deliver(first: int, count: int, streams: list[SseSubscription]) -> None:
        for number in range(first, first + count):
            body = callback_body(f"{number:024x}", now)
            answer = httpx.post(f"{url}/webhooks/xendit", content=body, headers=headers, timeout=10)
            assert answer.status_code == 200
        for stream in streams:
            assert len(stream.payloads(count)) == count

    with (
        gateway_before_a_xendit_sandbox(heartbeat_seconds=0.2) as (url, _),
        contextlib.ExitStack() as stack,
    ):
        streams = [
            stack.enter_context(SseSubscription(url, EVENTS, authorization=f"Bearer {READER}"))
            for _ in range(subscribers)
        ]
        deliver(0, 20, streams)  # every subscription live, first-use caches filled
        tracemalloc.start()
        try:
            gc.collect()
            before = tracemalloc.take_snapshot().filter_traces(NOT_THE_TESTS_CLIENTS)
            deliver(20, events, streams)
            gc.collect()
            after = tracemalloc.take_snapshot().filter_traces(NOT_THE_TESTS_CLIENTS)
        finally:
            tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    # The event log keeps each event for its retention: its body and record, ~1.7 kB once per
    # event, ~170 B a delivery here. Beyond that nothing should stay per delivery; the gateway
    # keeps ~2 kB (below 500 B with fresh memos for each event's executor).
    kept = grown / (events * subscribers)
    assert kept < 500, f"{kept:.0f} B kept a delivery"
