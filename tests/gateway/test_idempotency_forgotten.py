"""A key the gateway has forgotten (a restart, past its TTL) still never returns an invoice made
for another input: the provider's record under the key is compared with all the input it keeps
(line items, amounts, due date, description, metadata), and any difference is
IDEMPOTENCY_KEY_REUSED. The same input still gets the first invoice back."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.ids import GlobalId, NodeType
from gateway.settings import GatewaySettings
from gateway.wiring import Wired, on_sandbox
from tests.gateway.conftest import FAST

WRITER = "writer-0123456789abcdef0123"
KEYS = f"billing:write:{WRITER}"

CREATE = """mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) {
  invoice { providerId } userErrors { code message field } } }"""

#: One input, then each change a repeat with the same key might make.
DUE = (dt.datetime.now(dt.UTC) + dt.timedelta(days=20)).replace(microsecond=0)
CHANGES: dict[str, tuple[dict[str, Any], str]] = {
    "amount": ({"unitAmount": "10001"}, "lineItems"),
    "quantity": ({"quantity": "2"}, "lineItems"),
    "line description": ({"description": "Plan B"}, "lineItems"),
    "due date": ({"dueAt": (DUE + dt.timedelta(days=3)).isoformat()}, "dueAt"),
    "description": ({"invoiceDescription": "Another month"}, "description"),
    "metadata": ({"metadata": [{"key": "order", "value": "B-2"}]}, "metadata"),
}


def _input(provider: Wired, key: str, **change: Any) -> dict[str, Any]:
    assert provider.sandbox is not None
    sandbox = provider.sandbox.state.sandbox
    if provider.name == "xendit":
        account = next(iter(sandbox.accounts))
        customer = min(c.id for c in sandbox.customers.values() if c.user_id == account)
    else:
        customer = min(sandbox.customers)
    line = {
        "description": change.pop("description", "Plan"),
        "quantity": change.pop("quantity", "1"),
        "unitAmount": change.pop("unitAmount", "10000"),
    }
    values = {
        "customerId": GlobalId(NodeType.CUSTOMER, provider.name, customer).encode(),
        "currency": "IDR" if provider.name == "xendit" else "USD",
        "idempotencyKey": key,
        "lineItems": [line],
        "dueAt": DUE.isoformat(),
        "description": "This month",
        "metadata": [{"key": "order", "value": "B-1"}],
    }
    if "invoiceDescription" in change:
        values["description"] = change.pop("invoiceDescription")
    values.update(change)
    return {"input": values}


def _held(provider: Wired, key: str) -> int:
    assert provider.sandbox is not None
    invoices = provider.sandbox.state.sandbox.invoices.values()
    held = [i.external_id if provider.name == "xendit" else i.idempotency_key for i in invoices]
    return sum(1 for h in held if h and h.endswith(f":{key}"))


@pytest.fixture(params=["flexprice", "xendit"])
async def provider(request: pytest.FixtureRequest) -> AsyncIterator[Wired]:
    made = on_sandbox(request.param, policy=FAST)
    yield made
    await made.provider.aclose()


Gateways = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def gateway_for() -> AsyncIterator[Gateways]:
    """A new gateway, with its own memory of keys, over the given provider."""
    clients: list[httpx.AsyncClient] = []

    def make(provider: Wired, **settings: Any) -> httpx.AsyncClient:
        app = create_app(
            settings=GatewaySettings(providers=(provider.name,), api_keys=KEYS, **settings),
            providers={provider.name: provider},
        )
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def _create(client: httpx.AsyncClient, variables: dict[str, Any]) -> Any:
    response = await client.post(
        "/graphql",
        json={"query": CREATE, "variables": variables},
        headers={"authorization": f"Bearer {WRITER}"},
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["createInvoice"]


def _refused_for(payload: Any, named: str) -> None:
    assert payload["invoice"] is None
    [error] = payload["userErrors"]
    assert error["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert error["field"] == ["input", "idempotencyKey"]
    assert f"its {named} differ" in error["message"]


@pytest.mark.parametrize("change", list(CHANGES))
async def test_a_restarted_gateway_refuses_the_key_with_another_input(
    provider: Wired, gateway_for: Gateways, change: str
) -> None:
    values, named = CHANGES[change]
    key = f"order-{change.replace(' ', '-')}"
    made = await _create(gateway_for(provider), _input(provider, key))
    assert made["userErrors"] == []
    # Another process, or the same one after a restart: it never saw the key.
    other = await _create(gateway_for(provider), _input(provider, key, **values))
    _refused_for(other, named)
    assert _held(provider, key) == 1
    # The very same input, through yet another gateway, gets the first invoice back.
    again = await _create(gateway_for(provider), _input(provider, key))
    assert again == made
    assert _held(provider, key) == 1


async def test_a_key_past_its_ttl_is_refused_with_another_amount(
    provider: Wired, gateway_for: Gateways
) -> None:
    gateway = gateway_for(provider, idempotency_ttl_seconds=0.05)
    made = await _create(gateway, _input(provider, "order-ttl"))
    assert made["userErrors"] == []
    await asyncio.sleep(0.1)  # the gateway forgets the key
    other = await _create(gateway, _input(provider, "order-ttl", unitAmount="20000"))
    _refused_for(other, "lineItems")
    assert _held(provider, "order-ttl") == 1
    again = await _create(gateway, _input(provider, "order-ttl"))
    assert again == made
