"""Two providers behind one schema: a merged listing, partial results when one fails, and
operations one of them lacks. The second provider is a small in-memory one written here, with
only reads: what a minimal plug-in looks like."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.ids import GlobalId, NodeType
from gateway.settings import GatewaySettings
from gateway.wiring import Wired, on_sandbox
from providers.base import Operation, ProviderBase
from providers.errors import ProviderUnavailable
from providers.models import (
    Customer,
    Invoice,
    InvoiceFilter,
    InvoiceStatus,
    Page,
    PageRequest,
    PaymentStatus,
)
from tests.gateway.conftest import FAST

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


class LedgerProvider(ProviderBase):
    name = "ledger"
    capabilities = frozenset(
        {Operation.GET_INVOICES, Operation.LIST_INVOICES, Operation.GET_CUSTOMERS}
    )

    def __init__(self, count: int) -> None:
        self.customer = Customer(provider="ledger", id="c1", name="Ledger Customer")
        self.invoices = [
            Invoice(
                provider="ledger",
                id=f"L{n:03d}",
                status=InvoiceStatus.OPEN,
                payment_status=PaymentStatus.UNPAID,
                provider_status="open",
                currency="USD",
                customer_id="c1",
                created_at=T0 + dt.timedelta(days=n),
            )
            for n in reversed(range(count))
        ]
        self.down = False
        self.calls = 0

    def _call(self) -> None:
        self.calls += 1
        if self.down:
            raise ProviderUnavailable("ledger", "ledger answered HTTP 503", status=503)

    async def get_invoices(self, ids: Sequence[str]) -> Sequence[Invoice | None]:
        self._call()
        by_id = {i.id: i for i in self.invoices}
        return [by_id.get(i) for i in ids]

    async def get_customers(self, ids: Sequence[str]) -> Sequence[Customer | None]:
        self._call()
        return [self.customer if i == "c1" else None for i in ids]

    async def list_invoices(self, filters: InvoiceFilter, page: PageRequest) -> Page[Invoice]:
        self._call()
        items = [
            i
            for i in self.invoices
            if filters.created_before is None or i.created_at < filters.created_before
        ]
        start = int(page.after or 0)
        chunk = items[start : start + page.first]
        return Page(
            items=tuple(chunk),
            item_cursors=tuple(str(start + k + 1) for k in range(len(chunk))),
            end_cursor=str(start + len(chunk)),
            has_next_page=start + len(chunk) < len(items),
            total_count=len(items),
        )

    async def create_invoice(self, draft: Any, *, idempotency_key: str) -> Invoice:
        raise self._unsupported(Operation.CREATE_INVOICE)

    async def check(self) -> None:
        self._call()

    async def aclose(self) -> None:
        return None


@pytest.fixture
async def two() -> AsyncIterator[tuple[httpx.AsyncClient, LedgerProvider, Wired]]:
    flexprice = on_sandbox("flexprice", policy=FAST)
    ledger = LedgerProvider(count=30)
    app = create_app(
        settings=GatewaySettings(providers=("flexprice", "ledger")),
        providers={"flexprice": flexprice, "ledger": ledger},
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        yield client, ledger, flexprice
    await flexprice.provider.aclose()


async def _post(client: httpx.AsyncClient, query: str, variables: Any = None) -> Any:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200
    return response.json()


LIST = """query($after: String) { invoices(first: 40, after: $after) {
  totalCount edges { node { provider providerId createdAt } }
  pageInfo { hasNextPage endCursor } } }"""


async def test_a_listing_merges_both_providers_newest_first_and_walks_them_all(two: Any) -> None:
    client, _, flexprice = two
    seen: list[tuple[str, str, str]] = []
    after = None
    for _ in range(30):
        body = await _post(client, LIST, {"after": after})
        page = body["data"]["invoices"]
        seen.extend(
            (e["node"]["createdAt"], e["node"]["provider"], e["node"]["providerId"])
            for e in page["edges"]
        )
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    sandbox = flexprice.sandbox.state.sandbox
    listed = [i for i in sandbox.invoices.values() if i.invoice_status != "SKIPPED"]
    assert len(seen) == len(listed) + 30
    assert len(set(seen)) == len(seen)
    times = [dt.datetime.fromisoformat(t) for t, _, _ in seen]
    assert times == sorted(times, reverse=True)
    assert {p for _, p, _ in seen} == {"flexprice", "ledger"}


async def test_when_one_provider_fails_the_other_still_answers_with_a_coded_error(
    two: Any,
) -> None:
    client, ledger, _ = two
    ledger.down = True
    body = await _post(client, "{ invoices(first: 10) { totalCount edges { node { provider } } } }")
    assert {e["node"]["provider"] for e in body["data"]["invoices"]["edges"]} == {"flexprice"}
    assert body["data"]["invoices"]["totalCount"] is None  # one provider could not count
    [error] = body["errors"]
    assert error["extensions"] == {"code": "PROVIDER_UNAVAILABLE", "provider": "ledger"}
    assert error["path"] == ["invoices"]


async def test_an_operation_a_provider_lacks_is_a_user_error_without_a_call(two: Any) -> None:
    client, ledger, _ = two
    invoice_id = GlobalId(NodeType.INVOICE, "ledger", "L001").encode()
    calls = ledger.calls
    body = await _post(
        client,
        """mutation($id: ID!) { finalizeInvoice(input: {id: $id}) {
             invoice { id } userErrors { code message field } } }""",
        {"id": invoice_id},
    )
    [error] = body["data"]["finalizeInvoice"]["userErrors"]
    assert error["code"] == "UNSUPPORTED_BY_PROVIDER"
    assert "ledger" in error["message"]
    assert ledger.calls == calls
    providers = await _post(client, "{ providers { name capabilities } }")
    ledger_info = next(p for p in providers["data"]["providers"] if p["name"] == "ledger")
    assert ledger_info["capabilities"] == ["GET_CUSTOMERS", "GET_INVOICES", "LIST_INVOICES"]


async def test_invoices_of_both_providers_in_one_query_cost_one_call_each(two: Any) -> None:
    client, ledger, flexprice = two
    sandbox = flexprice.sandbox.state.sandbox
    fp_ids = sorted(sandbox.invoices)[:5]
    wanted = [("f", "flexprice", i) for i in fp_ids] + [
        ("l", "ledger", f"L{n:03d}") for n in range(5)
    ]
    fields = [
        f'{prefix}{n % 5}: invoice(id: "{GlobalId(NodeType.INVOICE, provider, native).encode()}")'
        " { provider customer { name } }"
        for n, (prefix, provider, native) in enumerate(wanted)
    ]
    calls = ledger.calls
    body = await _post(client, "{ " + "\n".join(fields) + " }")
    assert "errors" not in body
    assert all(body["data"][f"l{n}"]["customer"]["name"] == "Ledger Customer" for n in range(5))
    # ledger: one batched invoice call, one batched customer call (it embeds no customers)
    assert ledger.calls - calls == 2
