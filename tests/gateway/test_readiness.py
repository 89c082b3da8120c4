"""/readyz: draining first on shutdown, degraded (not down) when one provider fails, the
guards' settings and state per provider, read from the environment, and what probes cost the
providers: one check each per GATEWAY_READINESS_CACHE_SECONDS, however many probes come."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import GatewaySettings
from gateway.wiring import wire_all
from tests.gateway.hostile import CONTROL, served_gateway

ENVIRON = {
    "FLEXPRICE_BREAKER_THRESHOLD": "1",
    "FLEXPRICE_BREAKER_RESET_SECONDS": "600",
    "FLEXPRICE_MAX_ATTEMPTS": "1",
    "FLEXPRICE_MAX_IN_FLIGHT": "3",
    "FLEXPRICE_QUEUE_TIMEOUT": "0.5",
    "XENDIT_MAX_RESPONSE_BYTES": "65536",
}


@pytest.fixture
async def app() -> AsyncIterator[Any]:
    providers = wire_all(("flexprice", "xendit"), ENVIRON)
    app = create_app(settings=GatewaySettings(), providers=providers)
    yield app
    for wired in providers.values():
        await wired.provider.aclose()


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
        yield c


async def test_the_guards_settings_come_from_the_environment(client: httpx.AsyncClient) -> None:
    body = (await client.get("/readyz")).json()
    flexprice = body["providers"]["flexprice"]["upstream"]
    assert flexprice["bulkhead"]["limit"] == 3
    assert flexprice["bulkhead"]["max_wait_seconds"] == 0.5
    assert flexprice["circuit_breaker"]["threshold"] == 1
    assert flexprice["http"]["max_attempts"] == 1
    xendit = body["providers"]["xendit"]["upstream"]
    assert xendit["http"]["max_response_bytes"] == 65536
    assert xendit["circuit_breaker"]["threshold"] == 5  # the default


async def test_a_failing_provider_is_degraded_not_down_and_the_other_still_serves(
    app: Any, client: httpx.AsyncClient
) -> None:
    flexprice = app.state.wiring["flexprice"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=flexprice.sandbox), base_url="http://sandbox"
    ) as sandbox:
        faults = await sandbox.put("/_sandbox/faults", json={"error_rate": 1.0, "status": 503})
        assert faults.status_code == 200
        before = (await sandbox.get("/_sandbox/stats")).json()

        query = {"query": "{ invoices(first: 3) { edges { node { id provider } } } }"}
        failing = (await client.post("/graphql", json=query)).json()
        assert [e["extensions"]["code"] for e in failing["errors"]] == ["PROVIDER_UNAVAILABLE"]
        # The next one fails fast: the circuit is open, FlexPrice is not called again.
        fast = (await client.post("/graphql", json=query)).json()
        assert [e["extensions"]["code"] for e in fast["errors"]] == ["PROVIDER_CIRCUIT_OPEN"]
        assert {e["node"]["provider"] for e in fast["data"]["invoices"]["edges"]} == {"xendit"}

        ready = await client.get("/readyz")
        after = (await sandbox.get("/_sandbox/stats")).json()
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "degraded"
    assert body["providers"]["flexprice"]["ready"] is False
    assert body["providers"]["flexprice"]["code"] == "PROVIDER_CIRCUIT_OPEN"
    breaker = body["providers"]["flexprice"]["upstream"]["circuit_breaker"]
    assert breaker["state"] == "open"
    assert breaker["times_opened"] == 1
    assert body["providers"]["xendit"]["ready"] is True
    # One call reached the sandbox: the first query's; neither the second nor /readyz did.
    assert after["requests_total"] - before["requests_total"] == 1


async def test_readyz_answers_503_while_draining(app: Any, client: httpx.AsyncClient) -> None:
    assert (await client.get("/readyz")).status_code == 200
    app.state.drain.begin()
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "draining"}
    # Everything else is still served while the load balancer takes notice.
    served = await client.post("/graphql", json={"query": "{ __typename }"})
    assert served.json()["data"] == {"__typename": "Query"}


async def _probe_readyz(url: str, times: int) -> list[httpx.Response]:
    """`times` anonymous GET /readyz at once, as load balancers and anyone else may send them."""
    limits = httpx.Limits(max_connections=times, max_keepalive_connections=times)
    async with (
        httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client,
        asyncio.timeout(120),
    ):
        return await asyncio.gather(*(client.get("/readyz") for _ in range(times)))


def test_300_probes_at_once_cost_each_provider_one_check() -> None:
    """Over real HTTP, counted at the sandboxes. The checks take 200 ms (injected latency), so
    the probes arrive while the first check is in flight: they share it, and the later ones get
    its cached result. (Before: one check per provider per probe, 600 calls.)"""
    with (
        served_gateway(readiness_cache_seconds=60) as gateway,
        httpx.Client(headers=CONTROL, timeout=30) as admin,
    ):
        for name in ("flexprice", "xendit"):
            faults = f"{gateway.url}/sandbox/{name}/_sandbox/faults"
            assert admin.put(faults, json={"latency_ms": 200}).status_code == 200
        gateway.reset_upstream(admin)
        responses = asyncio.run(_probe_readyz(gateway.url, 300))
        assert {(r.status_code, r.json()["status"]) for r in responses} == {(200, "ready")}
        assert gateway.upstream(admin) == {"flexprice": 1, "xendit": 1}


def test_the_providers_are_checked_again_once_the_period_is_over() -> None:
    with (
        served_gateway(readiness_cache_seconds=0.2) as gateway,
        httpx.Client(headers=CONTROL, timeout=30) as admin,
    ):
        gateway.reset_upstream(admin)
        assert admin.get(f"{gateway.url}/readyz").json()["status"] == "ready"
        assert admin.get(f"{gateway.url}/readyz").json()["status"] == "ready"
        assert gateway.upstream(admin) == {"flexprice": 1, "xendit": 1}
        time.sleep(0.5)  # past the period: the next probe checks again
        assert admin.get(f"{gateway.url}/readyz").json()["status"] == "ready"
        assert gateway.upstream(admin) == {"flexprice": 2, "xendit": 2}
