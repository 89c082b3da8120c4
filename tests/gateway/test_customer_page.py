"""A customer page starts its invoices and its summary while the customer itself is read: the
three upstream calls need only the id, so the page waits for one round trip, not two. Proved by
order, not time: the customer look-up is held until both other calls have begun."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.context import GatewayContext
from gateway.ids import GlobalId, NodeType
from gateway.settings import GatewaySettings
from gateway.wiring import Wired, on_sandbox
from providers.errors import ProviderUnavailable
from providers.flexprice import FlexPriceProvider
from tests.gateway.conftest import FAST

PAGE = """query($id: ID!, $first: Int) { customer(id: $id) {
  name
  invoices(first: $first) { totalCount edges { node { providerId } } }
  invoiceSummary { currency totalInvoiceCount }
} }"""


class Held:
    """The provider's customer look-up waits until the invoice list and the summary began."""

    def __init__(self, provider: FlexPriceProvider, monkeypatch: pytest.MonkeyPatch) -> None:
        self.listed = asyncio.Event()
        self.summed = asyncio.Event()
        self.calls: list[str] = []
        get_customers = provider.get_customers
        list_invoices = provider.list_invoices
        summary = provider.get_customer_invoice_summary

        async def held_get_customers(ids: Any) -> Any:
            self.calls.append("customers")
            await asyncio.wait_for(asyncio.gather(self.listed.wait(), self.summed.wait()), 10)
            return await get_customers(ids)

        async def noted_list_invoices(*args: Any) -> Any:
            self.calls.append("invoices")
            self.listed.set()
            return await list_invoices(*args)

        async def noted_summary(customer_id: str) -> Any:
            self.calls.append("summary")
            self.summed.set()
            return await summary(customer_id)

        monkeypatch.setattr(provider, "get_customers", held_get_customers)
        monkeypatch.setattr(provider, "list_invoices", noted_list_invoices)
        monkeypatch.setattr(provider, "get_customer_invoice_summary", noted_summary)


@pytest.fixture
async def wired() -> AsyncIterator[Wired]:
    made = on_sandbox("flexprice", policy=FAST)
    yield made
    await made.provider.aclose()


@pytest.fixture
def provider(wired: Wired) -> FlexPriceProvider:
    assert isinstance(wired.provider, FlexPriceProvider)
    return wired.provider


@pytest.fixture
async def client(wired: Wired) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        settings=GatewaySettings(providers=("flexprice",)), providers={"flexprice": wired}
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
        yield c


def _customer(wired: Wired) -> str:
    assert wired.sandbox is not None
    return str(sorted(wired.sandbox.state.sandbox.customers)[0])


@pytest.mark.parametrize("literal", [False, True], ids=["first as a variable", "first: 5"])
async def test_the_page_starts_its_invoices_and_summary_with_the_customer_look_up(
    wired: Wired,
    provider: FlexPriceProvider,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    literal: bool,
) -> None:
    held = Held(provider, monkeypatch)
    native = _customer(wired)
    variables = {"id": GlobalId(NodeType.CUSTOMER, "flexprice", native).encode(), "first": 5}
    query = PAGE
    if literal:  # as written in a document: the argument comes as its source text
        query = PAGE.replace("first: $first", "first: 5").replace(", $first: Int", "")
        del variables["first"]
    body = (await client.post("/graphql", json={"query": query, "variables": variables})).json()
    assert "errors" not in body, body
    customer = body["data"]["customer"]
    assert customer["name"]
    assert len(customer["invoices"]["edges"]) == 5
    assert customer["invoiceSummary"]
    assert sorted(held.calls) == ["customers", "invoices", "summary"]  # each once


async def test_an_unknown_customer_is_null_and_what_started_early_is_dropped(
    provider: FlexPriceProvider, client: httpx.AsyncClient
) -> None:
    variables = {"id": GlobalId(NodeType.CUSTOMER, "flexprice", "cust_nope").encode()}
    body = (await client.post("/graphql", json={"query": PAGE, "variables": variables})).json()
    assert body["data"] == {"customer": None}
    assert "errors" not in body


async def test_a_filtered_or_repeated_selection_resolves_after_the_customer_as_before(
    wired: Wired, client: httpx.AsyncClient
) -> None:
    native = _customer(wired)
    query = """query($id: ID!) { customer(id: $id) {
      a: invoices(first: 2) { edges { node { providerId } } }
      b: invoices(first: 3, filter: {status: [OPEN, PAID, VOID, DRAFT]}) { edges { node { id } } }
      ... on Customer { invoiceSummary { currency } }
    } }"""
    variables = {"id": GlobalId(NodeType.CUSTOMER, "flexprice", native).encode()}
    body = (await client.post("/graphql", json={"query": query, "variables": variables})).json()
    assert "errors" not in body, body
    assert len(body["data"]["customer"]["a"]["edges"]) == 2
    assert len(body["data"]["customer"]["b"]["edges"]) == 3
    assert body["data"]["customer"]["invoiceSummary"]


async def test_dropping_early_work_cancels_only_the_keys_given() -> None:
    """Two `customer(id:)` fields in one query: the null one drops its own early work only."""
    context = GatewayContext(providers={}, settings=GatewaySettings(), request_id="r")
    release = asyncio.Event()

    async def work(answer: str) -> str:
        await release.wait()
        return answer

    context.start_early(("mine",), work("mine"))
    context.start_early(("theirs",), work("theirs"))
    mine = context.early[("mine",)]
    await context.drop_early([("mine",)])
    assert mine.cancelled()
    theirs = context.take_early(("theirs",))
    assert theirs is not None
    release.set()
    assert await asyncio.wait_for(theirs, 10) == "theirs"
    assert context.early == {}


@pytest.mark.parametrize(
    ("field", "selection"),
    [
        ("invoiceSummary", "invoiceSummary { currency }"),
        ("invoices", "invoices(first: 3) { edges { node { id } } }"),
    ],
)
async def test_early_work_dropped_for_a_failed_customer_leaves_its_answer_to_other_fields(
    wired: Wired,
    provider: FlexPriceProvider,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    field: str,
    selection: str,
) -> None:
    """`customer(id:)` fails and drops the work it started; the same customer's field, asked
    later by a listing in the same request, still gets the loader's answer."""
    native = _customer(wired)
    gid = GlobalId(NodeType.CUSTOMER, "flexprice", native).encode()
    failed = asyncio.Event()
    list_invoices = provider.list_invoices
    summary = provider.get_customer_invoice_summary

    async def failing_get_customers(ids: Any) -> Any:
        failed.set()
        raise ProviderUnavailable("flexprice", "flexprice answered HTTP 503")

    async def slow_summary(customer_id: str) -> Any:  # still running when the work is dropped
        await asyncio.wait_for(failed.wait(), 10)
        for _ in range(100):
            await asyncio.sleep(0)
        return await summary(customer_id)

    async def late_list_invoices(*args: Any) -> Any:
        await asyncio.wait_for(failed.wait(), 10)
        for _ in range(100):  # the failed customer's early work is dropped meanwhile
            await asyncio.sleep(0)
        return await list_invoices(*args)

    monkeypatch.setattr(provider, "get_customers", failing_get_customers)
    monkeypatch.setattr(provider, "list_invoices", late_list_invoices)
    monkeypatch.setattr(provider, "get_customer_invoice_summary", slow_summary)
    query = f"""query($id: ID!) {{
      c: customer(id: $id) {{ {selection} }}
      invoices(first: 3, filter: {{customerId: [$id]}}) {{
        edges {{ node {{ customer {{ {selection} }} }} }} }}
    }}"""
    response = await client.post("/graphql", json={"query": query, "variables": {"id": gid}})
    body = response.json()
    assert body["data"]["c"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["PROVIDER_UNAVAILABLE"]
    edges = body["data"]["invoices"]["edges"]
    assert edges
    assert all(edge["node"]["customer"][field] for edge in edges)
