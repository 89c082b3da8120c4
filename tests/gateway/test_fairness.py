"""One caller's heavy traffic holds at most its share of a provider's bulkhead, so another
caller's one-invoice query is not queued behind it. Through real HTTP, with latency injected
in the FlexPrice sandbox; proved by the order in which answers arrive, not by their times."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from pydantic import SecretStr

from gateway.app import create_app
from gateway.ids import GlobalId, NodeType
from gateway.settings import GatewaySettings
from gateway.wiring import Wired
from providers.flexprice import FlexPriceProvider, FlexPriceSettings
from providers.http import HttpPolicy
from providers.transport import AsgiTransport
from sandboxes.flexprice import create_sandbox_app
from tests.gateway.hostile import API_KEYS, READ_KEY, WRITE_KEY
from tests.serving import ServedApp

SLOTS = 4
HEAVY_REQUESTS = 8
LATENCY_MS = 400
#: Polls of the bulkhead while the heavy caller's requests arrive (10 s at most).
POLLS = 1000


@dataclass
class Served:
    url: str
    provider: FlexPriceProvider
    invoice_id: str


@pytest.fixture(params=[SLOTS // 2, SLOTS], ids=["a share of half", "no share"])
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    key = "sk_test_fairness"
    app = create_sandbox_app(api_key=key)
    policy = HttpPolicy(
        max_in_flight=SLOTS, max_in_flight_per_caller=request.param, queue_timeout=30
    )
    provider = FlexPriceProvider(
        settings=FlexPriceSettings(api_key=SecretStr(key), base_url="http://flexprice.sandbox/v1"),
        transport=AsgiTransport(app),
        policy=policy,
    )
    gateway = create_app(
        settings=GatewaySettings(api_keys=API_KEYS, providers=("flexprice",)),
        providers={"flexprice": Wired(provider, sandbox=app, sandbox_key=key)},
    )
    invoice = GlobalId(NodeType.INVOICE, "flexprice", sorted(app.state.sandbox.invoices)[0])
    with ServedApp(gateway) as server:
        yield Served(url=server.url, provider=provider, invoice_id=invoice.encode())
    asyncio.run(provider.aclose())


async def test_a_heavy_caller_queues_behind_itself_not_ahead_of_another(served: Served) -> None:
    share = served.provider.client.upstream.policy.caller_share
    bulkhead = served.provider.client.upstream.bulkhead
    finished: list[str] = []
    heavy_query = '{ invoices(first: 1, filter: {provider: ["flexprice"]}) { totalCount } }'
    light_query = f'{{ invoice(id: "{served.invoice_id}") {{ id }} }}'

    async def ask(client: httpx.AsyncClient, key: str, query: str, name: str) -> dict[str, object]:
        response = await client.post(
            "/graphql", json={"query": query}, headers={"authorization": f"Bearer {key}"}
        )
        finished.append(name)
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    async with httpx.AsyncClient(base_url=served.url, timeout=60) as client:
        faults = await client.put(
            "/sandbox/flexprice/_sandbox/faults",
            json={"latency_ms": LATENCY_MS},
            headers={"authorization": f"Bearer {WRITE_KEY}"},
        )
        assert faults.status_code == 200, faults.text
        heavy = [
            asyncio.create_task(ask(client, READ_KEY, heavy_query, "heavy"))
            for _ in range(HEAVY_REQUESTS)
        ]
        for _ in range(POLLS):  # every heavy call holds a slot or waits for one
            if bulkhead.in_flight + bulkhead.waiting == HEAVY_REQUESTS:
                break
            await asyncio.sleep(0.01)
        assert bulkhead.in_flight == min(share, SLOTS)
        assert not finished
        light = await ask(client, WRITE_KEY, light_query, "light")
        answers = await asyncio.gather(*heavy)
    assert "errors" not in light, light
    assert all("errors" not in answer for answer in answers), answers
    ahead = finished.index("light")
    if share < SLOTS:
        # The light caller took a free slot at once: at most the heavy caller's first calls
        # (one share, started before it) finished ahead of it.
        assert ahead <= share, finished
    else:
        # Without a share the heavy caller filled every slot and the queue in front of it.
        assert ahead == HEAVY_REQUESTS, finished
