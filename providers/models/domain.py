"""The domain's records: what a provider returns and the gateway serves (`Money`, `Address`,
`Customer`, `LineItem`, `Invoice`, `CustomerInvoiceSummary`), the two status vocabularies and
`EXACT`, the decimal context of money's arithmetic."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Any

import msgspec

from providers.records import Source, plain_json

__all__ = [
    "EXACT",
    "Address",
    "Customer",
    "CustomerInvoiceSummary",
    "DomainRecord",
    "Invoice",
    "InvoiceStatus",
    "LineItem",
    "Money",
    "PaymentStatus",
]

#: Arithmetic that is exact or fails: the default context rounds past 28 digits, silently.
EXACT = decimal.Context(prec=100, traps=[decimal.Inexact, decimal.InvalidOperation])


class InvoiceStatus(StrEnum):
    """Where an invoice is in its life, the same for every provider."""

    DRAFT = "DRAFT"
    OPEN = "OPEN"
    PAID = "PAID"
    VOID = "VOID"
    EXPIRED = "EXPIRED"
    UNKNOWN = "UNKNOWN"


class PaymentStatus(StrEnum):
    """Where the money of an invoice is, the same for every provider."""

    UNPAID = "UNPAID"
    PROCESSING = "PROCESSING"
    PAID = "PAID"
    OVERPAID = "OVERPAID"
    FAILED = "FAILED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"
    SETTLED = "SETTLED"
    UNKNOWN = "UNKNOWN"


class DomainRecord(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A domain record a provider builds (see the module docstring): frozen, not validated, and
    never in a reference cycle, so the collector does not track it."""


class Money(DomainRecord, frozen=True, kw_only=True):
    """An exact amount in major units (dollars, not cents) and its upper-case currency."""

    amount: Decimal
    currency: str


class Address(DomainRecord, frozen=True, kw_only=True):
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


class Customer(DomainRecord, frozen=True, kw_only=True):
    """A customer. `complete` is False for a partial copy embedded in another record (Xendit's
    invoice `customer`): fields the copy lacks are None there, not unknown-to-the-provider."""

    provider: str
    id: str
    external_id: str | None = None
    name: str | None = None
    email: str | None = None
    address: Address | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)
    created_at: dt.datetime | None = None
    #: Where the provider's JSON object of the customer is (`raw_json` cuts it out when read).
    raw_source: Source | None = None
    complete: bool = True

    @property
    def raw_json(self) -> bytes | None:
        """The provider's JSON object of this customer, its bytes as sent (None if unknown)."""
        source = self.raw_source
        return None if source is None else source.json_bytes()

    @property
    def raw(self) -> dict[str, Any]:
        """The provider's JSON for this customer as received, decoded when asked for."""
        return plain_json(self.raw_json)


class LineItem(DomainRecord, frozen=True, kw_only=True):
    id: str | None = None
    description: str | None = None
    quantity: Decimal
    unit_amount: Money | None = None
    amount: Money
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)


class Invoice(DomainRecord, frozen=True, kw_only=False):
    """An invoice. Its fields can be given by position, in this order (the mappings do: a
    Struct of this many fields costs ~2.5 us to build by keyword, ~0.15 us by position);
    everyone else names them."""

    provider: str
    id: str
    status: InvoiceStatus
    payment_status: PaymentStatus
    provider_status: str
    currency: str
    created_at: dt.datetime
    number: str | None = None
    subtotal: Money | None = None
    total: Money | None = None
    amount_due: Money | None = None
    amount_paid: Money | None = None
    amount_remaining: Money | None = None
    tax: Money | None = None
    discount: Money | None = None
    #: A tuple, or a `Deferred` made when first read (the providers' lines).
    line_items: Sequence[LineItem] = ()
    description: str | None = None
    customer_id: str | None = None
    customer: Customer | None = None
    issued_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    paid_at: dt.datetime | None = None
    voided_at: dt.datetime | None = None
    finalized_at: dt.datetime | None = None
    pdf_url: str | None = None
    payment_url: str | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)
    #: Where the provider's JSON object of the invoice is (`raw_json` cuts it out when read).
    raw_source: Source | None = None

    @property
    def raw_json(self) -> bytes | None:
        """The provider's JSON object of this invoice, its bytes as sent (None if unknown)."""
        source = self.raw_source
        return None if source is None else source.json_bytes()

    @property
    def raw(self) -> dict[str, Any]:
        """The provider's JSON for this invoice as received, decoded when asked for."""
        return plain_json(self.raw_json)


class CustomerInvoiceSummary(DomainRecord, frozen=True, kw_only=True):
    """One currency's totals of a customer's invoices."""

    currency: str
    total_invoice_count: int
    unpaid_invoice_count: int
    overdue_invoice_count: int
    total_revenue: Money
    total_unpaid: Money
    total_overdue: Money
