"""An idempotency key belongs to its caller: two callers who pick the same key get an invoice
each, and a key the provider already holds for another invoice is refused, not answered with
that invoice (the gateway's own memory of keys is per process and expires)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.ids import GlobalId, NodeType
from gateway.settings import GatewaySettings
from gateway.wiring import Wired, on_sandbox
from tests.gateway.conftest import FAST

ALICE = "alice-0123456789abcdef0123"
BOB = "bob-0123456789abcdef012345"
KEYS = f"alice:write:{ALICE},bob:write:{BOB}"

CREATE = """mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) {
  invoice { providerId customer { id } } userErrors { code field } } }"""


def _customers(provider: Wired) -> list[str]:
    assert provider.sandbox is not None
    sandbox = provider.sandbox.state.sandbox
    if provider.name == "xendit":
        account = next(iter(sandbox.accounts))
        return sorted(c.id for c in sandbox.customers.values() if c.user_id == account)
    return sorted(sandbox.customers)


def _invoices_with(provider: Wired, key: str) -> int:
    assert provider.sandbox is not None
    invoices = provider.sandbox.state.sandbox.invoices.values()
    held = [i.external_id if provider.name == "xendit" else i.idempotency_key for i in invoices]
    # The key as the provider holds it: scoped to the caller (`NAME:KEY`; `gw-` on Xendit).
    return sum(1 for h in held if h and h.endswith(f":{key}"))


def _input(provider: Wired, customer: str, key: str) -> dict[str, Any]:
    currency = "IDR" if provider.name == "xendit" else "USD"
    return {
        "input": {
            "customerId": GlobalId(NodeType.CUSTOMER, provider.name, customer).encode(),
            "currency": currency,
            "idempotencyKey": key,
            "lineItems": [{"description": "Plan", "quantity": "1", "unitAmount": "10000"}],
        }
    }


@pytest.fixture(params=["flexprice", "xendit"])
async def provider(request: pytest.FixtureRequest) -> AsyncIterator[Wired]:
    made = on_sandbox(request.param, policy=FAST)
    yield made
    await made.provider.aclose()


@pytest.fixture
async def gateway_for() -> AsyncIterator[Callable[[Wired], httpx.AsyncClient]]:
    """A new gateway (its own key memory) over the given provider: a restart, another worker."""
    clients: list[httpx.AsyncClient] = []

    def make(provider: Wired) -> httpx.AsyncClient:
        app = create_app(
            settings=GatewaySettings(providers=(provider.name,), api_keys=KEYS),
            providers={provider.name: provider},
        )
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def _create(client: httpx.AsyncClient, key: str, variables: dict[str, Any]) -> Any:
    response = await client.post(
        "/graphql",
        json={"query": CREATE, "variables": variables},
        headers={"authorization": f"Bearer {key}"},
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["createInvoice"]


async def test_two_callers_with_one_key_get_an_invoice_each(
    provider: Wired, gateway_for: Callable[[Wired], httpx.AsyncClient]
) -> None:
    first, second = _customers(provider)[:2]
    gateway = gateway_for(provider)
    alice = await _create(gateway, ALICE, _input(provider, first, "order-1"))
    bob = await _create(gateway, BOB, _input(provider, second, "order-1"))
    assert alice["userErrors"] == []
    assert bob["userErrors"] == []
    assert alice["invoice"]["providerId"] != bob["invoice"]["providerId"]
    assert (
        bob["invoice"]["customer"]["id"]
        == GlobalId(NodeType.CUSTOMER, provider.name, second).encode()
    )
    assert _invoices_with(provider, "order-1") == 2
    # Each caller's repeat, through a gateway that never saw the key, gets that caller's own.
    again = await _create(gateway_for(provider), BOB, _input(provider, second, "order-1"))
    assert again["invoice"]["providerId"] == bob["invoice"]["providerId"]
    assert _invoices_with(provider, "order-1") == 2


async def test_a_key_the_provider_holds_for_another_invoice_is_refused(
    provider: Wired, gateway_for: Callable[[Wired], httpx.AsyncClient]
) -> None:
    first, second = _customers(provider)[:2]
    made = await _create(gateway_for(provider), ALICE, _input(provider, first, "order-2"))
    assert made["userErrors"] == []
    # A gateway that does not remember the key (restarted): the same caller, the same key,
    # another customer. The provider's record of the key is for the first invoice.
    other = await _create(gateway_for(provider), ALICE, _input(provider, second, "order-2"))
    assert other == {
        "invoice": None,
        "userErrors": [{"code": "IDEMPOTENCY_KEY_REUSED", "field": ["input", "idempotencyKey"]}],
    }
    assert _invoices_with(provider, "order-2") == 1
