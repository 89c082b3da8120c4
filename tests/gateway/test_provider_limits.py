"""Each provider's own limits, applied to its creates only: what a client sees, the upstream calls
each sandbox counted (`/_sandbox/stats`) and the invoices left behind."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.ids import GlobalId, NodeType
from gateway.settings import GatewaySettings
from gateway.wiring import Wired, on_sandbox
from tests.gateway.conftest import FAST

CREATE = """mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) {
              invoice { provider providerId total { amount currency } }
              userErrors { code message field } } }"""


@dataclass
class Gateway:
    http: httpx.AsyncClient
    providers: dict[str, Wired]

    def sandbox(self, name: str) -> Any:
        app = self.providers[name].sandbox
        assert app is not None
        return app.state.sandbox

    def customer(self, name: str) -> str:
        sandbox = self.sandbox(name)
        if name == "xendit":
            master = next(iter(sandbox.accounts))
            native = sorted(c.id for c in sandbox.customers.values() if c.user_id == master)[0]
        else:
            native = sorted(sandbox.customers)[0]
        return GlobalId(NodeType.CUSTOMER, name, native).encode()

    async def stats(self) -> dict[str, dict[str, int]]:
        """The requests each sandbox served, per route."""
        counted = {}
        for name, wired in self.providers.items():
            assert wired.sandbox is not None
            transport = httpx.ASGITransport(app=wired.sandbox)
            async with httpx.AsyncClient(transport=transport, base_url="http://sb") as client:
                stats = (await client.get("/_sandbox/stats")).json()
            counted[name] = {k: v for k, v in stats["requests"].items() if v}
        return counted

    async def create(self, provider: str, **input: Any) -> Any:
        values = {"customerId": self.customer(provider), **input}
        response = await self.http.post(
            "/graphql", json={"query": CREATE, "variables": {"input": values}}
        )
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]["createInvoice"]


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    flexprice = on_sandbox("flexprice", policy=FAST)
    xendit = on_sandbox("xendit", policy=FAST)
    providers = {"flexprice": flexprice, "xendit": xendit}
    app = create_app(settings=GatewaySettings(providers=tuple(providers)), providers=providers)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gw"
    ) as http:
        yield Gateway(http=http, providers=providers)
    await flexprice.provider.aclose()
    await xendit.provider.aclose()


NO_CALLS: dict[str, dict[str, int]] = {"flexprice": {}, "xendit": {}}

#: A metered price finer than FlexPrice stores (numeric(20,8): 8 decimals): 8 million calls at
#: USD 0.0000000125 each is USD 0.10, a whole number of cents.
METERED = [{"description": "API calls", "quantity": "8000000", "unitAmount": "0.0000000125"}]


async def test_an_amount_over_flexprices_storage_limit_is_refused_before_any_call(
    gateway: Gateway,
) -> None:
    before = len(gateway.sandbox("flexprice").invoices)
    result = await gateway.create(
        "flexprice",
        currency="USD",
        lineItems=[{"description": "x", "quantity": "2", "unitAmount": "600000000000"}],
    )
    assert result["invoice"] is None
    [error] = result["userErrors"]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", ["input", "lineItems", "0"])
    assert "must be less than 1,000,000,000,000" in error["message"]
    assert error["message"].startswith("lineItems.0: ")
    assert await gateway.stats() == NO_CALLS
    assert len(gateway.sandbox("flexprice").invoices) == before


async def test_a_price_finer_than_flexprice_stores_is_refused_there_and_made_at_xendit(
    gateway: Gateway,
) -> None:
    refused = await gateway.create("flexprice", currency="USD", lineItems=METERED)
    [error] = refused["userErrors"]
    assert error["code"] == "INVALID_INPUT"
    assert error["field"] == ["input", "lineItems", "0", "unitAmount"]
    assert "flexprice keeps at most 8 decimal places" in error["message"]
    assert await gateway.stats() == NO_CALLS

    made = await gateway.create("xendit", currency="USD", lineItems=METERED)
    assert made["userErrors"] == []
    assert made["invoice"]["total"] == {"amount": "0.10", "currency": "USD"}
    stored = gateway.sandbox("xendit").invoices[made["invoice"]["providerId"]]
    assert stored.amount == Decimal("0.10")
    assert [item.price for item in stored.items] == [Decimal("0.0000000125")]
    assert (await gateway.stats())["flexprice"] == {}


async def test_a_fraction_of_a_whole_unit_currency_is_refused_by_xendit_before_any_call(
    gateway: Gateway,
) -> None:
    lines = [{"description": "Kopi", "quantity": "1", "unitAmount": "4550.50"}]
    before = len(gateway.sandbox("xendit").invoices)
    refused = await gateway.create("xendit", currency="IDR", lineItems=lines)
    [error] = refused["userErrors"]
    assert error["code"] == "PROVIDER_REJECTED"
    assert error["field"] == ["input", "lineItems", "0", "unitAmount"]
    assert "whole units" in error["message"]
    assert await gateway.stats() == NO_CALLS
    assert len(gateway.sandbox("xendit").invoices) == before

    # ISO 4217 gives IDR two decimals, and FlexPrice takes them: Xendit's rule is Xendit's.
    made = await gateway.create("flexprice", currency="IDR", lineItems=lines)
    assert made["userErrors"] == []
    assert made["invoice"]["total"] == {"amount": "4550.50", "currency": "IDR"}


async def test_a_due_date_past_xendits_longest_expiry_is_refused_before_any_call(
    gateway: Gateway,
) -> None:
    due = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    lines = [{"description": "Kopi", "quantity": "1", "unitAmount": "25000"}]
    refused = await gateway.create("xendit", currency="IDR", lineItems=lines, dueAt=due.isoformat())
    [error] = refused["userErrors"]
    assert (error["code"], error["field"]) == ("PROVIDER_REJECTED", ["input", "dueAt"])
    assert "one year" in error["message"]
    assert await gateway.stats() == NO_CALLS

    made = await gateway.create("flexprice", currency="IDR", lineItems=lines, dueAt=due.isoformat())
    assert made["userErrors"] == []


async def test_a_customer_xendit_does_not_know_is_named_by_its_input_field(
    gateway: Gateway,
) -> None:
    result = await gateway.create(
        "xendit",
        customerId=GlobalId(NodeType.CUSTOMER, "xendit", "cust-nobody").encode(),
        currency="IDR",
        lineItems=[{"description": "Kopi", "quantity": "1", "unitAmount": "25000"}],
    )
    [error] = result["userErrors"]
    assert (error["code"], error["field"]) == ("PROVIDER_REJECTED", ["input", "customerId"])
    assert "cust-nobody" in error["message"]


async def test_a_payment_amount_flexprice_cannot_store_is_refused_before_any_call(
    gateway: Gateway,
) -> None:
    open_invoice = next(
        i
        for i in sorted(gateway.sandbox("flexprice").invoices.values(), key=lambda i: i.id)
        if (i.invoice_status, i.payment_status) == ("FINALIZED", "PENDING")
    )
    paid_before = open_invoice.amount_paid
    response = await gateway.http.post(
        "/graphql",
        json={
            "query": """mutation($input: UpdateInvoicePaymentStatusInput!) {
                updateInvoicePaymentStatus(input: $input) {
                  invoice { id } userErrors { code message field } } }""",
            "variables": {
                "input": {
                    "id": GlobalId(NodeType.INVOICE, "flexprice", open_invoice.id).encode(),
                    "paymentStatus": "UNPAID",
                    "amount": "1000000000000",
                }
            },
        },
    )
    [error] = response.json()["data"]["updateInvoicePaymentStatus"]["userErrors"]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", ["input", "amount"])
    assert "must be less than 1,000,000,000,000" in error["message"]
    assert await gateway.stats() == NO_CALLS
    assert open_invoice.amount_paid == paid_before


async def test_an_amount_over_xendits_own_maximum_is_its_refusal_named_by_the_input_field(
    gateway: Gateway,
) -> None:
    """Xendit gives no figures for its per-currency maximum: the gateway sends the create and
    names the field Xendit's MAXIMUM_TRANSFER_AMOUNT_ERROR is about. FlexPrice takes it."""
    lines = [{"description": "Server", "quantity": "2", "unitAmount": "1000000000"}]
    before = len(gateway.sandbox("xendit").invoices)
    refused = await gateway.create("xendit", currency="IDR", lineItems=lines)
    [error] = refused["userErrors"]
    assert (error["code"], error["field"]) == ("PROVIDER_REJECTED", ["input", "lineItems"])
    assert "exceeds the maximum" in error["message"]
    assert (await gateway.stats())["xendit"]["POST /v2/invoices/"] == 1
    assert len(gateway.sandbox("xendit").invoices) == before

    made = await gateway.create("flexprice", currency="IDR", lineItems=lines)
    assert made["userErrors"] == []
    assert made["invoice"]["total"] == {"amount": "2000000000.00", "currency": "IDR"}
