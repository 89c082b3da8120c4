"""The driver of the `events` scenario: `python -m bench.events_driver`, a process of its own, on
uvloop with aiohttp, speaking `bench.loadgen`'s protocol (a spec line in; `warm`, then `go`
from the harness, then `done` out).

It opens `subscribers` GraphQL-over-SSE subscriptions to `invoiceEvents` (`POST /graphql` with
`Accept: text/event-stream`, a `read` key) and proves each is live by delivery: probe callbacks
are posted until every subscriber has received one (the gateway starts a subscription at the
log's newest event, so a subscriber that has seen a probe sees everything after it). Then
`concurrency` senders post Xendit invoice callbacks to `/webhooks/xendit` back to back, each a
new one (an invoice id of its own), for `warmup_s` (uncounted) and, after `go`, `duration_s`.
After each phase it waits until every subscriber has received every callback the gateway
acknowledged, for as long as deliveries keep arriving (a backlog is late, not missing), giving
up `settle_s` after the last one arrived (at most `SETTLE_MOST_S` after the last POST); what
has not arrived by then is missing.

Counted in the timed phase: webhooks acknowledged (200 `{"recorded": 1, ...}`) and the POSTs'
latency; errors (any other answer, a transport failure or timeout); deliveries, which must be
acknowledged webhooks x subscribers: a missing, duplicated or out-of-order delivery (a sender's
callbacks are sent one after the other, each acknowledged, so every subscriber must see them in
that order), a delivery with GraphQL errors or of no callback of this run, and a subscription
that ended early are errors too. Delivery latency is the subscriber's `time.time()` when it read
the event minus the event's `receivedAt` (the gateway's clock: the same host, the same clock).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import json
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import msgspec
import uvloop

from bench.loadgen import ERROR_SAMPLES, percentile

__all__ = ["callback_body", "global_invoice_id"]

PROBE, WARM, TIMED = 0, 1, 2
#: Between probe callbacks while waiting for every subscription to be live.
PROBE_EVERY_S = 0.2
#: How often a phase's deliveries are checked for completeness while settling.
SETTLE_POLL_S = 0.05
#: The longest a phase waits for its deliveries after its last POST, however they progress.
SETTLE_MOST_S = 120.0
#: Closing the subscriptions and sessions at the end.
CLOSE_TIMEOUT_S = 10.0


def global_invoice_id(native_id: str) -> str:
    """The gateway's global ID of Xendit invoice `native_id` (`gateway.ids.encode_id`: unpadded
    URL-safe base64 of `Invoice:xendit:<id>`), which an event's `invoiceId` is."""
    raw = f"Invoice:xendit:{native_id}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def callback_body(native_id: str, at: dt.datetime) -> bytes:
    """A Xendit invoice callback (every field its `InvoiceCallback` model requires, and those a
    paid one carries): `native_id` PAID at `at`."""
    stamp = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return msgspec.json.encode(
        {
            "id": native_id,
            "external_id": f"bench-{native_id}",
            "user_id": "5848fdf860053555135587e7",
            "status": "PAID",
            "merchant_name": "Benchmark",
            "amount": 150000,
            "paid_amount": 150000,
            "currency": "IDR",
            "payer_email": "payer@example.com",
            "description": "Benchmark callback",
            "payment_method": "BANK_TRANSFER",
            "payment_channel": "BCA",
            "created": stamp,
            "updated": stamp,
            "paid_at": stamp,
        }
    )


@dataclass
class Problems:
    """Errors by kind, and the first few described."""

    counts: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)

    def add(self, kind: str, what: str, count: int = 1) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + count
        if len(self.samples) < ERROR_SAMPLES:
            self.samples.append(f"{kind}: {what}"[:500])


@dataclass
class Subscriber:
    number: int
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    probed: bool = False
    #: Why its stream ended before the driver closed it (None: it is open).
    ended: str | None = None
    #: Invoice global IDs received, per phase.
    got: tuple[set[str], set[str], set[str]] = field(default_factory=lambda: (set(), set(), set()))
    #: The last sequence number received from each sender, per phase (the order check).
    last_seq: dict[tuple[int, int], int] = field(default_factory=dict)


@dataclass
class Phase:
    """What one sending phase did."""

    code: int
    acked: list[str] = field(default_factory=list)
    post_latencies_ns: list[int] = field(default_factory=list)
    webhook_errors: int = 0
    started: float = 0.0
    ended: float = 0.0


class EventsDriver:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.base: str = spec["url"]
        self.subscribers = [Subscriber(n) for n in range(spec["subscribers"])]
        self.concurrency: int = spec["concurrency"]
        self.query: str = spec["query"]
        self.subscribe_headers = {
            "authorization": f"Bearer {spec['subscriber_key']}",
            "accept": "text/event-stream",
            "content-type": "application/json",
        }
        self.webhook_headers = {
            "x-callback-token": spec["callback_token"],
            "content-type": "application/json",
        }
        self.timeout = aiohttp.ClientTimeout(total=spec["request_timeout_s"])
        self.subscribe_timeout_s: float = spec["subscribe_timeout_s"]
        self.settle_s: float = spec["settle_s"]
        #: Every callback sent: invoice global ID -> (phase, sender, sequence number).
        self.sent: dict[str, tuple[int, int, int]] = {}
        self._tag = secrets.token_hex(4)  # this run's invoice ids: 24 hex digits, as Xendit's
        self._count = 0
        self.problems = Problems()
        self.delivery_latencies_s: list[float] = []
        self._received_at: dict[str, float] = {}
        self._decode: Callable[[bytes], Any] = msgspec.json.decode
        #: The callbacks that proved the subscriptions live.
        self.probes = Phase(PROBE)

    # -- subscribers ---------------------------------------------------------------------

    async def listen(self, session: aiohttp.ClientSession, subscriber: Subscriber) -> None:
        body = json.dumps({"query": self.query}).encode()
        try:
            async with session.post(
                f"{self.base}/graphql", data=body, headers=self.subscribe_headers
            ) as response:
                kind = response.headers.get("content-type", "")
                if response.status != 200 or not kind.startswith("text/event-stream"):
                    answer = await response.read()
                    subscriber.ended = f"HTTP {response.status} {kind}: {answer[:300]!r}"
                    return
                subscriber.opened.set()
                buffer = b""
                async for chunk in response.content.iter_any():
                    now = time.time()
                    buffer += chunk
                    if b"\r" in buffer:
                        buffer = buffer.replace(b"\r\n", b"\n")
                    *blocks, buffer = buffer.split(b"\n\n")
                    for block in blocks:
                        self._event(subscriber, block, now)
                        if subscriber.ended is not None:
                            return
            subscriber.ended = "the stream ended"
        except (aiohttp.ClientError, TimeoutError) as exc:
            subscriber.ended = f"{type(exc).__name__}: {exc}"
        finally:
            subscriber.opened.set()

    def _event(self, subscriber: Subscriber, block: bytes, now: float) -> None:
        name, data = b"", b""
        for line in block.split(b"\n"):
            if line.startswith(b"event:"):
                name = line[6:].strip()
            elif line.startswith(b"data:"):
                data = line[5:].strip()
        if not name:  # a heartbeat (a comment)
            return
        if name != b"next" or not data:
            subscriber.ended = f"an SSE {name.decode(errors='replace')!r} event"
            return
        try:
            payload = self._decode(data)
            event = (payload.get("data") or {}).get("invoiceEvents")
        except (msgspec.DecodeError, AttributeError):  # not JSON, or not an object's
            payload, event = {}, None
        if payload.get("errors") or not isinstance(event, dict):
            subscriber.ended = f"a payload with errors: {data[:300]!r}"
            return
        gid = event["invoiceId"]
        origin = self.sent.get(gid)
        if origin is None:
            self.problems.add("unknown delivery", f"{event!r}")
            return
        phase, sender, seq = origin
        if phase == PROBE:
            subscriber.probed = True
            return
        got = subscriber.got[phase]
        if gid in got:
            if phase == TIMED:
                self.problems.add("duplicated delivery", f"subscriber {subscriber.number}: {gid}")
            return
        got.add(gid)
        last = subscriber.last_seq.get((phase, sender), -1)
        if seq < last and phase == TIMED:
            self.problems.add(
                "out-of-order delivery",
                f"subscriber {subscriber.number}: sender {sender}'s #{seq} after #{last}",
            )
        subscriber.last_seq[(phase, sender)] = max(seq, last)
        if phase == TIMED:
            stamp = event["receivedAt"]
            received = self._received_at.get(stamp)
            if received is None:
                received = dt.datetime.fromisoformat(stamp).timestamp()
                self._received_at[stamp] = received
            self.delivery_latencies_s.append(now - received)

    # -- senders -------------------------------------------------------------------------

    def _next_callback(self, phase: int, sender: int, seq: int) -> tuple[str, bytes]:
        """A new callback (its invoice's global ID, its body), known before it is sent: its
        deliveries may arrive before its POST's answer."""
        self._count += 1
        native = f"{self._tag}{self._count:016x}"
        gid = global_invoice_id(native)
        self.sent[gid] = (phase, sender, seq)
        return gid, callback_body(native, dt.datetime.now(dt.UTC))

    async def post(
        self, session: aiohttp.ClientSession, phase: Phase, sender: int, seq: int
    ) -> None:
        gid, body = self._next_callback(phase.code, sender, seq)
        started = time.perf_counter_ns()
        try:
            async with session.post(
                f"{self.base}/webhooks/xendit", data=body, headers=self.webhook_headers
            ) as response:
                answer = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            phase.post_latencies_ns.append(time.perf_counter_ns() - started)
            phase.webhook_errors += 1
            self.problems.add("webhook", f"{type(exc).__name__}: {exc}")
            return
        phase.post_latencies_ns.append(time.perf_counter_ns() - started)
        recorded = None
        if status == 200:
            with contextlib.suppress(msgspec.DecodeError, AttributeError):
                recorded = self._decode(answer).get("recorded")
        if recorded == 1:
            phase.acked.append(gid)
        else:
            phase.webhook_errors += 1
            self.problems.add("webhook", f"HTTP {status}: {answer[:300]!r}")

    async def send(self, session: aiohttp.ClientSession, code: int, seconds: float) -> Phase:
        """`concurrency` senders, each posting callbacks back to back for `seconds`."""
        phase = Phase(code)

        async def sender(number: int) -> None:
            seq = 0
            while time.perf_counter() < until:
                await self.post(session, phase, number, seq)
                seq += 1

        phase.started = time.perf_counter()
        until = phase.started + seconds
        await asyncio.gather(*(sender(n) for n in range(self.concurrency)))
        phase.ended = time.perf_counter()
        return phase

    async def await_live(self, session: aiohttp.ClientSession) -> str | None:
        """Wait until every subscription is open and has received a probe; None, or why not."""
        deadline = time.perf_counter() + self.subscribe_timeout_s
        probe = self.probes
        for subscriber in self.subscribers:
            left = deadline - time.perf_counter()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(subscriber.opened.wait(), max(left, 0.001))
            if subscriber.ended is not None:
                return f"subscriber {subscriber.number} was refused: {subscriber.ended}"
        seq = 0
        while not all(s.probed for s in self.subscribers):
            ended = [s for s in self.subscribers if s.ended is not None]
            if ended:
                return f"subscriber {ended[0].number} ended: {ended[0].ended}"
            if time.perf_counter() > deadline:
                live = sum(s.probed for s in self.subscribers)
                return (
                    f"only {live} of {len(self.subscribers)} subscriptions received an event "
                    f"within {self.subscribe_timeout_s:g} s"
                )
            await self.post(session, probe, 0, seq)
            if probe.webhook_errors:
                return f"a probe callback failed: {self.problems.samples[-1]}"
            seq += 1
            await asyncio.sleep(PROBE_EVERY_S)
        return None

    async def settle(self, phase: Phase) -> None:
        """Wait until every live subscriber has received every acknowledged callback of the
        phase, as long as deliveries keep arriving: a backlog the gateway is still working off
        is late (its latency says how late), not missing. Gives up `settle_s` after the last
        delivery that arrived, or `SETTLE_MOST_S` after the phase's last POST."""
        expected = set(phase.acked)
        progress, arrived = phase.ended, -1
        while True:
            now = time.perf_counter()
            if now - progress > self.settle_s or now - phase.ended > SETTLE_MOST_S:
                return
            if all(
                s.ended is not None
                or (len(s.got[phase.code]) >= len(expected) and expected <= s.got[phase.code])
                for s in self.subscribers
            ):
                return
            total = sum(len(s.got[phase.code]) for s in self.subscribers)
            if total > arrived:
                progress, arrived = now, total
            await asyncio.sleep(SETTLE_POLL_S)

    def summary(self, phase: Phase) -> dict[str, Any]:
        expected = set(phase.acked)
        deliveries = missing = unexpected = 0
        for subscriber in self.subscribers:
            got = subscriber.got[TIMED]
            deliveries += len(got & expected)
            unexpected += len(got - expected)
            lost = len(expected - got)
            if lost:
                missing += lost
                self.problems.add(
                    "missing delivery",
                    f"subscriber {subscriber.number} lacks {lost} of {len(expected)}"
                    + (f" (its stream: {subscriber.ended})" if subscriber.ended else ""),
                    count=lost,
                )
            if subscriber.ended is not None:
                self.problems.add("subscription ended", f"{subscriber.number}: {subscriber.ended}")
        elapsed = phase.ended - phase.started
        posts = sorted(ns / 1e6 for ns in phase.post_latencies_ns)
        delays = sorted(s * 1000 for s in self.delivery_latencies_s)
        webhooks = len(phase.acked)
        errors = phase.webhook_errors + sum(
            count for kind, count in self.problems.counts.items() if kind != "webhook"
        )
        return {
            # `requests`, `rps` and `latency_ms` are the webhooks' POSTs, as in every scenario.
            "requests": len(posts),
            "errors": errors,
            "elapsed_s": elapsed,
            "rps": webhooks / elapsed if elapsed > 0 else 0.0,
            "latency_ms": {
                "p50": percentile(posts, 50),
                "p95": percentile(posts, 95),
                "p99": percentile(posts, 99),
            },
            "events": {
                "subscribers": len(self.subscribers),
                "probes": len(self.probes.acked),
                "webhooks": webhooks,
                "webhook_errors": phase.webhook_errors,
                "deliveries": deliveries,
                "deliveries_expected": webhooks * len(self.subscribers),
                "missing": missing,
                "duplicated": self.problems.counts.get("duplicated delivery", 0),
                "out_of_order": self.problems.counts.get("out-of-order delivery", 0),
                "unknown": self.problems.counts.get("unknown delivery", 0),
                # Deliveries of callbacks the gateway recorded but did not acknowledge (a
                # POST that timed out): not errors of their own, the POST's is counted.
                "unacknowledged_delivered": unexpected,
                "subscriptions_ended": sum(s.ended is not None for s in self.subscribers),
                "delivery_latency_ms": {
                    "p50": percentile(delays, 50),
                    "p95": percentile(delays, 95),
                    "p99": percentile(delays, 99),
                    "max": delays[-1] if delays else None,
                },
            },
            "error_samples": self.problems.samples,
        }


def _say(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


async def _drive(spec: dict[str, Any]) -> None:
    driver = EventsDriver(spec)
    # Subscriptions hold their connections: no pool limit (aiohttp's default is 100).
    listening = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=spec["request_timeout_s"]),
    )
    sending = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=driver.concurrency), timeout=driver.timeout
    )
    listeners = [
        asyncio.create_task(driver.listen(listening, subscriber))
        for subscriber in driver.subscribers
    ]
    try:
        failure = await driver.await_live(sending)
        if failure is not None:
            _say({"event": "failed", "error": failure})
            return
        warm = await driver.send(sending, WARM, spec["warmup_s"])
        await driver.settle(warm)
        _say(
            {
                "event": "warm",
                "requests": len(warm.post_latencies_ns),
                "errors": warm.webhook_errors,
            }
        )
        # The subscriptions keep reading meanwhile: stdin is read off the loop.
        go = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        if go.strip() != "go":
            return
        timed = await driver.send(sending, TIMED, spec["duration_s"])
        await driver.settle(timed)
        result = driver.summary(timed)
        # The harness's counters span the deliveries after the last POST too.
        counted = time.perf_counter() - timed.started
        result["counted_s"] = counted
        # What the subscribers took in, whatever the senders offered: above the webhooks' rate
        # x subscribers the gateway keeps up; below it, deliveries lag ever further behind.
        result["events"]["deliveries_per_s"] = result["events"]["deliveries"] / counted
        _say({"event": "done", "result": result})
    finally:
        for task in listeners:
            task.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*listeners, return_exceptions=True), CLOSE_TIMEOUT_S
            )
        await listening.close()
        await sending.close()


def main() -> int:
    spec = json.loads(sys.stdin.readline())
    uvloop.run(_drive(spec))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
