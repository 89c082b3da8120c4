"""A failing provider never takes the other one down.

One sandbox hangs (`{"hang": true}`: it holds every API request until told otherwise). No test
here measures a duration; the proof is in the order things finish. With the hanging provider's
deadline set long (what `FLEXPRICE_DEADLINE` / `XENDIT_DEADLINE` set; here `HttpPolicy`), many
requests for it are left waiting, and while every one of them is still pending, batches of
queries for the other provider come back complete and correct. With a short deadline, a query
over both providers answers with the healthy one's data and a coded error for the other.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from providers.http import HttpPolicy
from tests.faults.stack import Sandbox, gateway, sandboxes

LONG = HttpPolicy(deadline=60.0, read_timeout=60.0)  # outlives the test: only a release ends it
SHORT = HttpPolicy(deadline=0.3, read_timeout=0.3)
NORMAL = HttpPolicy()
STUCK = 24  # requests left waiting on the hanging provider
ROUNDS = 3  # batches of healthy queries run while they wait
POLLS = 1000  # 10 ms polls of the hanging sandbox
STEADY = 100  # polls
BOUND_S = 30.0  # a bound on any batch, never a measured duration
PAIRS = [("flexprice", "xendit"), ("xendit", "flexprice")]

LISTING = """query($p: [String!], $before: DateTime) {
  invoices(first: 10, filter: {provider: $p, createdBefore: $before}) {
  edges { node { id provider providerId number status total { amount currency } } } } }"""
ONE = """query($id: ID!) { invoice(id: $id) {
  providerId number status total { amount currency } customer { name } } }"""
CUSTOMERS = """query($ids: [ID!]!) { customers(ids: $ids) { providerId name email } }"""
CREATE = """mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) {
  invoice { provider providerId } userErrors { code message } } }"""
_MONEY = {"flexprice": ("USD", "9.99"), "xendit": ("IDR", "25000")}


async def _post(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


async def _data(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    body = await _post(http, query, variables)
    assert "errors" not in body, body["errors"]
    return body["data"]


def _reads(sandbox: Sandbox) -> list[tuple[str, dict[str, Any]]]:
    """Queries that touch only `sandbox`'s provider (and that the creates beside them cannot
    change: the listing ends before this moment)."""
    customers = sandbox.customer_ids()[:5]
    before = dt.datetime.now(dt.UTC).isoformat()
    return [
        (LISTING, {"p": [sandbox.name], "before": before}),
        (ONE, {"id": sandbox.invoice_gid(max(sandbox.store.invoices))}),
        (CUSTOMERS, {"ids": [sandbox.customer_gid(c) for c in customers]}),
    ]


def _creates(sandbox: Sandbox, round_: int) -> Iterator[tuple[str, dict[str, Any]]]:
    currency, unit = _MONEY[sandbox.name]
    for n, customer in enumerate(sandbox.customer_ids()[:3]):
        yield (
            CREATE,
            {
                "input": {
                    "customerId": sandbox.customer_gid(customer),
                    "currency": currency,
                    "idempotencyKey": f"isolation-{round_}-{n}",
                    "lineItems": [{"description": "Seat", "quantity": "1", "unitAmount": unit}],
                }
            },
        )


async def _until_stuck(sandbox: Sandbox, stuck: list[asyncio.Task[Any]]) -> int:
    """Wait until every request is held by the sandbox or already answered (a bulkhead may
    refuse some at once); returns how many are held. A bulkhead that queues the rest instead
    leaves fewer held: then the count holding still for `STEADY` polls will do."""
    seen: tuple[int, int] | None = None
    steady = 0
    for _ in range(POLLS):
        now = (sandbox.held, sum(task.done() for task in stuck))
        held, finished = now
        if held and held + finished == len(stuck):
            return held
        steady = steady + 1 if held and now == seen else 0
        if steady >= STEADY:
            return held
        seen = now
        await asyncio.sleep(0.01)
    raise AssertionError(f"held {sandbox.held} of {len(stuck)}")


@pytest.mark.parametrize(("hanging", "healthy"), PAIRS)
async def test_the_other_provider_answers_while_requests_wait_on_a_hanging_one(
    hanging: str, healthy: str
) -> None:
    async with (
        sandboxes([hanging, healthy]) as served,
        gateway(served, policies={hanging: LONG, healthy: NORMAL}) as running,
    ):
        http, stalled, well = running.http, served[hanging], served[healthy]
        reads = _reads(well)
        expected = [await _data(http, query, variables) for query, variables in reads]
        await stalled.set_faults({"hang": True})
        stuck = [asyncio.create_task(_post(http, LISTING, {"p": [hanging]})) for _ in range(STUCK)]
        try:
            held = await _until_stuck(stalled, stuck)
            pending = [task for task in stuck if not task.done()]
            assert len(pending) >= held > 0
            for round_ in range(ROUNDS):
                batch = [*reads, *_creates(well, round_)]
                answers = await asyncio.wait_for(
                    asyncio.gather(*(_data(http, q, v) for q, v in batch)), BOUND_S
                )
                assert answers[: len(reads)] == expected
                for created in answers[len(reads) :]:
                    payload = created["createInvoice"]
                    assert payload["userErrors"] == []
                    assert payload["invoice"]["providerId"] in well.store.invoices
                # Every request for the hanging provider is still waiting behind all of that.
                assert not any(task.done() for task in pending)
                assert stalled.held == held
        finally:
            await stalled.clear_faults()
            released = await asyncio.wait_for(
                asyncio.gather(*stuck, return_exceptions=True), BOUND_S
            )
    # Released, they complete: they were only ever waiting on their own provider.
    for body in (released[n] for n, task in enumerate(stuck) if task in pending):
        assert not isinstance(body, BaseException), body
        assert "errors" not in body, body["errors"]
        edges = body["data"]["invoices"]["edges"]
        assert edges
        assert {edge["node"]["provider"] for edge in edges} == {hanging}


@pytest.mark.parametrize(("hanging", "healthy"), PAIRS)
async def test_a_query_over_both_gets_partial_data_and_a_coded_error(
    hanging: str, healthy: str
) -> None:
    async with (
        sandboxes([hanging, healthy]) as served,
        gateway(served, policies={hanging: SHORT, healthy: NORMAL}) as running,
    ):
        http, stalled, well = running.http, served[hanging], served[healthy]
        alone = await _data(http, LISTING, {"p": [healthy]})
        ids = {
            healthy: well.invoice_gid(max(well.store.invoices)),
            hanging: stalled.invoice_gid(max(stalled.store.invoices)),
        }
        await stalled.set_faults({"hang": True})
        try:
            merged = await asyncio.wait_for(_post(http, LISTING, {"p": None}), BOUND_S)
            both = await asyncio.wait_for(
                _post(
                    http,
                    """query($a: ID!, $b: ID!) { well: invoice(id: $a) { providerId }
                         stalled: invoice(id: $b) { providerId } }""",
                    {"a": ids[healthy], "b": ids[hanging]},
                ),
                BOUND_S,
            )
        finally:
            await stalled.clear_faults()
    # The merged listing is the healthy provider's own, with an error naming the other.
    assert merged["data"] == alone
    [error] = merged["errors"]
    assert error["extensions"] == {"code": "PROVIDER_TIMEOUT", "provider": hanging}
    assert both["data"]["well"]["providerId"] == max(well.store.invoices)
    assert both["data"]["stalled"] is None
    [error] = both["errors"]
    assert error["path"] == ["stalled"]
    # A breaker opened by the first timeout would answer fast instead: coded all the same.
    assert error["extensions"]["code"] in {"PROVIDER_TIMEOUT", "CIRCUIT_OPEN"}
    assert error["extensions"]["provider"] == hanging
