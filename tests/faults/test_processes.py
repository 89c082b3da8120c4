"""One invoice per idempotency key across gateway processes (issue 10, point 3).

Two `invoice-gateway serve` processes share one Redis (`GATEWAY_REDIS_URL`) and one pair of
standalone sandboxes (`invoice-gateway sandbox flexprice|xendit`), configured as real providers
would be. Each of 20 rounds sends 50 concurrent creates with one key and input for each
provider, split between the two gateways, while both sandboxes drop a fifth of their answers
after carrying the request out; four rounds run at a time. Clients retry what failed, as
`clients.create_until_done` does. Then each sandbox must hold exactly one invoice for each key,
and every client must have been given that invoice.

Xendit has no idempotency key and no lock: with each process keeping its own keys in memory
(this test without `GATEWAY_REDIS_URL`), two runs in three left two Xendit invoices for a key.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.faults.clients import Backoff, Order, Tally, create_until_done
from tests.processes import clean_env, free_port, running

ROUNDS = 20
CREATES_PER_KEY = 50
#: Rounds run side by side (each with its own keys), to keep the test short on a small machine.
ROUNDS_AT_ONCE = 4
RESET_RATE = 0.2
WRITER = "writer-0123456789abcdef0123"
FLEXPRICE_KEY = "sk_sandbox_flexprice"
XENDIT_KEY = "xnd_development_sandbox_key"


@dataclass
class Cluster:
    gateways: list[str]
    sandboxes: dict[str, str]


@pytest.fixture
def cluster(redis_url: str, tmp_path: Path) -> Iterator[Cluster]:
    """Both sandboxes, then two gateways over them and one Redis; all stopped afterwards."""
    with contextlib.ExitStack() as stack:
        sandboxes = {}
        for name in ("flexprice", "xendit"):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            args = ["sandbox", name, "--port", str(port)]
            log = tmp_path / f"{name}.log"
            stack.enter_context(running(args, clean_env(), f"{url}/_sandbox/stats", log=log))
            sandboxes[name] = url
        env = clean_env(
            FLEXPRICE_API_KEY=FLEXPRICE_KEY,
            FLEXPRICE_BASE_URL=f"{sandboxes['flexprice']}/v1",
            XENDIT_SECRET_KEY=XENDIT_KEY,
            XENDIT_BASE_URL=sandboxes["xendit"],
            GATEWAY_API_KEYS=f"ci:write:{WRITER}",
            GATEWAY_REDIS_URL=redis_url,
            # A create in doubt (its answer dropped) holds its key for a lease: keep it short,
            # but not so short that a live claim lapses: it is renewed every third of a lease,
            # and at 1 s a loaded machine delayed renewals past it (8 claims lapsed while their
            # create ran, in 3 of 25 runs at load 3 to 7 on 2 cores: another process may then
            # take the key over and create too).
            GATEWAY_IDEMPOTENCY_LEASE_SECONDS="3",
            # A create that stalls holds its key (and every repeat waits) until its deadline:
            # keep that well inside the 30 s the clients retry for, and one call's deadline
            # inside it, as the README advises. With no overall deadline, one create whose
            # calls stalled held its key past the clients' 60 s timeout (1 run in 8 in CI).
            GATEWAY_CREATE_DEADLINE_SECONDS="10",
            FLEXPRICE_DEADLINE="5",
            XENDIT_DEADLINE="5",
            # Reopen quickly: a circuit the resets opened would only slow the clients down.
            FLEXPRICE_BREAKER_RESET_SECONDS="0.5",
            XENDIT_BREAKER_RESET_SECONDS="0.5",
        )
        gateways = []
        for n in range(2):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            args = ["serve", "--port", str(port)]
            log = tmp_path / f"gateway-{n}.log"
            stack.enter_context(running(args, env, f"{url}/healthz", log=log))
            gateways.append(url)
        yield Cluster(gateways=gateways, sandboxes=sandboxes)


async def _customer(http: httpx.AsyncClient, provider: str) -> str:
    query = (
        f'{{ invoices(first: 1, filter: {{provider: ["{provider}"]}}) '
        "{ edges { node { customer { id } } } } }"
    )
    body = (await http.post("/graphql", json={"query": query})).json()
    customer: str = body["data"]["invoices"]["edges"][0]["node"]["customer"]["id"]
    return customer


async def _held(control: dict[str, httpx.AsyncClient], provider: str, key: str) -> int:
    """Invoices the sandbox holds under `key` as the gateway sends it (caller-scoped)."""
    if provider == "xendit":
        found = await control["xendit"].get("/v2/invoices", params={"external_id": f"gw-ci:{key}"})
        assert found.status_code == 200, found.text
        return sum(1 for invoice in found.json() if invoice["external_id"] == f"gw-ci:{key}")
    search = {
        "filters": [
            {
                "field": "idempotency_key",
                "operator": "eq",
                "data_type": "string",
                "value": {"string": f"ci:{key}"},
            }
        ],
        "limit": 10,
    }
    found = await control["flexprice"].post("/invoices/search", json=search)
    assert found.status_code == 200, found.text
    return sum(1 for invoice in found.json()["items"] if invoice["idempotency_key"] == f"ci:{key}")


async def test_one_invoice_per_key_across_two_gateway_processes_under_resets(
    cluster: Cluster,
) -> None:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    headers = {"authorization": f"Bearer {WRITER}"}
    control = {
        "flexprice": httpx.AsyncClient(
            base_url=f"{cluster.sandboxes['flexprice']}/v1", headers={"x-api-key": FLEXPRICE_KEY}
        ),
        "xendit": httpx.AsyncClient(base_url=cluster.sandboxes["xendit"], auth=(XENDIT_KEY, "")),
    }
    gateways = [
        httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60)
        for url in cluster.gateways
    ]
    async with contextlib.AsyncExitStack() as stack:
        for client in [*control.values(), *gateways]:
            await stack.enter_async_context(client)
        customers = {name: await _customer(gateways[0], name) for name in ("flexprice", "xendit")}
        for url in cluster.sandboxes.values():
            faults = await gateways[0].put(
                f"{url}/_sandbox/faults", json={"reset_rate": RESET_RATE}
            )
            assert faults.status_code == 200, faults.text

        loop = asyncio.get_running_loop()
        rng = random.Random(10)
        tally = Tally()
        orders: list[Order] = []

        async def round_of(round_: int) -> None:
            backoff = Backoff(give_up_at=loop.time() + 30, first=0.02, most=0.2)
            round_orders = [
                Order(
                    provider=name,
                    key=f"round-{round_}-{name}",
                    input=_input(name, customers[name], f"round-{round_}-{name}", round_),
                )
                for name in ("flexprice", "xendit")
            ]
            orders.extend(round_orders)
            await asyncio.gather(
                *(
                    create_until_done(
                        gateways[n % 2],
                        order,
                        tally,
                        backoff=backoff,
                        rng=random.Random(rng.random()),
                    )
                    for n in range(CREATES_PER_KEY)
                    for order in round_orders
                )
            )

        for first in range(0, ROUNDS, ROUNDS_AT_ONCE):
            await asyncio.gather(*(round_of(r) for r in range(first, first + ROUNDS_AT_ONCE)))
        for url in cluster.sandboxes.values():
            await gateways[0].delete(f"{url}/_sandbox/faults")

        print(f"{tally.requests} requests, {tally.retries} retries, failures {dict(tally.codes)}")
        assert tally.refused == [], tally.refused[:5]
        assert tally.gave_up == [], tally.gave_up[:5]
        assert tally.unmasked == [], tally.unmasked[:5]
        assert tally.retries > 0  # the resets reached the clients
        for order in orders:
            # Every client was given the same invoice, and the provider holds only that one.
            assert len(tally.succeeded[order.key]) == 1, (order.key, tally.succeeded[order.key])
            assert await _held(control, order.provider, order.key) == 1, order.key


def _input(provider: str, customer: str, key: str, round_: int) -> dict[str, Any]:
    return {
        "customerId": customer,
        "currency": "IDR" if provider == "xendit" else "USD",
        "idempotencyKey": key,
        "lineItems": [
            {"description": f"Round {round_}", "quantity": "1", "unitAmount": str(1000 + round_)}
        ],
    }
