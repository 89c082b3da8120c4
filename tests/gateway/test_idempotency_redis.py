"""Idempotency keys in a real Redis: one claim per key across every store (process) that
shares it, waits that end, leases that lapse only when their owner is gone, and a Redis that is
down refusing keyed creates with a code instead of falling back to one process's memory."""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from gateway.app import create_app
from gateway.idempotency import NAMESPACE, ClaimPending, KeyReused, RedisStore, StoreUnavailable
from gateway.ids import GlobalId, NodeType
from gateway.settings import GatewaySettings
from gateway.wiring import Wired, on_sandbox
from providers.http import HttpPolicy
from providers.xendit import XenditProvider, XenditSettings
from sandboxes.xendit import DEFAULT_API_KEY as XENDIT_KEY
from sandboxes.xendit import create_sandbox_app as xendit_sandbox
from tests.faults.stack import LateCreates, serve
from tests.gateway.conftest import FAST
from tests.gateway.hostile import UNMASKED
from tests.processes import free_port
from tests.redis_server import redis_server
from tests.serving import ServedApp

WRITER = "writer-0123456789abcdef0123"
KEYS = f"billing:write:{WRITER}"
AUTH = {"authorization": f"Bearer {WRITER}"}
CREATE = """mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) {
  invoice { providerId } userErrors { code field } } }"""


@pytest.fixture
async def stores(redis_url: str) -> AsyncIterator[list[RedisStore]]:
    """Two stores on one Redis, as two gateway processes would have."""
    made = [RedisStore.from_url(redis_url, ttl=60, lease=5, wait=10) for _ in range(2)]
    yield made
    for store in made:
        await store.aclose()


async def test_one_claim_per_key_across_stores_and_every_waiter_gets_its_invoice(
    stores: list[RedisStore],
) -> None:
    claims = [
        asyncio.create_task(stores[n % 2].claim("billing", "order-1", "fp")) for n in range(20)
    ]
    # The first claim to end is the owner's (the others wait for the key, up to 10 s); then
    # time for any other to end wrongly. Waited for, not guessed: a fixed 0.2 s for the first
    # one failed once on a slow machine (connecting to a fresh Redis took longer).
    await asyncio.wait(claims, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    await asyncio.sleep(0.2)
    owners = [task for task in claims if task.done()]
    assert len(owners) == 1  # the others wait, in both stores
    [owner] = owners
    assert owner.result().done is None
    owning = stores[claims.index(owner) % 2]
    await owning.complete("billing", "order-1", "inv_1")
    answers = await asyncio.wait_for(asyncio.gather(*claims), 10)
    assert sorted(claim.done or "" for claim in answers) == [""] + ["inv_1"] * 19


async def test_another_input_is_refused_while_the_key_is_held_and_once_it_is_done(
    stores: list[RedisStore],
) -> None:
    first, second = stores
    assert (await first.claim("billing", "order-2", "fp")).done is None
    with pytest.raises(KeyReused):
        await second.claim("billing", "order-2", "other")
    await first.complete("billing", "order-2", "inv_2")
    with pytest.raises(KeyReused):
        await second.claim("billing", "order-2", "other")
    # Another caller's key of the same name is another key.
    assert (await second.claim("dashboard", "order-2", "other")).done is None


async def test_a_failed_create_frees_the_key_for_a_waiter_in_another_store(
    stores: list[RedisStore],
) -> None:
    first, second = stores
    assert (await first.claim("billing", "order-3", "fp")).done is None
    waiter = asyncio.create_task(second.claim("billing", "order-3", "fp"))
    await asyncio.sleep(0.1)
    assert not waiter.done()
    await first.abandon("billing", "order-3")
    assert (await asyncio.wait_for(waiter, 10)).done is None  # and now owns it


async def test_a_live_owner_keeps_its_key_past_the_lease(redis_url: str) -> None:
    owner = RedisStore.from_url(redis_url, ttl=60, lease=0.2, wait=10)
    waiter = RedisStore.from_url(redis_url, ttl=60, lease=0.2, wait=0.8)
    try:
        assert (await owner.claim("billing", "order-4", "fp")).done is None
        # Four leases long, the owner renews its claim: nobody takes the key over.
        with pytest.raises(ClaimPending):
            await waiter.claim("billing", "order-4", "fp")
        await owner.complete("billing", "order-4", "inv_4")
        assert (await waiter.claim("billing", "order-4", "fp")).done == "inv_4"
    finally:
        await owner.aclose()
        await waiter.aclose()


OWNER_THAT_DIES = textwrap.dedent(
    """
    import asyncio, sys
    from gateway.idempotency import RedisStore

    async def main() -> None:
        store = RedisStore.from_url(sys.argv[1], ttl=60, lease=0.5, wait=5)
        await store.claim("billing", "order-5", "fp")
        print("claimed", flush=True)
        await asyncio.sleep(60)  # killed long before

    asyncio.run(main())
    """
)


async def test_the_key_of_an_owner_that_died_is_taken_over_after_its_lease(
    redis_url: str,
) -> None:
    owner = await asyncio.create_subprocess_exec(
        sys.executable, "-c", OWNER_THAT_DIES, redis_url, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert owner.stdout is not None
        line = await asyncio.wait_for(owner.stdout.readline(), 20)
        assert line.strip() == b"claimed"
        successor = RedisStore.from_url(redis_url, ttl=60, lease=0.5, wait=0.2)
        try:
            with pytest.raises(ClaimPending):  # held while its owner lives
                await successor.claim("billing", "order-5", "fp")
            owner.kill()
            await asyncio.wait_for(owner.wait(), 10)
            successor.wait = 10
            assert (await successor.claim("billing", "order-5", "fp")).done is None
        finally:
            await successor.aclose()
    finally:
        if owner.returncode is None:
            owner.kill()
            await asyncio.wait_for(owner.wait(), 10)


async def test_keys_are_namespaced_per_caller_and_hold_neither_key_nor_invoice(
    stores: list[RedisStore], redis_url: str
) -> None:
    store = stores[0]
    await store.claim("billing", "order 6 / secret-ish", "fp")
    await store.complete("billing", "order 6 / secret-ish", "inv_6")
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        [name] = await client.keys("*")
        value = json.loads(await client.get(name))
        ttl_ms = await client.pttl(name)
    finally:
        await client.aclose()
    assert name == store.name("billing", "order 6 / secret-ish")
    assert name.startswith(f"{NAMESPACE}:billing:")
    assert "order" not in name
    assert value == {"caller": "billing", "fingerprint": "fp", "invoice": "inv_6", "state": "done"}
    assert 0 < ttl_ms <= 60_000


async def test_a_burst_of_repeats_waits_for_a_connection_instead_of_failing(
    stores: list[RedisStore],
) -> None:
    """400 requests at once on one store, more than its connections: they queue for one."""
    store = stores[0]

    async def create(n: int) -> str | None:
        claim = await store.claim("billing", f"burst-{n % 8}", "fp")
        if claim.done is None:
            await asyncio.sleep(0.2)  # the create
            await store.complete("billing", f"burst-{n % 8}", f"inv_{n % 8}")
            return f"inv_{n % 8}"
        return claim.done

    made = await asyncio.wait_for(asyncio.gather(*(create(n) for n in range(400))), 30)
    assert made == [f"inv_{n % 8}" for n in range(400)]


async def test_a_redis_that_is_down_refuses_claims() -> None:
    store = RedisStore.from_url(f"redis://127.0.0.1:{free_port()}/0", ttl=60, lease=5, wait=5)
    try:
        with pytest.raises(StoreUnavailable):
            await store.claim("billing", "order-7", "fp")
        status = await store.status()
        assert status["ready"] is False
    finally:
        await store.aclose()


# -- through the gateway ------------------------------------------------------------------------


def _xendit_input(app: Any, key: str) -> dict[str, Any]:
    sandbox = app.state.sandbox
    account = next(iter(sandbox.accounts))
    customer = min(c.id for c in sandbox.customers.values() if c.user_id == account)
    return {
        "input": {
            "customerId": GlobalId(NodeType.CUSTOMER, "xendit", customer).encode(),
            "currency": "IDR",
            "idempotencyKey": key,
            "lineItems": [{"description": "Plan", "quantity": "1", "unitAmount": "10000"}],
        }
    }


async def test_two_gateways_on_one_redis_make_one_xendit_invoice_per_key(redis_url: str) -> None:
    """Two gateways (as two processes: each its own provider, client and store object) in
    front of one Xendit, which cannot refuse a second create with one external_id."""
    sandbox = xendit_sandbox(api_key=XENDIT_KEY)
    with ServedApp(sandbox) as served:
        providers = [
            XenditProvider(
                settings=XenditSettings(secret_key=XENDIT_KEY, base_url=served.url),
                policy=FAST,
            )
            for _ in range(2)
        ]
        apps = [
            create_app(
                settings=GatewaySettings(providers=("xendit",), api_keys=KEYS, redis_url=redis_url),
                providers={"xendit": provider},
            )
            for provider in providers
        ]
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
            for app in apps
        ]
        try:
            for round_ in range(3):
                body = {"query": CREATE, "variables": _xendit_input(sandbox, f"order-{round_}")}
                answers = await asyncio.gather(
                    *(clients[n % 2].post("/graphql", json=body, headers=AUTH) for n in range(20))
                )
                payloads = [answer.json()["data"]["createInvoice"] for answer in answers]
                ids = {p["invoice"]["providerId"] for p in payloads if p["invoice"]}
                assert len(ids) == 1, ids  # every client got the same invoice
                assert all(p["userErrors"] == [] for p in payloads), payloads
                held = [
                    i
                    for i in sandbox.state.sandbox.invoices.values()
                    if i.external_id == f"gw-billing:order-{round_}"
                ]
                assert len(held) == 1
            async with httpx.AsyncClient(base_url=served.url) as control:
                stats = (await control.get("/_sandbox/stats")).json()
            creates = {route: n for route, n in stats["requests"].items() if "POST" in route}
            assert sum(creates.values()) == 3, creates  # one create a key, whatever the path
        finally:
            for client in clients:
                await client.aclose()
            for app in apps:  # what the lifespan does when served
                await app.state.idempotency.aclose()
            for provider in providers:
                await provider.aclose()


@pytest.fixture
async def flexprice() -> AsyncIterator[Wired]:
    wired = on_sandbox("flexprice", policy=FAST)
    yield wired
    await wired.provider.aclose()


def _flexprice_input(wired: Wired, key: str | None) -> dict[str, Any]:
    assert wired.sandbox is not None
    customer = min(wired.sandbox.state.sandbox.customers)
    values: dict[str, Any] = {
        "customerId": GlobalId(NodeType.CUSTOMER, "flexprice", customer).encode(),
        "currency": "USD",
        "lineItems": [{"description": "Plan", "quantity": "1", "unitAmount": "10"}],
    }
    if key is not None:
        values["idempotencyKey"] = key
    return {"input": values}


async def test_with_redis_down_keyed_creates_fail_with_a_code_and_reads_still_work(
    flexprice: Wired,
) -> None:
    password = "redis-password-7c41e9"  # made up, to show that it never leaks
    with redis_server("--requirepass", password) as url:
        secret_url = url.replace("redis://", f"redis://:{password}@")
        app = create_app(
            settings=GatewaySettings(
                providers=("flexprice",),
                api_keys=KEYS,
                redis_url=secret_url,
                readiness_cache_seconds=0,  # each probe checks the store again
            ),
            providers={"flexprice": flexprice},
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gw"
        ) as client:
            made = await client.post(
                "/graphql",
                json={"query": CREATE, "variables": _flexprice_input(flexprice, "order-8")},
                headers=AUTH,
            )
            assert made.json()["data"]["createInvoice"]["userErrors"] == []
            ready = (await client.get("/readyz", headers=AUTH)).json()
            assert ready["status"] == "ready"
            assert ready["idempotency"] == {
                "store": "redis",
                "across_processes": True,
                "ready": True,
                "url": url,  # without its password
            }
    # The server is gone now.
    assert flexprice.sandbox is not None
    sandbox = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=flexprice.sandbox), base_url="http://sandbox"
    )
    async with (
        sandbox,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client,
    ):
        await sandbox.delete("/_sandbox/stats")
        refused = await client.post(
            "/graphql",
            json={"query": CREATE, "variables": _flexprice_input(flexprice, "order-9")},
            headers=AUTH,
        )
        assert refused.status_code == 200
        body = refused.json()
        [error] = body["errors"]
        assert error["extensions"]["code"] == "IDEMPOTENCY_STORE_UNAVAILABLE"
        assert error["message"].startswith("the idempotency store (Redis at ")
        assert "cannot be reached: no invoice was created" in error["message"]
        assert password not in refused.text
        assert not UNMASKED.search(refused.text), refused.text  # no exception names
        stats = (await sandbox.get("/_sandbox/stats")).json()
        assert stats["requests_total"] == 0  # nothing reached the provider
        # A create without a key needs no claim (the gateway's own key is unique) ...
        unkeyed = await client.post(
            "/graphql",
            json={"query": CREATE, "variables": _flexprice_input(flexprice, None)},
            headers=AUTH,
        )
        assert unkeyed.json()["data"]["createInvoice"]["userErrors"] == []
        # ... and reads do not touch the store.
        listed = await client.post(
            "/graphql",
            json={"query": "{ invoices(first: 2) { edges { node { id } } } }"},
            headers=AUTH,
        )
        assert len(listed.json()["data"]["invoices"]["edges"]) == 2
        ready = await client.get("/readyz", headers=AUTH)
        assert ready.status_code == 200
        assert ready.json()["status"] == "degraded"
        assert ready.json()["idempotency"]["ready"] is False
        assert ready.json()["idempotency"]["error"] == "cannot be reached"
        assert password not in ready.text
    await app.state.idempotency.aclose()


async def test_readyz_says_keys_are_kept_in_this_process_without_redis(
    flexprice: Wired,
) -> None:
    app = create_app(
        settings=GatewaySettings(providers=("flexprice",)), providers={"flexprice": flexprice}
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gw"
    ) as client:
        ready = (await client.get("/readyz")).json()
    assert ready["idempotency"] == {"store": "memory", "across_processes": False, "ready": True}


SHORT = HttpPolicy(
    connect_timeout=0.3,
    read_timeout=0.3,
    deadline=0.3,
    attempts=3,
    wait_initial=0.005,
    wait_max=0.02,
    wait_jitter=0.0,
)


async def test_a_create_in_doubt_keeps_its_key_from_the_other_processes_until_it_lapses(
    redis_url: str,
) -> None:
    """Gateway A's create times out, and Xendit carries it out a second later. The client
    retries on gateway B at once: B must not create while A's create is in doubt (Xendit
    would keep both); it waits for A's claim to lapse, then finds the invoice A asked for."""
    sandbox = xendit_sandbox(api_key=XENDIT_KEY)
    late = LateCreates(sandbox)
    async with serve(late) as url:
        providers = [
            XenditProvider(
                settings=XenditSettings(secret_key=XENDIT_KEY, base_url=url),
                policy=SHORT,
            )
            for _ in range(2)
        ]
        settings = GatewaySettings(
            providers=("xendit",),
            api_keys=KEYS,
            redis_url=redis_url,
            idempotency_lease_seconds=3,
            idempotency_wait_seconds=20,
        )
        apps = [create_app(settings=settings, providers={"xendit": p}) for p in providers]
        first, second = (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
            for app in apps
        )
        body = {"query": CREATE, "variables": _xendit_input(sandbox, "order-late")}
        try:
            late.after = 1.0  # made a second after gateway A stopped waiting for it
            timed_out = (await first.post("/graphql", json=body, headers=AUTH)).json()
            assert timed_out["errors"][0]["extensions"]["code"] == "PROVIDER_TIMEOUT"
            late.after = None
            retried = (await second.post("/graphql", json=body, headers=AUTH)).json()
            await late.quiet()
        finally:
            await first.aclose()
            await second.aclose()
            for app in apps:
                await app.state.idempotency.aclose()
            for provider in providers:
                await provider.aclose()
    assert late.held_back == 1
    held = [
        i.id
        for i in sandbox.state.sandbox.invoices.values()
        if i.external_id == "gw-billing:order-late"
    ]
    assert len(held) == 1, held
    assert retried["data"]["createInvoice"]["invoice"]["providerId"] == held[0]


async def test_a_repeat_that_outwaits_its_wait_is_told_to_retry_and_then_gets_the_invoice(
    flexprice: Wired, redis_url: str
) -> None:
    """Gateway A's create is slow; the same create on gateway B waits GATEWAY_IDEMPOTENCY_
    WAIT_SECONDS, then answers IDEMPOTENCY_KEY_IN_PROGRESS (a GraphQL error a client retries)
    without calling the provider; once A is done, B answers with A's invoice."""
    assert flexprice.sandbox is not None
    apps = [
        create_app(
            settings=GatewaySettings(
                providers=("flexprice",),
                api_keys=KEYS,
                redis_url=redis_url,
                idempotency_wait_seconds=wait,
            ),
            providers={"flexprice": flexprice},
        )
        for wait in (30, 0.3)
    ]
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
        for app in apps
    ]
    sandbox = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=flexprice.sandbox), base_url="http://sandbox"
    )
    body = {"query": CREATE, "variables": _flexprice_input(flexprice, "order-slow")}
    try:
        assert (await sandbox.put("/_sandbox/faults", json={"latency_ms": 1500})).is_success
        await sandbox.delete("/_sandbox/stats")
        slow = asyncio.create_task(clients[0].post("/graphql", json=body, headers=AUTH))
        # A holds the key once its create has reached the sandbox (it claims the key first):
        # waited for, not guessed (a fixed 0.3 s failed on a loaded machine).
        for _ in range(500):  # at most 10 s
            if (await sandbox.get("/_sandbox/stats")).json()["requests_total"]:
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("gateway A's create never reached the sandbox")
        await sandbox.delete("/_sandbox/stats")
        told = (await clients[1].post("/graphql", json=body, headers=AUTH)).json()
        [error] = told["errors"]
        assert error["extensions"]["code"] == "IDEMPOTENCY_KEY_IN_PROGRESS"
        assert (await sandbox.get("/_sandbox/stats")).json()["requests_total"] == 0
        made = (await asyncio.wait_for(slow, 30)).json()["data"]["createInvoice"]
        await sandbox.delete("/_sandbox/faults")
        again = (await clients[1].post("/graphql", json=body, headers=AUTH)).json()
        assert again["data"]["createInvoice"] == made
    finally:
        await sandbox.aclose()
        for client in clients:
            await client.aclose()
        for app in apps:
            await app.state.idempotency.aclose()
