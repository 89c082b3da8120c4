"""Xendit's invoices as domain invoices: its status table, the lines, the money, a listing's
invoices mapped when read (customers are `customers.py`'s, shared helpers `fields.py`'s).

Xendit has one status axis (https://docs.xendit.co/xeninvoice/statuses); the table below folds
it into the gateway's `InvoiceStatus` and `PaymentStatus`. A status Xendit adds later maps
to UNKNOWN and is logged once, never raised.

Field choices Xendit's model forces:
- `number` is `external_id`: Xendit has no invoice number, and `external_id` is the merchant's
  own reference for the invoice (for invoices the gateway created, `gw-<idempotency key>`).
- Money: `total` and `amount_due` are `amount`; `amount_paid` is `paid_amount` once PAID or
  SETTLED (`amount` when Xendit leaves it out) and 0 before; `amount_remaining` is what is still
  payable: `amount - paid` while PENDING, 0 once paid or EXPIRED (an expired invoice cannot be
  paid any more). `subtotal` is the exact sum of the items when there are items. `tax` and
  `discount` are None: Xendit's `fees` are free-form `{type, value}` pairs with no tax or
  discount meaning (they stay in `raw`).
- The customer is the one embedded in the invoice (`customers.to_embedded_customer`); its `id`
  (the Customer API id) is the `customer_id`. An embedded customer without an `id` names no
  record, so it is not mapped (`customer` and `customer_id` are None; it stays in `raw`).

Where Xendit deviates from ISO 4217: it takes and sends IDR in whole rupiah (it truncates
decimals) although ISO 4217 gives IDR two minor units. Amounts are mapped as Xendit sends them
(75000), and the schema pads them to ISO 4217's digits (75000.00) like any other provider's; a
create with an IDR fraction is refused before it reaches Xendit (`drafts.WHOLE_CURRENCIES`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
from collections.abc import Sequence
from decimal import Decimal
from functools import partial
from typing import Final

from providers.errors import ProviderBadResponse
from providers.models import (
    EXACT,
    Deferred,
    Invoice,
    InvoiceStatus,
    LazyInvoices,
    LineItem,
    Money,
    PaymentStatus,
)
from providers.records import finite, utc
from providers.xendit import wire
from providers.xendit.customers import to_embedded_customer
from providers.xendit.fields import PROVIDER, metadata_of, text_of

__all__ = [
    "DEFAULT_CURRENCY",
    "STATUS_TABLE",
    "currency_of",
    "customer_id_of",
    "statuses_of",
    "to_invoice",
    "to_invoices",
    "to_line_item",
]

logger = logging.getLogger(__name__)

#: Xendit `status` -> (status, payment status). Xendit makes no drafts and voids nothing.
STATUS_TABLE: Final[dict[str, tuple[InvoiceStatus, PaymentStatus]]] = {
    "PENDING": (InvoiceStatus.OPEN, PaymentStatus.UNPAID),
    "PAID": (InvoiceStatus.PAID, PaymentStatus.PAID),
    "SETTLED": (InvoiceStatus.PAID, PaymentStatus.SETTLED),
    # Also what `expire!` leaves behind: Xendit's only cancel reports EXPIRED, never a void.
    "EXPIRED": (InvoiceStatus.EXPIRED, PaymentStatus.UNPAID),
}
_UNKNOWN: Final = (InvoiceStatus.UNKNOWN, PaymentStatus.UNKNOWN)

#: `currency` is nullable in the SDK model; an account's default currency is IDR.
DEFAULT_CURRENCY: Final = "IDR"

_reported: set[str] = set()
_MAX_REPORTED = 256  # a misbehaving upstream must not grow this set without bound


def _report_unknown(value: str) -> None:
    if value in _reported or len(_reported) >= _MAX_REPORTED:
        return
    _reported.add(value)
    logger.warning("xendit sent an unknown invoice status %r: mapped to UNKNOWN", value)


def statuses_of(status: str) -> tuple[InvoiceStatus, PaymentStatus]:
    """The table lookup, (UNKNOWN, UNKNOWN) for a status it does not know (logged once)."""
    found = STATUS_TABLE.get(status)
    if found is None:
        _report_unknown(status)
        return _UNKNOWN
    return found


def _product(price: Decimal, quantity: Decimal) -> Decimal | None:
    try:
        return EXACT.multiply(price, quantity)
    except (decimal.Inexact, decimal.InvalidOperation):
        return None


def to_line_item(item: wire.InvoiceItem, *, currency: str) -> LineItem:
    """`name`, `quantity` (1 when absent), `price` as the unit amount, and their exact product.

    `reference_id` is the line's id; `category` and `url` go to its metadata.
    """
    return _line(item, currency)[0]


def _priced(item: wire.InvoiceItem) -> tuple[Decimal | None, Decimal, Decimal | None]:
    """The line's price, quantity (1 when absent) and their exact product (None when it is not
    exact); raises `ProviderBadResponse` for a price or quantity that is not a number."""
    # JSON numbers are finite, but a Decimal is read from a string too ("NaN").
    quantity = item.quantity
    if quantity is None:
        quantity = Decimal(1)
    elif not quantity.is_finite():
        finite(PROVIDER, quantity)
    price = item.price
    if price is not None and not price.is_finite():
        finite(PROVIDER, price)
    return price, quantity, _product(price if price is not None else Decimal(0), quantity)


def _line(item: wire.InvoiceItem, currency: str) -> tuple[LineItem, Decimal | None]:
    """The line, and its exact product (None when there is no price or it is not exact)."""
    price, quantity, amount = _priced(item)
    metadata = {}
    if item.category:
        metadata["category"] = item.category
    if item.url:
        metadata["url"] = item.url
    line = LineItem(
        id=text_of(item.reference_id),
        description=text_of(item.name),
        quantity=quantity,
        unit_amount=Money(amount=price, currency=currency) if price is not None else None,
        amount=Money(amount=amount if amount is not None else Decimal(0), currency=currency),
        metadata=metadata,
    )
    return line, (amount if price is not None else None)


def _subtotal(products: list[Decimal | None]) -> Decimal | None:
    """The exact sum of the lines' products; None without lines, or when one has no price or
    an inexact product."""
    if not products:
        return None
    total = Decimal(0)
    for product in products:
        if product is None:
            return None
        total = EXACT.add(total, product)
    return total


def _money(amount: Decimal | None, currency: str) -> Money | None:
    if amount is None:
        return None
    if not amount.is_finite():
        finite(PROVIDER, amount)
    return Money(amount=amount, currency=currency)


def _paid_and_remaining(
    invoice: wire.Invoice, status: InvoiceStatus
) -> tuple[Decimal | None, Decimal | None]:
    amount = invoice.amount
    if status == InvoiceStatus.PAID:
        return (invoice.paid_amount if invoice.paid_amount is not None else amount), Decimal(0)
    if status == InvoiceStatus.OPEN:
        return Decimal(0), amount
    if status == InvoiceStatus.EXPIRED:
        return Decimal(0), Decimal(0)
    return invoice.paid_amount, None


def to_invoice(invoice: wire.Invoice) -> Invoice:
    """A domain invoice (see the module docstring for the field choices).

    Raises `ProviderBadResponse` when the record has no `id` or no `created`.
    """
    created = utc(invoice.created)
    if not (invoice.id and created):
        raise ProviderBadResponse(PROVIDER, "xendit returned an invoice without id or created")
    raw_status = invoice.status or ""
    status, payment_status = statuses_of(raw_status)
    currency = currency_of(invoice)
    paid, remaining = _paid_and_remaining(invoice, status)
    customer = to_embedded_customer(invoice.customer) if invoice.customer else None
    items = invoice.items or ()
    # The subtotal is the lines' exact sum, checked now; the lines are built when first read.
    products = [amount if price is not None else None for price, _, amount in map(_priced, items)]
    total = _money(invoice.amount, currency)
    # By position, in `Invoice`'s order (its docstring says why).
    return Invoice(
        PROVIDER,  # provider
        invoice.id,  # id
        status,  # status
        payment_status,  # payment_status
        raw_status,  # provider_status
        currency,  # currency
        created,  # created_at
        text_of(invoice.external_id),  # number
        _money(_subtotal(products), currency),  # subtotal
        total,  # total
        total,  # amount_due
        _money(paid, currency),  # amount_paid
        _money(remaining, currency),  # amount_remaining
        None,  # tax
        None,  # discount
        Deferred(partial(_lines, items, currency)) if items else (),  # line_items
        text_of(invoice.description),  # description
        customer.id if customer else None,  # customer_id
        customer,  # customer
        created,  # issued_at
        utc(invoice.expiry_date),  # due_at
        utc(invoice.paid_at),  # paid_at
        None,  # voided_at
        None,  # finalized_at
        None,  # pdf_url
        text_of(invoice.invoice_url),  # payment_url
        metadata_of(invoice.metadata),  # metadata
        invoice.origin,  # raw_source
    )


def _lines(items: Sequence[wire.InvoiceItem], currency: str) -> list[LineItem]:
    return [_line(item, currency)[0] for item in items]


def _bad_amount(record: wire.Invoice) -> bool:
    # JSON numbers are finite, but a Decimal is read from a string too ("NaN").
    for amount in (record.amount, record.paid_amount):
        if amount is not None and not amount.is_finite():
            return True
    for item in record.items or ():
        for value in (item.price, item.quantity):
            if value is not None and not value.is_finite():
                return True
    return False


def to_invoices(records: Sequence[wire.Invoice]) -> LazyInvoices:
    """A listing's invoices, each mapped by `to_invoice` when first read. What `to_invoice`
    refuses (no id or creation time, an amount that is not a number) is refused here, for all
    of them, as `ProviderBadResponse`, so reading one never raises."""
    created: list[dt.datetime] = []
    ids: list[str] = []
    for record in records:
        at = utc(record.created)
        if not (record.id and at):
            raise ProviderBadResponse(PROVIDER, "xendit returned an invoice without id or created")
        if _bad_amount(record):
            raise ProviderBadResponse(PROVIDER, "xendit sent an amount that is not a number")
        created.append(at)
        ids.append(record.id)
    return LazyInvoices(PROVIDER, records, to_invoice, created_at=created, ids=ids)


def currency_of(record: wire.Invoice) -> str:
    """The invoice's currency as `to_invoice` maps it."""
    return (record.currency or DEFAULT_CURRENCY).upper()


def customer_id_of(record: wire.Invoice) -> str | None:
    """The invoice's `customer_id` as `to_invoice` maps it."""
    customer = record.customer
    return customer.id if customer is not None and customer.id else None
