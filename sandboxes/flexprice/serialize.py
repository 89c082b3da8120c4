"""Records to FlexPrice JSON, with the server's presence rules (its Go JSON tags).

Always-present fields are always emitted (``""`` / ``"0"`` when empty); omitempty fields are
left out when unset. Where the server would send ``null`` for an always-present pointer
(``invoice_number`` on drafts, ``billing_sequence`` on one-off invoices) the field is omitted
instead, because the spec marks nothing nullable and a strict validator refuses the ``null``.
"""

from __future__ import annotations

import functools
from datetime import datetime
from decimal import Decimal

from .billing import CurrencySummary
from .records import ACTOR_ID, ENVIRONMENT_ID, TENANT_ID, Customer, Invoice, LineItem, Subscription

JSON = dict[str, object]


def money(value: Decimal) -> str:
    """A decimal string without exponent or trailing zeros (``"120.5"``, ``"0"``)."""
    if value == 0:
        return "0"
    text = f"{value.normalize():f}"
    return text


@functools.lru_cache(maxsize=16384)  # the same few thousand stored times, written per answer
def timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with trimmed fractional seconds, as Go's ``RFC3339Nano`` prints."""
    base = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        base += f".{value.microsecond:06d}".rstrip("0")
    return base + "Z"


def _base(created_at: datetime, updated_at: datetime, status: str) -> JSON:
    return {
        "tenant_id": TENANT_ID,
        "environment_id": ENVIRONMENT_ID,
        "status": status,
        "created_at": timestamp(created_at),
        "updated_at": timestamp(updated_at),
        "created_by": ACTOR_ID,
        "updated_by": ACTOR_ID,
    }


def _put(out: JSON, key: str, value: object) -> None:
    """Set an omitempty field: skipped when None, empty or zero-valued."""
    if value is None or value == "" or value == {} or value == []:
        return
    if isinstance(value, Decimal):
        out[key] = money(value)
    elif isinstance(value, datetime):
        out[key] = timestamp(value)
    else:
        out[key] = value


def customer_json(customer: Customer) -> JSON:
    """``CustomerResponse``."""
    out: JSON = {
        "id": customer.id,
        "external_id": customer.external_id,
        "name": customer.name,
        "email": customer.email,
        "address_line1": customer.address_line1,
        "address_line2": customer.address_line2,
        "address_city": customer.address_city,
        "address_state": customer.address_state,
        "address_postal_code": customer.address_postal_code,
        "address_country": customer.address_country,
        "timezone": customer.timezone,
        "metadata": dict(customer.metadata),
        **_base(customer.created_at, customer.updated_at, customer.status),
    }
    _put(out, "contact", customer.contact)
    return out


def line_item_json(item: LineItem) -> JSON:
    """``InvoiceLineItemResponse``."""
    out: JSON = {
        "id": item.id,
        "invoice_id": item.invoice_id,
        "customer_id": item.customer_id,
        "currency": item.currency,
        "amount": money(item.amount),
        "quantity": money(item.quantity),
        "prepaid_credits_applied": money(item.prepaid_credits_applied),
        "line_item_discount": money(item.line_item_discount),
        "invoice_level_discount": money(item.invoice_level_discount),
        **_base(item.created_at, item.updated_at, item.status),
    }
    for key in (
        "subscription_id",
        "subscription_line_item_id",
        "entity_id",
        "entity_type",
        "plan_display_name",
        "price_id",
        "price_type",
        "price_unit",
        "price_unit_amount",
        "meter_id",
        "meter_display_name",
        "display_name",
        "adjusted_entitlement_quantity",
        "period_start",
        "period_end",
        "metadata",
    ):
        _put(out, key, getattr(item, key))
    return out


def subscription_json(sub: Subscription) -> JSON:
    """A ``SubscriptionResponse`` with the fields the sandbox models."""
    return {
        "id": sub.id,
        "customer_id": sub.customer_id,
        "plan_id": sub.plan_id,
        "currency": sub.currency,
        "billing_period": sub.billing_period,
        "billing_period_count": 1,
        "billing_cadence": "RECURRING",
        "billing_cycle": "anniversary",
        "billing_anchor": timestamp(sub.start_date),
        "start_date": timestamp(sub.start_date),
        "current_period_start": timestamp(sub.current_period_start),
        "current_period_end": timestamp(sub.current_period_end),
        "subscription_status": sub.subscription_status,
        "subscription_type": "standalone",
        "collection_method": "send_invoice",
        "timezone": "UTC",
        "version": 1,
        **_base(sub.created_at, sub.created_at, sub.status),
    }


_INVOICE_MONEY = (
    "amount_due",
    "amount_paid",
    "amount_remaining",
    "subtotal",
    "total",
    "total_discount",
    "total_tax",
    "total_prepaid_credits_applied",
    "adjustment_amount",
    "refunded_amount",
)
_INVOICE_OPTIONAL = (
    "subscription_id",
    "subscription_customer_id",
    "description",
    "billing_period",
    "billing_reason",
    "due_date",
    "issue_date",
    "period_start",
    "period_end",
    "finalized_at",
    "paid_at",
    "voided_at",
    "last_computed_at",
    "invoice_pdf_url",
    "recalculated_invoice_id",
    "metadata",
)


def invoice_json(
    inv: Invoice,
    *,
    line_items: bool = True,
    customer: Customer | None = None,
    subscription: Subscription | None = None,
) -> JSON:
    """``InvoiceResponse``; ``customer``/``subscription`` are embedded when given."""
    out: JSON = {
        "id": inv.id,
        "customer_id": inv.customer_id,
        "invoice_type": inv.invoice_type,
        "invoice_status": inv.invoice_status,
        "payment_status": inv.payment_status,
        "currency": inv.currency,
        **{key: money(getattr(inv, key)) for key in _INVOICE_MONEY},
        "version": inv.version,
        "is_manually_edited": inv.is_manually_edited,
        **_base(inv.created_at, inv.updated_at, inv.status),
    }
    # Always present on the server, but null when unset: omitted here (see module doc).
    _put(out, "invoice_number", inv.invoice_number)
    _put(out, "idempotency_key", inv.idempotency_key)
    if inv.billing_sequence is not None:
        out["billing_sequence"] = inv.billing_sequence
    if inv.payment_status == "OVERPAID":
        out["overpaid_amount"] = money(inv.amount_paid - inv.total)
    for key in _INVOICE_OPTIONAL:
        _put(out, key, getattr(inv, key))
    if line_items and inv.line_items:
        out["line_items"] = [line_item_json(item) for item in inv.line_items]
    if customer is not None:
        out["customer"] = customer_json(customer)
    if subscription is not None:
        out["subscription"] = subscription_json(subscription)
    return out


def pagination(*, total: int, limit: int, offset: int) -> JSON:
    """``types.PaginationResponse``."""
    return {"total": total, "limit": limit, "offset": offset}


def summary_json(customer_id: str, rows: list[CurrencySummary]) -> JSON:
    """``CustomerMultiCurrencyInvoiceSummary``."""
    return {
        "customer_id": customer_id,
        "default_currency": rows[0].currency if rows else "",
        "summaries": [
            {
                "customer_id": customer_id,
                "currency": row.currency,
                "total_revenue_amount": money(row.total_revenue_amount),
                "total_unpaid_amount": money(row.total_unpaid_amount),
                "total_overdue_amount": money(row.total_overdue_amount),
                "total_invoice_count": row.total_invoice_count,
                "unpaid_invoice_count": row.unpaid_invoice_count,
                "overdue_invoice_count": row.overdue_invoice_count,
                "unpaid_usage_charges": money(row.unpaid_usage_charges),
                "unpaid_fixed_charges": money(row.unpaid_fixed_charges),
            }
            for row in rows
        ],
    }
