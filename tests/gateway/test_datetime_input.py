"""DateTime inputs: read as UTC without an offset, refused outside 1970-9998 before any provider
is asked. Regressions of what the fuzz run (test_fuzz.py) found: a date whose conversion to UTC
overflows was a masked INTERNAL_SERVER_ERROR on every path that takes a DateTime, and a due date
without an offset was one on Xendit creates."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.ids import GlobalId, NodeType
from gateway.settings import GatewaySettings
from gateway.wiring import Wired, on_sandbox
from tests.gateway.conftest import FAST


@dataclass
class Both:
    http: httpx.AsyncClient
    providers: dict[str, Wired]

    def sandbox(self, name: str) -> Any:
        app = self.providers[name].sandbox
        assert app is not None
        return app.state.sandbox

    def gid(self, kind: NodeType, name: str) -> str:
        records = self.sandbox(name).invoices if kind is NodeType.INVOICE else None
        records = records if records is not None else self.sandbox(name).customers
        return GlobalId(kind, name, sorted(records)[0]).encode()

    async def upstream(self) -> int:
        total = 0
        for name in self.providers:
            stats = (await self.http.get(f"/sandbox/{name}/_sandbox/stats")).json()
            total += stats["requests_total"]
        return total

    async def post(self, query: str, variables: dict[str, Any]) -> Any:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200
        return response.json()


@pytest.fixture
async def both() -> AsyncIterator[Both]:
    providers = {
        "flexprice": on_sandbox("flexprice", policy=FAST),
        "xendit": on_sandbox("xendit", policy=FAST),
    }
    app = create_app(settings=GatewaySettings(), providers=providers)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        yield Both(http=http, providers=providers)
    for wired in providers.values():
        await wired.provider.aclose()


CREATE = """mutation($c: ID!, $cur: String!, $d: DateTime) {
  createInvoice(input: {customerId: $c, currency: $cur, dueAt: $d,
                        lineItems: [{description: "x", quantity: "1", unitAmount: "1"}]}) {
    invoice { dueAt } userErrors { code message }
  } }"""
PATHS = {
    "updateInvoice": (
        "mutation($i: ID!, $d: DateTime) { updateInvoice(input: {id: $i, dueAt: $d}) "
        "{ userErrors { code } } }"
    ),
    "createInvoice": CREATE,
    "invoices": "query($d: DateTime) { invoices(filter: {createdAfter: $d}) { totalCount } }",
    "customer.invoices": (
        "query($c: ID!, $d: DateTime) { customer(id: $c) { "
        "invoices(filter: {createdBefore: $d}) { totalCount } } }"
    ),
    "invoicePreview": (
        'query($d: DateTime) { invoicePreview(input: {provider: "flexprice", '
        'subscriptionId: "sub_1", periodStart: $d}) { currency } }'
    ),
}


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize(
    "moment",
    [
        "0001-01-01T00:00:00+05:00",  # the fuzzer's case: UTC is in year 0
        "9999-12-31T23:59:59-05:00",  # UTC is in year 10000
        "0001-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "9999-01-01T00:00:00",
    ],
)
async def test_a_datetime_out_of_range_is_refused_before_any_provider(
    both: Both, path: str, moment: str
) -> None:
    variables = {
        "i": both.gid(NodeType.INVOICE, "flexprice"),
        "c": both.gid(NodeType.CUSTOMER, "flexprice"),
        "cur": "USD",
        "d": moment,
    }
    query = PATHS[path]
    used = {name: value for name, value in variables.items() if f"${name}:" in query}
    body = await both.post(query, used)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "out of range" in error["message"]
    assert await both.upstream() == 0


async def test_the_first_instant_of_1970_is_in_range(both: Both) -> None:
    body = await both.post(PATHS["invoices"], {"d": "1970-01-01T00:00:00Z"})
    assert body["data"]["invoices"]["totalCount"] is None  # Xendit cannot count
    assert "errors" not in body


@pytest.mark.parametrize("provider", ["flexprice", "xendit"])
async def test_a_due_date_without_an_offset_is_utc_on_every_provider(
    both: Both, provider: str
) -> None:
    due = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).replace(microsecond=0)
    body = await both.post(
        CREATE,
        {
            "c": both.gid(NodeType.CUSTOMER, provider),
            "cur": "USD",
            "d": due.replace(tzinfo=None).isoformat(),
        },
    )
    payload = body["data"]["createInvoice"]
    assert payload["userErrors"] == [], body
    stored = dt.datetime.fromisoformat(payload["invoice"]["dueAt"])
    # Xendit keeps a duration, not the date: it comes back within the second it was sent in.
    assert abs(stored - due) < dt.timedelta(seconds=2)
