"""Events across gateway processes (issue 13's checks): two `invoice-gateway serve` processes
share one Redis and one pair of standalone sandboxes, configured as real providers would be
(their published webhook secret and callback token). The sandboxes send their webhooks to
gateway A; subscribers are on gateway B. B's subscriber sees every event once, in the order it
happened; one that drops and resumes with `after` misses nothing; and when Redis is killed
mid-run (it fsyncs every write, as docs/events.md advises), A answers the sandboxes 503, they
retry, and once Redis is back every event reaches B, once, in order."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandboxes.flexprice.webhooks import DEFAULT_WEBHOOK_SECRET
from sandboxes.xendit.callbacks import DEFAULT_CALLBACK_TOKEN
from tests.gateway.events.streams import SseSubscription
from tests.processes import clean_env, free_port, running
from tests.redis_server import DurableRedis, durable_redis_server

READER = "reader-0123456789abcdef0123"
WRITER = "writer-0123456789abcdef0123"
FLEXPRICE_KEY = "sk_sandbox_flexprice"
XENDIT_KEY = "xnd_development_sandbox_key"
#: The sandboxes retry a refused delivery after 0.2 s, then up to 2 s apart, for ~20 s.
RETRIES_MS = [200, 400, 800, 1600, 2000, 2000, 2000, 2000, 2000, 2000]
EVENTS = """subscription($after: ID) { invoiceEvents(after: $after) {
  id type provider providerEvent invoiceId invoice { providerId status } } }"""
WAIT_S = 30.0


@dataclass
class Cluster:
    a: str
    b: str
    sandboxes: dict[str, str]
    redis: DurableRedis


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A durable Redis, both sandboxes, gateways A and B over them; all stopped afterwards."""
    with contextlib.ExitStack() as stack:
        redis = stack.enter_context(durable_redis_server(tmp_path))
        sandboxes = {}
        for name in ("flexprice", "xendit"):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            log = tmp_path / f"{name}.log"
            args = ["sandbox", name, "--port", str(port)]
            stack.enter_context(running(args, clean_env(), f"{url}/_sandbox/stats", log=log))
            sandboxes[name] = url
        env = clean_env(
            FLEXPRICE_API_KEY=FLEXPRICE_KEY,
            FLEXPRICE_BASE_URL=f"{sandboxes['flexprice']}/v1",
            FLEXPRICE_WEBHOOK_SECRET=DEFAULT_WEBHOOK_SECRET,
            XENDIT_SECRET_KEY=XENDIT_KEY,
            XENDIT_BASE_URL=sandboxes["xendit"],
            XENDIT_CALLBACK_TOKEN=DEFAULT_CALLBACK_TOKEN,
            GATEWAY_API_KEYS=f"app:read:{READER},ops:write:{WRITER}",
            GATEWAY_REDIS_URL=redis.url,
            GATEWAY_HEARTBEAT_SECONDS="0.5",
        )
        gateways = []
        for n in range(2):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            log = tmp_path / f"gateway-{n}.log"
            stack.enter_context(
                running(["serve", "--port", str(port)], env, f"{url}/healthz", log=log)
            )
            gateways.append(url)
        a, b = gateways
        for name, url in sandboxes.items():
            registered = httpx.post(
                f"{url}/_sandbox/webhooks",
                json={"url": f"{a}/webhooks/{name}", "retry_schedule_ms": RETRIES_MS},
                timeout=10,
            )
            assert registered.status_code == 201, registered.text
        yield Cluster(a=a, b=b, sandboxes=sandboxes, redis=redis)


def open_xendit_invoices(cluster: Cluster, count: int) -> list[str]:
    query = """query($n: Int) { invoices(first: $n, filter: {provider: ["xendit"], status: [OPEN]})
        { edges { node { providerId } } } }"""
    answer = httpx.post(
        f"{cluster.b}/graphql",
        json={"query": query, "variables": {"n": count}},
        headers={"authorization": f"Bearer {READER}"},
        timeout=30,
    ).json()
    ids = [edge["node"]["providerId"] for edge in answer["data"]["invoices"]["edges"]]
    assert len(ids) == count
    return ids


def pay(cluster: Cluster, invoice_id: str) -> None:
    paid = httpx.post(
        f"{cluster.sandboxes['xendit']}/_sandbox/invoices/{invoice_id}/pay", json={}, timeout=10
    )
    assert paid.status_code == 200, paid.text


def subscribe(cluster: Cluster, after: str | None = None) -> SseSubscription:
    variables = {} if after is None else {"after": after}
    return SseSubscription(cluster.b, EVENTS, variables, authorization=f"Bearer {READER}")


def received(subscription: SseSubscription, count: int) -> list[dict[str, Any]]:
    found = []
    for _ in range(count):
        name, payload = subscription.next(WAIT_S)
        assert name == "next", (name, payload)
        assert "errors" not in payload, payload
        found.append(payload["data"]["invoiceEvents"])
    return found


def paid_ids(events: list[dict[str, Any]]) -> list[str]:
    for event in events:
        assert (event["provider"], event["type"]) == ("xendit", "PAID"), event
        assert event["invoice"]["status"] == "PAID"  # read by B from the provider
    return [event["invoice"]["providerId"] for event in events]


def test_a_subscriber_on_b_sees_the_events_received_by_a_once_in_order(
    cluster: Cluster,
) -> None:
    ids = open_xendit_invoices(cluster, 6)
    with subscribe(cluster) as on_b:
        time.sleep(0.5)
        for invoice_id in ids:
            pay(cluster, invoice_id)
        events = received(on_b, 6)
        assert on_b.nothing_more(1.0)
    assert paid_ids(events) == ids
    assert len({event["id"] for event in events}) == 6


def test_a_subscriber_that_drops_and_resumes_with_after_misses_nothing(cluster: Cluster) -> None:
    ids = open_xendit_invoices(cluster, 6)
    with subscribe(cluster) as first:
        time.sleep(0.5)
        for invoice_id in ids[:2]:
            pay(cluster, invoice_id)
        seen = received(first, 2)
    for invoice_id in ids[2:]:  # while nobody listens
        pay(cluster, invoice_id)
    time.sleep(1.0)
    with subscribe(cluster, after=seen[-1]["id"]) as resumed:
        rest = received(resumed, 4)
        assert resumed.nothing_more(1.0)
    assert paid_ids(seen + rest) == ids


def deliveries(cluster: Cluster) -> list[dict[str, Any]]:
    log = httpx.get(f"{cluster.sandboxes['xendit']}/_sandbox/webhooks", timeout=10).json()
    found: list[dict[str, Any]] = log["deliveries"]
    return found


def test_redis_restarting_mid_run_loses_nothing_acknowledged(cluster: Cluster) -> None:
    ids = open_xendit_invoices(cluster, 6)
    with subscribe(cluster) as on_b:
        time.sleep(0.5)
        for invoice_id in ids[:2]:
            pay(cluster, invoice_id)
        before = received(on_b, 2)
        cluster.redis.kill()
        for invoice_id in ids[2:4]:
            pay(cluster, invoice_id)
        # A could not record them: it answered 503, and the sandbox is retrying.
        deadline = time.monotonic() + WAIT_S
        while not any(d["last_status"] == 503 for d in deliveries(cluster)):
            assert time.monotonic() < deadline, deliveries(cluster)
            time.sleep(0.1)
        cluster.redis.start()
        for invoice_id in ids[4:]:
            pay(cluster, invoice_id)
        after = received(on_b, 4)
        assert on_b.nothing_more(1.0)
    assert paid_ids(before + after) == ids
    statuses = [d["status"] for d in deliveries(cluster)]
    assert statuses == ["delivered"] * 6, deliveries(cluster)
