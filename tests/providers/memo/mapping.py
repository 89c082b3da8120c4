"""Memo's records <-> the domain: status tables, money as Decimal, times in UTC."""

from __future__ import annotations

from typing import Final

from providers.errors import ProviderBadResponse
from providers.models import (
    Customer,
    Invoice,
    InvoiceDraft,
    InvoiceFilter,
    InvoiceStatus,
    Money,
    PaymentStatus,
)
from providers.records import finite, utc

from . import wire

PROVIDER = "memo"

STATUSES: Final[dict[str, tuple[InvoiceStatus, PaymentStatus]]] = {
    "draft": (InvoiceStatus.DRAFT, PaymentStatus.UNPAID),
    "open": (InvoiceStatus.OPEN, PaymentStatus.UNPAID),
    "paid": (InvoiceStatus.PAID, PaymentStatus.PAID),
    "void": (InvoiceStatus.VOID, PaymentStatus.UNPAID),
}
_UNKNOWN: Final = (InvoiceStatus.UNKNOWN, PaymentStatus.UNKNOWN)


def to_invoice(record: wire.Invoice) -> Invoice:
    created = utc(record.created)
    if not record.id or created is None:
        raise ProviderBadResponse(PROVIDER, "memo returned an invoice without id or created")
    status, payment = STATUSES.get(record.status or "", _UNKNOWN)
    currency = (record.currency or "").upper()
    total = None
    if record.total is not None:
        total = Money(amount=finite(PROVIDER, record.total), currency=currency)
    return Invoice(
        provider=PROVIDER,
        id=record.id,
        status=status,
        payment_status=payment,
        provider_status=record.status or "",
        currency=currency,
        created_at=created,
        total=total,
        customer_id=record.customer,
        raw_source=record.origin,
    )


def to_customer(record: wire.Customer) -> Customer:
    if not record.id:
        raise ProviderBadResponse(PROVIDER, "memo returned a customer without id")
    return Customer(provider=PROVIDER, id=record.id, name=record.name, raw_source=record.origin)


def list_params(filters: InvoiceFilter) -> dict[str, str] | None:
    """The query of a listing, or None when no Memo status can match the filter."""
    params: dict[str, str] = {}
    if filters.statuses or filters.payment_statuses:
        statuses = [
            name
            for name, (status, payment) in STATUSES.items()
            if (not filters.statuses or status in filters.statuses)
            and (not filters.payment_statuses or payment in filters.payment_statuses)
        ]
        if not statuses:
            return None
        params["status"] = ",".join(statuses)
    if filters.customer_ids:
        params["customer"] = ",".join(filters.customer_ids)
    if filters.currencies:
        params["currency"] = ",".join(filters.currencies)
    if filters.created_after:
        params["created_after"] = filters.created_after.isoformat()
    if filters.created_before:
        params["created_before"] = filters.created_before.isoformat()
    return params


def to_create_request(draft: InvoiceDraft, *, idempotency_key: str) -> wire.CreateInvoice:
    lines = tuple(
        wire.Line(
            description=line.description,
            quantity=format(line.quantity, "f"),
            unit_amount=format(line.unit_amount, "f"),
        )
        for line in draft.line_items
    )
    return wire.CreateInvoice(
        customer=draft.customer_id,
        currency=draft.currency,
        lines=lines,
        idempotency_key=idempotency_key,
    )
