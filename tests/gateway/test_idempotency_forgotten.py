"""A key the gateway does not remember (another process made it, or its TTL passed) is answered
from the provider's own record: the first invoice for the same input, and
`IDEMPOTENCY_KEY_REUSED` for any other input the provider keeps. Two apps over the same
sandboxes stand for two processes: each has its own memory of keys.

Regression: only the customer and the currency were compared, so a create with another amount,
other lines, another due date or memo returned the old invoice without an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from gateway.app import create_app, providers_from_environment
from gateway.ids import GlobalId, NodeType
from gateway.settings import GatewaySettings
from providers.base import InvoiceProvider

CREATE = """mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) {
  invoice { id total { amount } } userErrors { code message field } } }"""
DUE = (dt.datetime.now(dt.UTC) + dt.timedelta(days=10)).replace(microsecond=0)


@dataclass
class Processes:
    first: httpx.AsyncClient
    second: httpx.AsyncClient
    providers: dict[str, InvoiceProvider]

    def invoices(self, provider: str) -> int:
        app = self.providers[provider].sandbox_app
        assert app is not None
        return len(app.state.sandbox.invoices)

    def customer(self, provider: str) -> str:
        app = self.providers[provider].sandbox_app
        assert app is not None
        sandbox = app.state.sandbox
        if provider == "xendit":
            owner = next(iter(sandbox.accounts))
            native = sorted(c.id for c in sandbox.customers.values() if c.user_id == owner)[0]
        else:
            native = sorted(sandbox.customers)[0]
        return GlobalId(NodeType.CUSTOMER, provider, native).encode()


@pytest.fixture
async def processes() -> AsyncIterator[Processes]:
    settings = GatewaySettings()
    providers = providers_from_environment(settings, {})
    first = create_app(settings=settings, providers=providers)
    second = create_app(settings=settings, providers=providers)  # its own memory of keys
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url="http://a") as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url="http://b") as b,
    ):
        yield Processes(first=a, second=b, providers=dict(providers))
    for provider in providers.values():
        await provider.aclose()


def create_input(processes: Processes, provider: str, key: str, **change: Any) -> dict[str, Any]:
    currency, unit = ("USD", "12.50") if provider == "flexprice" else ("IDR", "50000")
    lines = [{"description": "Seats", "quantity": "2", "unitAmount": unit}]
    value: dict[str, Any] = {
        "customerId": processes.customer(provider),
        "currency": currency,
        "idempotencyKey": key,
        "description": "March",
        "dueAt": DUE.isoformat(),
        "lineItems": lines,
    }
    value.update(change)
    return {"input": value}


async def create(client: httpx.AsyncClient, variables: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": CREATE, "variables": variables})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["createInvoice"]
    return payload


def other_lines(provider: str) -> list[dict[str, str]]:
    """The same total as the original lines (2 x unit), split differently."""
    unit = "25.00" if provider == "flexprice" else "100000"
    return [{"description": "Seats", "quantity": "1", "unitAmount": unit}]


CHANGES: dict[str, Any] = {
    "amount": lambda p: {
        "lineItems": [{"description": "Seats", "quantity": "2", "unitAmount": "13.50"}]
        if p == "flexprice"
        else [{"description": "Seats", "quantity": "2", "unitAmount": "60000"}]
    },
    "same-total-other-lines": lambda p: {"lineItems": other_lines(p)},
    "line-description": lambda p: {
        "lineItems": [
            {
                "description": "Licenses",
                "quantity": "2",
                "unitAmount": "12.50" if p == "flexprice" else "50000",
            }
        ]
    },
    "due-date": lambda p: {"dueAt": (DUE + dt.timedelta(days=1)).isoformat()},
    "memo": lambda p: {"description": "April"},
}


@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize("provider", ["flexprice", "xendit"])
async def test_a_forgotten_key_with_other_input_is_key_reused_and_makes_nothing(
    processes: Processes, provider: str, change: str
) -> None:
    key = f"order-{provider}-{change}"
    made = await create(processes.first, create_input(processes, provider, key))
    assert made["userErrors"] == [], made
    count = processes.invoices(provider)
    other = create_input(processes, provider, key, **CHANGES[change](provider))
    refused = await create(processes.second, other)
    assert refused["invoice"] is None, refused
    [error] = refused["userErrors"]
    assert error["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert error["field"] == ["input", "idempotencyKey"]
    assert processes.invoices(provider) == count  # no second invoice


@pytest.mark.parametrize("provider", ["flexprice", "xendit"])
async def test_a_forgotten_key_with_the_same_input_returns_the_first_invoice(
    processes: Processes, provider: str
) -> None:
    key = f"order-{provider}-same"
    made = await create(processes.first, create_input(processes, provider, key))
    count = processes.invoices(provider)
    again = await create(processes.second, create_input(processes, provider, key))
    assert again["userErrors"] == [], again
    assert again["invoice"]["id"] == made["invoice"]["id"]
    assert processes.invoices(provider) == count


@pytest.mark.parametrize("provider", ["flexprice", "xendit"])
async def test_after_a_refusal_the_key_still_returns_its_own_invoice(
    processes: Processes, provider: str
) -> None:
    key = f"order-{provider}-after"
    made = await create(processes.first, create_input(processes, provider, key))
    other = create_input(processes, provider, key, **CHANGES["amount"](provider))
    assert (await create(processes.second, other))["userErrors"][0]["code"] == (
        "IDEMPOTENCY_KEY_REUSED"
    )
    again = await create(processes.second, create_input(processes, provider, key))
    assert again["invoice"]["id"] == made["invoice"]["id"]
