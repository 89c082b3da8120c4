"""Small builders shared by the FlexPrice sandbox tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sandboxes.flexprice import FlexPriceSandbox
from sandboxes.flexprice.records import Customer, Invoice

BASE_URL = "http://flexprice.sandbox"
NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


class FakeClock:
    """A clock tests move by hand; the sandbox reads it on every call."""

    def __init__(self, start: datetime = NOW) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


def find_invoice(
    sandbox: FlexPriceSandbox,
    *,
    invoice_status: str | None = None,
    payment_status: str | None = None,
    invoice_type: str | None = None,
    where: Callable[[Invoice], bool] = lambda inv: True,
) -> Invoice:
    """The oldest seeded invoice matching every given criterion."""
    for inv in sorted(sandbox.invoices.values(), key=lambda i: i.created_at):
        if (
            (invoice_status is None or inv.invoice_status == invoice_status)
            and (payment_status is None or inv.payment_status == payment_status)
            and (invoice_type is None or inv.invoice_type == invoice_type)
            and where(inv)
        ):
            return inv
    raise LookupError("no seeded invoice matches")


def find_customer(sandbox: FlexPriceSandbox, *, index: int = 0) -> Customer:
    """The ``index``-th seeded customer in creation order."""
    return sorted(sandbox.customers.values(), key=lambda c: c.created_at)[index]


def one_off_body(customer_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid ``POST /invoices`` body: two lines summing to 150.50 USD."""
    body: dict[str, Any] = {
        "customer_id": customer_id,
        "currency": "USD",
        "invoice_type": "ONE_OFF",
        "amount_due": "150.50",
        "subtotal": "150.50",
        "total": "150.50",
        "idempotency_key": "order-42",
        "description": "Consulting",
        "due_date": "2025-07-15T00:00:00Z",
        "line_items": [
            {"display_name": "Setup", "amount": "100.50", "quantity": "1"},
            {"display_name": "Support", "amount": "50", "quantity": "2"},
        ],
        "metadata": {"order_id": "42"},
    }
    body.update(overrides)
    return body


def money(value: str) -> Decimal:
    return Decimal(value)
