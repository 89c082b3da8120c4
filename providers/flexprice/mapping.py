"""Pure functions between FlexPrice's wire models and the domain model.

FlexPrice has two status axes, `invoice_status` (the document) and `payment_status` (the money);
the tables below fold them into the gateway's `InvoiceStatus` and `PaymentStatus`. A value
FlexPrice adds later maps to UNKNOWN and is logged once, never raised.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import partial
from typing import Any, Final

import msgspec

from providers.errors import ProviderBadResponse, ProviderRejected
from providers.flexprice import wire
from providers.models import (
    Address,
    Customer,
    CustomerInvoiceSummary,
    Deferred,
    Invoice,
    InvoiceDraft,
    InvoicePreviewRequest,
    InvoiceStatus,
    InvoiceUpdate,
    LazyInvoices,
    LineItem,
    Money,
    PaymentStatus,
    PaymentStatusUpdate,
)
from providers.records import finite, utc

__all__ = [
    "ANY",
    "INVOICE_STATUS_TABLE",
    "PAYMENT_STATUS_OVERRIDES",
    "PAYMENT_STATUS_TABLE",
    "PAYMENT_STATUS_TARGETS",
    "PROVIDER",
    "create_differences",
    "invoice_status_of",
    "metadata_of",
    "payment_status_of",
    "to_create_request",
    "to_customer",
    "to_invoice",
    "to_invoices",
    "to_line_item",
    "to_payment_status_request",
    "to_preview_request",
    "to_summary",
    "to_update_request",
]

PROVIDER: Final = "flexprice"
logger = logging.getLogger(__name__)

#: In a table key: every payment status, including ones FlexPrice adds later.
ANY: Final = "*"

#: (invoice_status, payment_status) -> status. An exact key wins over `(invoice_status, ANY)`.
INVOICE_STATUS_TABLE: Final[dict[tuple[str, str], InvoiceStatus]] = {
    ("DRAFT", ANY): InvoiceStatus.DRAFT,
    # A zero-amount subscription draft that is never payable: VOID is a judgement call.
    ("SKIPPED", ANY): InvoiceStatus.VOID,
    ("VOIDED", ANY): InvoiceStatus.VOID,
    ("FINALIZED", "INITIATED"): InvoiceStatus.OPEN,
    ("FINALIZED", "PENDING"): InvoiceStatus.OPEN,
    ("FINALIZED", "PROCESSING"): InvoiceStatus.OPEN,
    ("FINALIZED", "FAILED"): InvoiceStatus.OPEN,
    # A voided *payment*, not a voided invoice: the invoice is still owed.
    ("FINALIZED", "VOIDED"): InvoiceStatus.OPEN,
    ("FINALIZED", "SUCCEEDED"): InvoiceStatus.PAID,
    ("FINALIZED", "OVERPAID"): InvoiceStatus.PAID,
    ("FINALIZED", "PARTIALLY_REFUNDED"): InvoiceStatus.PAID,
    ("FINALIZED", "REFUNDED"): InvoiceStatus.PAID,
}

#: payment_status -> payment status, whatever the invoice_status (unless overridden below).
PAYMENT_STATUS_TABLE: Final[dict[str, PaymentStatus]] = {
    "INITIATED": PaymentStatus.UNPAID,
    "PENDING": PaymentStatus.UNPAID,
    "PROCESSING": PaymentStatus.PROCESSING,
    "SUCCEEDED": PaymentStatus.PAID,
    "OVERPAID": PaymentStatus.OVERPAID,
    "FAILED": PaymentStatus.FAILED,
    "REFUNDED": PaymentStatus.REFUNDED,
    "PARTIALLY_REFUNDED": PaymentStatus.PARTIALLY_REFUNDED,
    "VOIDED": PaymentStatus.UNPAID,
}

#: invoice_status -> payment status that holds whatever payment_status says.
PAYMENT_STATUS_OVERRIDES: Final[dict[str, PaymentStatus]] = {
    "SKIPPED": PaymentStatus.UNPAID,
}

#: The target of a manual payment status update -> FlexPrice's value (the only targets its
#: transition table has).
PAYMENT_STATUS_TARGETS: Final[dict[PaymentStatus, str]] = {
    PaymentStatus.UNPAID: "PENDING",
    PaymentStatus.PAID: "SUCCEEDED",
    PaymentStatus.OVERPAID: "OVERPAID",
    PaymentStatus.FAILED: "FAILED",
}

_reported: set[tuple[str, str]] = set()
_MAX_REPORTED = 256  # a misbehaving upstream must not grow this set without bound


def _report_unknown(vocabulary: str, value: str) -> None:
    key = (vocabulary, value)
    if key in _reported or len(_reported) >= _MAX_REPORTED:
        return
    _reported.add(key)
    logger.warning("flexprice sent an unknown %s %r: mapped to UNKNOWN", vocabulary, value)


def invoice_status_of(invoice_status: str, payment_status: str) -> InvoiceStatus | None:
    """The table lookup alone: `None` for a combination the table does not know. Never logs."""
    found = INVOICE_STATUS_TABLE.get((invoice_status, payment_status))
    return found if found is not None else INVOICE_STATUS_TABLE.get((invoice_status, ANY))


def payment_status_of(invoice_status: str, payment_status: str) -> PaymentStatus | None:
    """The table lookup alone: `None` for a payment status the table does not know. Never logs."""
    found = PAYMENT_STATUS_OVERRIDES.get(invoice_status)
    return found if found is not None else PAYMENT_STATUS_TABLE.get(payment_status)


def _finite(amount: Decimal) -> Decimal:
    # FlexPrice sends money as strings, and "NaN" is a Decimal.
    if amount.is_finite():
        return amount
    return finite(PROVIDER, amount)  # raises


def _money(amount: Decimal | None, currency: str) -> Money | None:
    if amount is None:
        return None
    if not amount.is_finite():
        finite(PROVIDER, amount)  # raises
    return Money(amount=amount, currency=currency)


def metadata_of(metadata: dict[str, Any] | None) -> dict[str, str]:
    """Metadata is `{string: string}`; a value of another type from a newer server is kept as
    its text (`str`)."""
    if not metadata:
        return {}
    return {key: value if isinstance(value, str) else str(value) for key, value in metadata.items()}


def _text(value: str | None) -> str | None:
    # FlexPrice sends "" for an unset always-present string: that is "no value".
    return value or None


#: Division that is exact or gives None, without raising: the context traps nothing and the
#: result is dropped when the division set Inexact or InvalidOperation. One context for every
#: call (building one costs more than the division), and no exception per inexact line (the
#: trapping version raised one for most lines: 5 % of a listing's CPU).
_QUOTIENT: Final = decimal.Context(prec=60, traps=[])
_NOT_EXACT: Final = (decimal.Inexact, decimal.InvalidOperation)


def _exact_quotient(amount: Decimal, quantity: Decimal) -> Decimal | None:
    # A unit price is only reported when amount / quantity is an exact decimal (10 / 3 is not).
    # Sync and on one thread: nothing runs between clearing the flags and reading them.
    _QUOTIENT.clear_flags()
    quotient = _QUOTIENT.divide(amount, quantity)
    flags = _QUOTIENT.flags
    if flags[_NOT_EXACT[0]] or flags[_NOT_EXACT[1]]:
        return None
    return quotient


def to_customer(customer: wire.CustomerResponse) -> Customer:
    """A domain customer; raises `ProviderBadResponse` when the record has no id."""
    if not customer.id:
        raise ProviderBadResponse(PROVIDER, "flexprice returned a customer without an id")
    address = None
    line1, line2 = customer.address_line1, customer.address_line2
    city, state = customer.address_city, customer.address_state
    postal_code, country = customer.address_postal_code, customer.address_country
    if line1 or line2 or city or state or postal_code or country:
        address = Address(
            line1=line1 or None,
            line2=line2 or None,
            city=city or None,
            state=state or None,
            postal_code=postal_code or None,
            country=country or None,
        )
    return Customer(
        provider=PROVIDER,
        id=customer.id,
        external_id=customer.external_id or None,
        name=customer.name or None,
        email=customer.email or None,
        address=address,
        metadata=metadata_of(customer.metadata) if customer.metadata else {},
        created_at=utc(customer.created_at),
        raw_source=customer.origin,
    )


def to_line_item(line: wire.InvoiceLineItemResponse, *, currency: str) -> LineItem:
    """A domain line item in the invoice's (upper-case) currency.

    `unit_amount` is `amount / quantity` when that is exact, else `None`. FlexPrice's
    `price_unit_amount` is not used: it is the line's amount converted to a custom price unit
    (the spec: "the optional amount converted to the price unit currency"), not a unit price.
    """
    amount = _finite(line.amount) if line.amount is not None else Decimal(0)
    # The spec says quantity is always present; a line without one counts once.
    quantity = _finite(line.quantity) if line.quantity is not None else Decimal(1)
    unit = _exact_quotient(amount, quantity) if quantity else None
    return LineItem(
        id=line.id,
        description=line.display_name or line.plan_display_name or line.meter_display_name,
        quantity=quantity,
        unit_amount=None if unit is None else Money(amount=unit, currency=currency),
        amount=Money(amount=amount, currency=currency),
        period_start=utc(line.period_start),
        period_end=utc(line.period_end),
        metadata=metadata_of(line.metadata) if line.metadata else {},
    )


def _decoded_lines(invoice: wire.InvoiceResponse) -> list[wire.InvoiceLineItemResponse]:
    try:
        return wire.lines_of(invoice)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ProviderBadResponse(
            PROVIDER, "flexprice sent an invoice whose line items are not line items"
        ) from exc


def _line_items(invoice: wire.InvoiceResponse, currency: str) -> list[LineItem]:
    lines = _decoded_lines(invoice)
    if _bad_lines(lines):
        raise ProviderBadResponse(PROVIDER, "flexprice sent an amount that is not a number")
    return [to_line_item(line, currency=currency) for line in lines]


def to_invoice(invoice: wire.InvoiceResponse, *, preview: bool = False) -> Invoice:
    """A domain invoice. Its line items are decoded and mapped when first read (a
    `Deferred`); reading them raises `ProviderBadResponse` for lines that are not well formed.

    Raises `ProviderBadResponse` when the record has no id or no `created_at`, unless `preview`
    (a preview is never stored, so it may have neither: it gets `id=""` and the current time).
    """
    if not preview and not (invoice.id and invoice.created_at):
        raise ProviderBadResponse(PROVIDER, "flexprice returned an invoice without id or date")
    raw_status = invoice.invoice_status or ""
    raw_payment = invoice.payment_status or ""
    status = invoice_status_of(raw_status, raw_payment)
    if status is None:
        _report_unknown("invoice_status/payment_status", f"{raw_status}/{raw_payment}")
        status = InvoiceStatus.UNKNOWN
    payment_status = payment_status_of(raw_status, raw_payment)
    if payment_status is None:
        _report_unknown("payment_status", raw_payment)
        payment_status = PaymentStatus.UNKNOWN
    currency = (invoice.currency or "").upper()
    customer = invoice.customer
    # By position, in `Invoice`'s order (its docstring says why).
    return Invoice(
        PROVIDER,  # provider
        invoice.id or "",  # id
        status,  # status
        payment_status,  # payment_status
        f"{raw_status}/{raw_payment}",  # provider_status
        currency,  # currency
        utc(invoice.created_at) or dt.datetime.now(dt.UTC),  # created_at
        invoice.invoice_number or None,  # number
        _money(invoice.subtotal, currency),  # subtotal
        _money(invoice.total, currency),  # total
        _money(invoice.amount_due, currency),  # amount_due
        _money(invoice.amount_paid, currency),  # amount_paid
        _money(invoice.amount_remaining, currency),  # amount_remaining
        _money(invoice.total_tax, currency),  # tax
        _money(invoice.total_discount, currency),  # discount
        ()
        if invoice.line_items is wire.NO_LINES
        else Deferred(partial(_line_items, invoice, currency)),  # line_items
        invoice.description or None,  # description
        invoice.customer_id or None,  # customer_id
        to_customer(customer) if customer is not None and customer.id else None,  # customer
        utc(invoice.issue_date),  # issued_at
        utc(invoice.due_date),  # due_at
        utc(invoice.paid_at),  # paid_at
        utc(invoice.voided_at),  # voided_at
        utc(invoice.finalized_at),  # finalized_at
        invoice.invoice_pdf_url or None,  # pdf_url
        invoice.hosted_invoice_url or None,  # payment_url
        metadata_of(invoice.metadata) if invoice.metadata else {},  # metadata
        invoice.origin,  # raw_source
    )


def _bad_amount(record: wire.InvoiceResponse) -> bool:
    amounts = (
        record.subtotal,
        record.total,
        record.amount_due,
        record.amount_paid,
        record.amount_remaining,
        record.total_tax,
        record.total_discount,
    )
    return not all(amount.is_finite() for amount in amounts if amount is not None)


def _bad_lines(lines: Iterable[wire.InvoiceLineItemResponse]) -> bool:
    return any(
        (line.amount is not None and not line.amount.is_finite())
        or (line.quantity is not None and not line.quantity.is_finite())
        for line in lines
    )


def to_invoices(records: Sequence[wire.InvoiceResponse]) -> LazyInvoices:
    """A listing's invoices, each mapped by `to_invoice` when first read. What `to_invoice`
    refuses (no id or creation time, an amount that is not a number) is refused here, for all
    of them, as `ProviderBadResponse`, so reading one never raises (its line items, decoded
    only when read, are checked then)."""
    created: list[dt.datetime] = []
    ids: list[str] = []
    for record in records:
        at = utc(record.created_at)
        if not (record.id and at):
            raise ProviderBadResponse(PROVIDER, "flexprice returned an invoice without id or date")
        if _bad_amount(record):
            raise ProviderBadResponse(PROVIDER, "flexprice sent an amount that is not a number")
        created.append(at)
        ids.append(record.id)
    return LazyInvoices(PROVIDER, records, to_invoice, created_at=created, ids=ids)


def to_summary(summary: wire.CustomerInvoiceSummary) -> CustomerInvoiceSummary:
    """One currency's totals; absent counts and amounts are zero."""
    currency = (summary.currency or "").upper()
    zero = Decimal(0)
    return CustomerInvoiceSummary(
        currency=currency,
        total_invoice_count=summary.total_invoice_count or 0,
        unpaid_invoice_count=summary.unpaid_invoice_count or 0,
        overdue_invoice_count=summary.overdue_invoice_count or 0,
        total_revenue=Money(
            amount=_finite(summary.total_revenue_amount or zero), currency=currency
        ),
        total_unpaid=Money(amount=_finite(summary.total_unpaid_amount or zero), currency=currency),
        total_overdue=Money(
            amount=_finite(summary.total_overdue_amount or zero), currency=currency
        ),
    )


def to_create_request(draft: InvoiceDraft, *, idempotency_key: str) -> wire.CreateInvoiceRequest:
    """A one-off invoice with the exact line sums as subtotal, total and amount due.

    The key is always sent: without one FlexPrice makes a new, time-based key per call, so a retry
    would bill twice.
    """
    subtotal = draft.subtotal
    return wire.CreateInvoiceRequest(
        customer_id=draft.customer_id,
        currency=draft.currency.lower(),
        idempotency_key=idempotency_key,
        subtotal=subtotal,
        total=subtotal,
        amount_due=subtotal,
        line_items=tuple(
            wire.CreateInvoiceLineItemRequest(
                display_name=line.description, quantity=line.quantity, amount=line.amount
            )
            for line in draft.line_items
        ),
        due_date=draft.due_at,
        description=draft.description,
        metadata=dict(draft.metadata) or None,
    )


def _same_time(a: dt.datetime | None, b: dt.datetime | None) -> bool:
    # FlexPrice keeps microseconds; a second's slack is allowed for a store that keeps less.
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) < dt.timedelta(seconds=1)


def _lines(
    lines: Iterable[tuple[str | None, Decimal | None, Decimal | None]],
) -> list[tuple[str, Decimal | None, Decimal | None]]:
    # A set of lines: the order FlexPrice lists them in is not the create's to decide.
    return sorted(
        ((name or "", quantity, amount) for name, quantity, amount in lines),
        key=lambda line: (line[0], str(line[1]), str(line[2])),
    )


def create_differences(
    request: wire.CreateInvoiceRequest, found: wire.InvoiceResponse
) -> list[str]:
    """The draft's fields (by their domain names; the gateway names the input fields) in which
    `found`, the invoice FlexPrice holds under `request`'s idempotency key, differs from what
    `request` asks for: everything a create sends and FlexPrice keeps. Empty when `found` is
    what `request` would make.

    Due date and metadata are compared as they are now: an invoice updated since its create
    differs from the create's input, and a repeat of it is refused rather than answered.
    """
    differs: list[str] = []
    if (found.customer_id or None) != request.customer_id:
        differs.append("customer_id")
    if (found.currency or "").lower() != request.currency.lower():
        differs.append("currency")
    sent = _lines((line.display_name, line.quantity, line.amount) for line in request.line_items)
    kept = _lines((line.display_name, line.quantity, line.amount) for line in _decoded_lines(found))
    if sent != kept or found.subtotal != request.subtotal:
        differs.append("line_items")
    if not _same_time(utc(found.due_date), request.due_date):
        differs.append("due_at")
    if (found.description or None) != (request.description or None):
        differs.append("description")
    if metadata_of(found.metadata) != dict(request.metadata or {}):
        differs.append("metadata")
    return differs


def to_update_request(update: InvoiceUpdate) -> wire.UpdateInvoiceRequest:
    """Only the fields the update sets; FlexPrice replaces `metadata` as a whole."""
    return wire.UpdateInvoiceRequest(
        due_date=update.due_at,
        invoice_pdf_url=update.pdf_url,
        metadata=update.metadata,
    )


def to_payment_status_request(update: PaymentStatusUpdate) -> wire.UpdatePaymentStatusRequest:
    """Raises `ProviderRejected` (field `status`) for a status FlexPrice cannot be set to."""
    target = PAYMENT_STATUS_TARGETS.get(update.status)
    if target is None:
        allowed = ", ".join(status.value for status in PAYMENT_STATUS_TARGETS)
        raise ProviderRejected(
            PROVIDER,
            f"flexprice cannot set a payment status of {update.status.value}: use one of {allowed}",
            field="status",
        )
    return wire.UpdatePaymentStatusRequest(payment_status=target, amount=update.amount)


def to_preview_request(request: InvoicePreviewRequest) -> wire.GetPreviewInvoiceRequest:
    return wire.GetPreviewInvoiceRequest(
        subscription_id=request.subscription_id,
        period_start=request.period_start,
        period_end=request.period_end,
    )
