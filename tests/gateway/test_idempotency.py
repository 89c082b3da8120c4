"""createInvoice makes one invoice per idempotency key, whatever repeats it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.idempotency import KeyReused, MemoryStore
from gateway.ids import GlobalId, NodeType
from tests.gateway.conftest import Gateway

in_process = pytest.mark.parametrize("mode", ["in-process"], indirect=True)

QUERY = """mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) {
  invoice { providerId } userErrors { code field } } }"""


def create_input(gateway: Gateway, *, key: str, amount: str = "10") -> dict[str, Any]:
    customer = sorted(gateway.sandbox.customers)[0]
    return {
        "input": {
            "customerId": GlobalId(NodeType.CUSTOMER, "flexprice", customer).encode(),
            "currency": "USD",
            "idempotencyKey": key,
            "lineItems": [{"description": "Plan", "quantity": "1", "unitAmount": amount}],
        }
    }


@in_process
async def test_concurrent_repeats_make_one_upstream_create(gateway: Gateway) -> None:
    results = await asyncio.gather(
        *(gateway.data(QUERY, create_input(gateway, key="order-9")) for _ in range(5))
    )
    ids = {r["createInvoice"]["invoice"]["providerId"] for r in results}
    assert len(ids) == 1
    assert (await gateway.upstream())["POST /v1/invoices"] == 1
    again = await gateway.data(QUERY, create_input(gateway, key="order-9"))
    assert again["createInvoice"]["invoice"]["providerId"] in ids
    assert (await gateway.upstream())["POST /v1/invoices"] == 1
    assert [i.idempotency_key for i in gateway.sandbox.invoices.values()].count("order-9") == 1


@in_process
async def test_the_same_key_with_another_input_is_refused_without_a_call(gateway: Gateway) -> None:
    await gateway.data(QUERY, create_input(gateway, key="order-10"))
    await gateway.reset_upstream()
    other = await gateway.data(QUERY, create_input(gateway, key="order-10", amount="11"))
    assert other["createInvoice"]["invoice"] is None
    assert other["createInvoice"]["userErrors"] == [
        {"code": "IDEMPOTENCY_KEY_REUSED", "field": ["input", "idempotencyKey"]}
    ]
    assert await gateway.upstream() == {}


async def test_the_store_remembers_for_its_ttl_only() -> None:
    now = [0.0]
    store = MemoryStore(ttl=60, clock=lambda: now[0])
    assert (await store.claim("alice", "k", "f")).done is None
    await store.complete("alice", "k", "inv_1")
    assert (await store.claim("alice", "k", "f")).done == "inv_1"
    with pytest.raises(KeyReused):
        await store.claim("alice", "k", "other")
    now[0] = 61
    assert (await store.claim("alice", "k", "other")).done is None  # expired: a new owner


async def test_a_failed_create_frees_the_key_and_a_waiter_takes_it_over() -> None:
    store = MemoryStore(ttl=60)
    assert (await store.claim("alice", "k", "f")).done is None
    waiter = asyncio.create_task(store.claim("alice", "k", "f"))
    await asyncio.sleep(0)
    assert not waiter.done()  # it waits for the owner
    await store.abandon("alice", "k")
    assert (await asyncio.wait_for(waiter, 5)).done is None  # and now owns the key
    await store.complete("alice", "k", "inv_2")
    assert (await store.claim("alice", "k", "f")).done == "inv_2"


@in_process
async def test_a_repeat_answers_with_the_invoice_as_it_is_now(gateway: Gateway) -> None:
    """The store remembers the invoice's id only: a repeat reads the invoice (one look-up,
    no create) and so shows what happened to it since."""
    created = await gateway.data(QUERY, create_input(gateway, key="order-11"))
    invoice_id = created["createInvoice"]["invoice"]["providerId"]
    node = GlobalId(NodeType.INVOICE, "flexprice", invoice_id).encode()
    voided = await gateway.data(
        "mutation($id: ID!) { voidInvoice(input: {id: $id}) { invoice { status } } }",
        {"id": node},
    )
    assert voided["voidInvoice"]["invoice"]["status"] == "VOID"
    await gateway.reset_upstream()
    repeat = await gateway.data(
        QUERY.replace("providerId", "providerId status"), create_input(gateway, key="order-11")
    )
    assert repeat["createInvoice"]["invoice"] == {"providerId": invoice_id, "status": "VOID"}
    assert "POST /v1/invoices" not in await gateway.upstream()


@in_process
async def test_a_remembered_invoice_the_provider_lost_is_made_again(gateway: Gateway) -> None:
    first = await gateway.data(QUERY, create_input(gateway, key="order-12"))
    lost = first["createInvoice"]["invoice"]["providerId"]
    del gateway.sandbox.invoices[lost]  # gone from the provider (a sandbox reset, a deletion)
    again = await gateway.data(QUERY, create_input(gateway, key="order-12"))
    assert again["createInvoice"]["userErrors"] == []
    made = again["createInvoice"]["invoice"]["providerId"]
    assert made != lost
    assert made in gateway.sandbox.invoices
