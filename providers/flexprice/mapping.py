"""Pure functions between FlexPrice's wire models and the domain model.

FlexPrice has two status axes, `invoice_status` (the document) and `payment_status` (the money);
the tables below fold them into the gateway's `InvoiceStatus` and `PaymentStatus`. A value
FlexPrice adds later maps to UNKNOWN and is logged once, never raised.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import partial
from typing import Any, Final

import msgspec

from providers.errors import ProviderBadResponse
from providers.flexprice import wire
from providers.flexprice.statuses import invoice_status_of, payment_status_of, report_unknown
from providers.models import (
    Address,
    Customer,
    CustomerInvoiceSummary,
    Deferred,
    Invoice,
    InvoiceStatus,
    LazyInvoices,
    LineItem,
    Money,
    PaymentStatus,
)
from providers.records import finite, utc

__all__ = [
    "PROVIDER",
    "decoded_lines",
    "metadata_of",
    "to_customer",
    "to_invoice",
    "to_invoices",
    "to_line_item",
    "to_summary",
]

PROVIDER: Final = "flexprice"


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


def decoded_lines(invoice: wire.InvoiceResponse) -> list[wire.InvoiceLineItemResponse]:
    try:
        return wire.lines_of(invoice)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ProviderBadResponse(
            PROVIDER, "flexprice sent an invoice whose line items are not line items"
        ) from exc


def _line_items(invoice: wire.InvoiceResponse, currency: str) -> list[LineItem]:
    lines = decoded_lines(invoice)
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
        report_unknown("invoice_status/payment_status", f"{raw_status}/{raw_payment}")
        status = InvoiceStatus.UNKNOWN
    payment_status = payment_status_of(raw_status, raw_payment)
    if payment_status is None:
        report_unknown("payment_status", raw_payment)
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
