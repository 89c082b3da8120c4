"""Small builders shared by the Xendit sandbox tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sandboxes.xendit import XenditSandbox
from sandboxes.xendit.records import Invoice
from sandboxes.xendit.store import MASTER_USER_ID, SUB_ACCOUNTS

BASE_URL = "http://xendit.sandbox"
NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
SUB_ACCOUNT_ID = SUB_ACCOUNTS[0].user_id


class FakeClock:
    """A clock tests move by hand; the sandbox reads it on every call."""

    def __init__(self, start: datetime = NOW) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


def find_invoice(
    sandbox: XenditSandbox,
    *,
    status: str | None = None,
    currency: str | None = None,
    user_id: str = MASTER_USER_ID,
    where: Callable[[Invoice], bool] = lambda inv: True,
) -> Invoice:
    """The newest seeded invoice of ``user_id`` matching every given criterion."""
    for inv in sorted(sandbox.invoices.values(), key=lambda i: i.created, reverse=True):
        if (
            inv.user_id == user_id
            and (status is None or inv.status == status)
            and (currency is None or inv.currency == currency)
            and where(inv)
        ):
            return inv
    raise LookupError("no seeded invoice matches")


def master_invoices(sandbox: XenditSandbox) -> list[Invoice]:
    """The master account's invoices, newest first."""
    owned = [i for i in sandbox.invoices.values() if i.user_id == MASTER_USER_ID]
    return sorted(owned, key=lambda i: i.created, reverse=True)


def invoice_body(**overrides: Any) -> dict[str, Any]:
    """A valid create body as the official SDK sends it (numbers as floats)."""
    body: dict[str, Any] = {
        "external_id": "order-2025-0001",
        "amount": 150000.0,
        "currency": "IDR",
        "description": "Trip to Bali",
        "payer_email": "budi@example.com",
        "invoice_duration": 3600.0,
        "customer": {
            "given_names": "Budi",
            "surname": "Santoso",
            "email": "budi@example.com",
            "mobile_number": "+6281234567890",
        },
        "items": [
            {"name": "Shoes", "price": 120000.0, "quantity": 1.0},
            {"name": "Socks", "price": 10000.0, "quantity": 2.0},
        ],
        "fees": [{"type": "Shipping", "value": 10000.0}],
        "metadata": {"order": "0001"},
    }
    body.update(overrides)
    return body
