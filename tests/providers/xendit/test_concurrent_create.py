"""Two creates with one idempotency key at the same moment make one Xendit invoice."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from gateway.wiring import on_sandbox
from providers.http import HttpPolicy
from providers.models import InvoiceDraft, LineItemDraft
from providers.xendit import XenditProvider

POLICY = HttpPolicy(wait_initial=0.001, wait_max=0.01, wait_jitter=0.0)


async def test_concurrent_creates_with_one_key_make_one_invoice() -> None:
    wired = on_sandbox("xendit", policy=POLICY)
    provider = wired.provider
    assert isinstance(provider, XenditProvider)
    sandbox = wired.sandbox.state.sandbox
    master = next(iter(sandbox.accounts))
    customer = sorted(c.id for c in sandbox.customers.values() if c.user_id == master)[0]
    draft = InvoiceDraft(
        customer_id=customer,
        currency="IDR",
        line_items=(
            LineItemDraft(description="Kopi", quantity=Decimal(2), unit_amount=Decimal(15000)),
        ),
    )
    before = set(sandbox.invoices)
    created = await asyncio.gather(
        *(provider.create_invoice(draft, idempotency_key="same-moment") for _ in range(5))
    )
    assert len({invoice.id for invoice in created}) == 1
    assert len(set(sandbox.invoices) - before) == 1
    assert provider._creating == {}  # no lock is kept once nobody waits on it
    await provider.aclose()
