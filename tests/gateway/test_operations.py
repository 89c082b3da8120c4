"""`gateway.operations.create_invoice`, the create-once service below the schema, called as a
resolver calls it: a real provider on its in-process sandbox, a real key store, and the upstream
requests the sandbox counted."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from gateway.callers import Caller, Scope
from gateway.idempotency import MemoryStore
from gateway.operations import Deadline, KeyMismatch, create_invoice
from gateway.wiring import on_sandbox
from providers.errors import InvalidInput
from providers.flexprice import FlexPriceProvider
from providers.models import InvoiceDraft, LineItemDraft
from tests.gateway.conftest import FAST

#: Each provider's in-process sandbox app (what `on_sandbox` wired it to).
_SANDBOXES: dict[int, Any] = {}


@pytest.fixture
async def provider() -> AsyncIterator[FlexPriceProvider]:
    wired = on_sandbox("flexprice", policy=FAST)
    made = wired.provider
    assert isinstance(made, FlexPriceProvider)
    _SANDBOXES[id(made)] = wired.sandbox
    yield made
    del _SANDBOXES[id(made)]
    await made.aclose()


def sandbox(provider: FlexPriceProvider) -> Any:
    return _SANDBOXES[id(provider)].state.sandbox


async def calls(provider: FlexPriceProvider) -> dict[str, int]:
    """Requests the sandbox served, per route."""
    transport = httpx.ASGITransport(app=_SANDBOXES[id(provider)])
    async with httpx.AsyncClient(transport=transport, base_url="http://sb") as client:
        stats = (await client.get("/_sandbox/stats")).json()
    return {route: n for route, n in stats["requests"].items() if n}


def draft(provider: FlexPriceProvider, unit_amount: str = "12.50") -> InvoiceDraft:
    return InvoiceDraft(
        customer_id=sorted(sandbox(provider).customers)[0],
        currency="USD",
        line_items=(
            LineItemDraft(
                description="Seats", quantity=Decimal(2), unit_amount=Decimal(unit_amount)
            ),
        ),
        due_at=dt.datetime(2030, 1, 31, tzinfo=dt.UTC),
    )


CALLER = Caller(name="shop", scope=Scope.WRITE)


async def test_a_repeat_gets_the_first_invoice_and_the_provider_makes_one(
    provider: FlexPriceProvider,
) -> None:
    store = MemoryStore(ttl=60, wait=5)
    made = [
        await create_invoice(
            provider,
            draft(provider),
            key="order-1",
            caller=CALLER,
            store=store,
            deadline=Deadline.starting_now(10),
        )
        for _ in range(2)
    ]
    assert made[0].id == made[1].id
    assert made[0].total is not None
    assert made[0].total.amount == Decimal(25)
    assert [i.idempotency_key for i in sandbox(provider).invoices.values()].count(
        "shop:order-1"
    ) == 1
    # The repeat is answered by reading the remembered invoice, not by a second create.
    assert (await calls(provider))["POST /v1/invoices"] == 1


async def test_the_same_key_with_another_draft_is_refused_without_a_create(
    provider: FlexPriceProvider,
) -> None:
    store = MemoryStore(ttl=60, wait=5)
    await create_invoice(
        provider,
        draft(provider),
        key="order-2",
        caller=CALLER,
        store=store,
        deadline=Deadline.starting_now(10),
    )
    with pytest.raises(KeyMismatch) as refused:
        await create_invoice(
            provider,
            draft(provider, unit_amount="13"),
            key="order-2",
            caller=CALLER,
            store=store,
            deadline=Deadline.starting_now(10),
        )
    assert refused.value.what == "a different invoice"
    assert (await calls(provider))["POST /v1/invoices"] == 1


async def test_a_draft_over_the_providers_limits_claims_no_key_and_sends_nothing(
    provider: FlexPriceProvider,
) -> None:
    store = MemoryStore(ttl=60, wait=5)
    with pytest.raises(InvalidInput) as refused:
        await create_invoice(
            provider,
            draft(provider, unit_amount="1000000000000"),
            key="order-3",
            caller=CALLER,
            store=store,
            deadline=Deadline.starting_now(10),
        )
    assert refused.value.provider == "flexprice"
    assert [v.field for v in refused.value.violations] == [("line_items", "0", "unit_amount")]
    assert len(store) == 0
    assert await calls(provider) == {}
    # The key is free: the corrected draft is created with it.
    made = await create_invoice(
        provider,
        draft(provider),
        key="order-3",
        caller=CALLER,
        store=store,
        deadline=Deadline.starting_now(10),
    )
    assert sandbox(provider).invoices[made.id].idempotency_key == "shop:order-3"


async def test_without_a_key_the_provider_gets_one_of_the_gateways_own(
    provider: FlexPriceProvider,
) -> None:
    made = await create_invoice(
        provider,
        draft(provider),
        key=None,
        caller=None,
        store=MemoryStore(ttl=60),
        deadline=Deadline.starting_now(10),
    )
    assert sandbox(provider).invoices[made.id].idempotency_key.startswith("gw-")
