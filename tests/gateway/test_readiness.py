"""/readyz: draining first on shutdown, degraded (not down) when one provider fails, and the
guards' settings and state per provider, read from the environment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import GatewaySettings
from providers.registry import create_providers

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
    providers = create_providers(("flexprice", "xendit"), ENVIRON)
    app = create_app(settings=GatewaySettings(), providers=providers)
    yield app
    for provider in providers.values():
        await provider.aclose()


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
    flexprice = app.state.providers["flexprice"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=flexprice.sandbox_app), base_url="http://sandbox"
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
