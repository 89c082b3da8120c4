"""FlexPrice's answers as records, named after FlexPrice's own schemas (what we send is
`bodies.py`'s).

Responses are `providers.records.Record`s, decoded from the body's bytes in one pass: every field
is optional, unknown fields are ignored (they stay in `raw`), and `null` counts as absent (a list
or mapping sent as `null` is `None`, not empty), because the server sends `null` for fields the
spec does not mark nullable and newer servers add fields. Money is decoded straight to `Decimal`
(the mapping refuses a value that is not finite); timestamps are `datetime`s the mapping turns
into UTC (`records.utc`). Each response keeps the bytes of the JSON object it was read from; `raw`
decodes them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, ClassVar, Final

import msgspec

from providers.records import Record

__all__ = [
    "INVOICE_STATUSES",
    "NO_LINES",
    "PAYMENT_STATUSES",
    "CustomerInvoiceSummary",
    "CustomerMultiCurrencyInvoiceSummary",
    "CustomerResponse",
    "ErrorResponse",
    "InvoiceLineItemResponse",
    "InvoicePdfUrlResponse",
    "InvoiceResponse",
    "ListCustomersResponse",
    "ListInvoicesResponse",
    "PaginationResponse",
    "SuccessResponse",
    "TemporalWorkflowResult",
    "lines_of",
]

#: `types.InvoiceStatus` and `types.PaymentStatus` as of the spec.
INVOICE_STATUSES = ("DRAFT", "FINALIZED", "VOIDED", "SKIPPED")
PAYMENT_STATUSES = (
    "INITIATED",
    "PENDING",
    "PROCESSING",
    "SUCCEEDED",
    "OVERPAID",
    "FAILED",
    "REFUNDED",
    "PARTIALLY_REFUNDED",
    "VOIDED",
)


#: Metadata is `{string: string}`; values of other types from a newer server are read as they
#: come and turned into text by the mapping (`mapping.metadata_of`).
Metadata = dict[str, Any]


class CustomerResponse(Record):
    id: str | None = None
    external_id: str | None = None
    name: str | None = None
    email: str | None = None
    contact: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    address_city: str | None = None
    address_state: str | None = None
    address_postal_code: str | None = None
    address_country: str | None = None
    timezone: str | None = None
    metadata: Metadata | None = None
    status: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


class InvoiceLineItemResponse(Record):
    id: str | None = None
    invoice_id: str | None = None
    customer_id: str | None = None
    currency: str | None = None
    amount: Decimal | None = None
    quantity: Decimal | None = None
    display_name: str | None = None
    plan_display_name: str | None = None
    meter_display_name: str | None = None
    price_id: str | None = None
    price_unit: str | None = None
    price_unit_amount: Decimal | None = None
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None
    metadata: Metadata | None = None


#: `InvoiceResponse.line_items` when the JSON has none.
NO_LINES: Final = msgspec.Raw(b"null")


class InvoiceResponse(Record):
    nested: ClassVar[tuple[str, ...]] = ("customer",)

    id: str | None = None
    customer_id: str | None = None
    subscription_id: str | None = None
    invoice_type: str | None = None
    invoice_status: str | None = None
    payment_status: str | None = None
    currency: str | None = None
    amount_due: Decimal | None = None
    amount_paid: Decimal | None = None
    amount_remaining: Decimal | None = None
    subtotal: Decimal | None = None
    total: Decimal | None = None
    total_discount: Decimal | None = None
    total_tax: Decimal | None = None
    invoice_number: str | None = None
    idempotency_key: str | None = None
    description: str | None = None
    due_date: dt.datetime | None = None
    issue_date: dt.datetime | None = None
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None
    finalized_at: dt.datetime | None = None
    paid_at: dt.datetime | None = None
    voided_at: dt.datetime | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    invoice_pdf_url: str | None = None
    hosted_invoice_url: str | None = None
    recalculated_invoice_id: str | None = None
    metadata: Metadata | None = None
    #: The lines' JSON, decoded only when read (`lines_of`): a listing seldom asks for them,
    #: and they were about a third of what decoding a page built.
    line_items: msgspec.Raw = NO_LINES
    customer: CustomerResponse | None = None


_LINES: Final = msgspec.json.Decoder(list[InvoiceLineItemResponse] | None, strict=False)


def lines_of(invoice: InvoiceResponse) -> list[InvoiceLineItemResponse]:
    """The invoice's line items, decoded from their JSON now (`[]` for none or `null`).
    Raises `msgspec.ValidationError` or `msgspec.DecodeError` (`ValueError`s) for lines that
    are not `InvoiceLineItemResponse`s."""
    return _LINES.decode(invoice.line_items) or []


class PaginationResponse(Record):
    total: int | None = None
    limit: int | None = None
    offset: int | None = None


class ListInvoicesResponse(Record):
    nested: ClassVar[tuple[str, ...]] = ("items",)

    items: list[InvoiceResponse] | None = None
    pagination: PaginationResponse | None = None


class ListCustomersResponse(Record):
    nested: ClassVar[tuple[str, ...]] = ("items",)

    items: list[CustomerResponse] | None = None
    pagination: PaginationResponse | None = None


class SuccessResponse(Record):
    message: str | None = None


class TemporalWorkflowResult(Record):
    message: str | None = None
    run_id: str | None = None
    workflow_id: str | None = None


class InvoicePdfUrlResponse(Record):
    """`GET /invoices/{id}/pdf?url=true` (the spec only declares the binary form)."""

    presigned_url: str | None = None


class CustomerInvoiceSummary(Record):
    currency: str | None = None
    customer_id: str | None = None
    total_invoice_count: int | None = None
    unpaid_invoice_count: int | None = None
    overdue_invoice_count: int | None = None
    total_revenue_amount: Decimal | None = None
    total_unpaid_amount: Decimal | None = None
    total_overdue_amount: Decimal | None = None
    unpaid_usage_charges: Decimal | None = None
    unpaid_fixed_charges: Decimal | None = None


class CustomerMultiCurrencyInvoiceSummary(Record):
    customer_id: str | None = None
    default_currency: str | None = None
    summaries: list[CustomerInvoiceSummary] | None = None


class ErrorResponse(Record):
    """`{code, message, http_status_code, details?}`, or `{error}` on 401/403."""

    code: str | None = None
    message: str | None = None
    http_status_code: int | None = None
    error: str | None = None
