"""Subscription billing: plan charges per period, preview, recalculation and customer summary.

Usage quantities are derived from (subscription, price, billing sequence) with a hash, so a
period always bills the same amounts whatever the clock says.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from . import currency, errors
from .lifecycle import apply_amounts, finalize
from .records import ZERO, Invoice, LineItem, Subscription
from .store import FlexPriceSandbox


@dataclass
class CurrencySummary:
    """One ``CustomerInvoiceSummary`` row."""

    currency: str
    total_invoice_count: int = 0
    unpaid_invoice_count: int = 0
    overdue_invoice_count: int = 0
    total_revenue_amount: Decimal = ZERO
    total_unpaid_amount: Decimal = ZERO
    total_overdue_amount: Decimal = ZERO
    unpaid_usage_charges: Decimal = ZERO
    unpaid_fixed_charges: Decimal = ZERO


def usage_quantity(subscription_id: str, price_id: str, sequence: int) -> Decimal:
    """A stable usage count (0..2499) for one price in one billing period."""
    digest = hashlib.sha256(f"{subscription_id}:{price_id}:{sequence}".encode()).digest()
    return Decimal(int.from_bytes(digest[:4], "big") % 2500)


def charges_for(
    sub: Subscription,
    inv: Invoice,
    *,
    sequence: int,
    line_id: Callable[[], str],
    at: datetime,
    hide_zero: bool = False,
) -> list[LineItem]:
    """The invoice lines the plan bills for the period of ``inv`` (billing ``sequence``)."""
    lines = []
    for charge in sub.charges:
        quantity = charge.quantity
        if charge.price_type == "USAGE":
            quantity = usage_quantity(sub.id, charge.price_id, sequence)
        amount = currency.round_amount(charge.unit_amount * quantity, sub.currency)
        if hide_zero and amount == ZERO:
            continue
        lines.append(
            LineItem(
                id=line_id(),
                invoice_id=inv.id,
                customer_id=inv.customer_id,
                currency=sub.currency,
                amount=amount,
                quantity=quantity,
                created_at=at,
                updated_at=at,
                display_name=charge.display_name,
                subscription_id=sub.id,
                price_id=charge.price_id,
                price_type=charge.price_type,
                plan_display_name=sub.plan_name,
                meter_id=charge.meter_id,
                meter_display_name=charge.meter_display_name,
                entity_id=sub.plan_id,
                entity_type="plan",
                period_start=inv.period_start,
                period_end=inv.period_end,
            )
        )
    return lines


def _sum(lines: list[LineItem]) -> Decimal:
    return sum((line.amount for line in lines), ZERO)


def next_sequence(sb: FlexPriceSandbox, subscription_id: str) -> int:
    """The billing sequence the subscription's next invoice gets."""
    used = [
        i.billing_sequence or 0
        for i in sb.invoices.values()
        if i.subscription_id == subscription_id
    ]
    return max(used, default=0) + 1


#: Months in one billing period, for the periods counted in months.
_MONTHS = {"MONTHLY": 1, "QUARTERLY": 3, "HALF_YEARLY": 6, "ANNUAL": 12, "YEARLY": 12}
#: Days in one billing period, for the others.
_DAYS = {"WEEKLY": 7, "DAILY": 1}


def period_sequence(sub: Subscription, start: datetime) -> int:
    """The billing sequence of the period that starts at ``start``: 1 for the subscription's
    first, counted in whole billing periods from its start date (a period before it counts as
    the first). So a preview of June and one of December bill their own usage, and a preview of
    one period always the same."""
    origin = sub.start_date
    days = _DAYS.get(sub.billing_period.upper())
    if days is not None:
        elapsed = (start - origin).days // days
    else:
        months = (start.year - origin.year) * 12 + start.month - origin.month
        if (start.day, start.time()) < (origin.day, origin.time()):
            months -= 1  # not yet a whole month since the same day of the month
        elapsed = months // _MONTHS.get(sub.billing_period.upper(), 1)
    return max(elapsed, 0) + 1


def preview(
    sb: FlexPriceSandbox,
    sub: Subscription,
    *,
    period_start: datetime | None,
    period_end: datetime | None,
    hide_zero: bool,
) -> Invoice:
    """``POST /invoices/preview``: the next invoice, or the invoice of the period asked for
    (its usage billed for that period: ``period_sequence``), computed and never stored."""
    now = sb.now()
    start = period_start or sub.current_period_start
    end = period_end or sub.current_period_end
    inv = Invoice(
        id=sb.new_id("inv", now),
        customer_id=sub.customer_id,
        invoice_type="SUBSCRIPTION",
        currency=sub.currency,
        idempotency_key="",
        created_at=now,
        updated_at=now,
        subscription_id=sub.id,
        subscription_customer_id=sub.customer_id,
        billing_period=sub.billing_period,
        billing_reason="SUBSCRIPTION_CYCLE",
        period_start=start,
        period_end=end,
        issue_date=now,
        due_date=end,
    )
    inv.line_items = charges_for(
        sub,
        inv,
        sequence=next_sequence(sb, sub.id) if period_start is None else period_sequence(sub, start),
        line_id=lambda: sb.new_id("inv_line", now),
        at=now,
        hide_zero=hide_zero,
    )
    subtotal = _sum(inv.line_items)
    inv.subtotal = inv.total = inv.amount_due = inv.amount_remaining = subtotal
    return inv


def recalculate_voided(sb: FlexPriceSandbox, inv: Invoice) -> tuple[Invoice, dict[str, str]]:
    """``POST /invoices/{id}/recalculate``: a finalized replacement for a voided subscription
    invoice, linked through ``recalculated_invoice_id``; returns it and the workflow result.
    """
    if inv.invoice_type != "SUBSCRIPTION" or not inv.subscription_id:
        raise errors.validation("Only subscription invoices can be recalculated")
    if inv.invoice_status != "VOIDED":
        raise errors.validation("Only voided invoices can be recalculated")
    if inv.recalculated_invoice_id:
        raise errors.validation(
            f"invoice was already recalculated as {inv.recalculated_invoice_id}",
            details={"recalculated_invoice_id": inv.recalculated_invoice_id},
        )
    sub = sb.subscription(inv.subscription_id)
    created = sb.stamp()
    replacement = Invoice(
        id=sb.new_id("inv", created),
        customer_id=inv.customer_id,
        invoice_type="SUBSCRIPTION",
        currency=inv.currency,
        idempotency_key=f"subscription_invoice-{hashlib.sha256(inv.id.encode()).hexdigest()[:16]}",
        created_at=created,
        updated_at=created,
        subscription_id=inv.subscription_id,
        subscription_customer_id=inv.subscription_customer_id,
        billing_sequence=inv.billing_sequence,
        billing_period=inv.billing_period,
        billing_reason=inv.billing_reason,
        description=inv.description,
        period_start=inv.period_start,
        period_end=inv.period_end,
        issue_date=created,
        due_date=created + timedelta(days=30),
        metadata=dict(inv.metadata) if inv.metadata else None,
    )
    replacement.line_items = charges_for(
        sub,
        replacement,
        sequence=inv.billing_sequence or 1,
        line_id=lambda: sb.new_id("inv_line", created),
        at=created,
    )
    subtotal = _sum(replacement.line_items)
    sb.invoices[replacement.id] = replacement
    apply_amounts(sb, replacement, subtotal=subtotal, total=subtotal, amount_due=subtotal)
    if replacement.invoice_status == "DRAFT":
        finalize(sb, replacement)
    inv.recalculated_invoice_id = replacement.id
    inv.updated_at = sb.now()
    run_id = str(uuid.UUID(bytes=sb.rng.randbytes(16), version=4))
    workflow = {
        "message": "recalculate invoice workflow started",
        "workflow_id": f"RecalculateInvoiceWorkflow-{inv.id}",
        "run_id": run_id,
    }
    return replacement, workflow


def recalculate_draft(sb: FlexPriceSandbox, inv: Invoice, *, finalize_after: bool) -> None:
    """``POST /invoices/{id}/recalculate-v2``: recompute a DRAFT subscription invoice in place."""
    if inv.invoice_status != "DRAFT":
        raise errors.validation(
            "Only draft invoices can be recalculated",
            details={"invoice_id": inv.id, "current_status": inv.invoice_status},
        )
    if inv.invoice_type != "SUBSCRIPTION" or not inv.subscription_id:
        raise errors.validation(
            "Only subscription invoices can be recalculated",
            details={"invoice_id": inv.id, "invoice_type": inv.invoice_type},
        )
    sub = sb.subscription(inv.subscription_id)
    now = sb.now()
    inv.line_items = charges_for(
        sub,
        inv,
        sequence=inv.billing_sequence or 1,
        line_id=lambda: sb.new_id("inv_line", now),
        at=now,
    )
    subtotal = _sum(inv.line_items)
    total = subtotal - inv.total_discount - inv.total_prepaid_credits_applied
    apply_amounts(sb, inv, subtotal=subtotal, total=total, amount_due=total)
    if finalize_after and inv.invoice_status == "DRAFT":
        finalize(sb, inv)


def customer_summary(sb: FlexPriceSandbox, customer_id: str) -> list[CurrencySummary]:
    """``GET /customers/{id}/invoices/summary`` as the server computes it, one row per currency.

    Currencies come from the customer's non-cancelled subscriptions, oldest first (the first
    is the ``default_currency``; none gives no rows); DRAFT and FINALIZED invoices billed to
    the customer, or to a subscription it owns, are counted; overdue means not SUCCEEDED and
    ``due_date`` before now. An unknown customer id is not an error (no rows).
    """
    currencies: list[str] = []
    for sub in sorted(sb.subscriptions.values(), key=lambda s: (s.created_at, s.id)):
        active = sub.subscription_status != "cancelled"
        if sub.customer_id == customer_id and active and sub.currency not in currencies:
            currencies.append(sub.currency)
    invoices = [
        inv
        for inv in sb.invoices.values()
        if inv.invoice_status in ("DRAFT", "FINALIZED")
        and inv.status == "published"
        and customer_id in (inv.customer_id, inv.subscription_customer_id)
    ]
    now = sb.now()
    rows = []
    for code in currencies:
        row = CurrencySummary(currency=code)
        for inv in (i for i in invoices if i.currency == code):
            row.total_revenue_amount += inv.amount_due
            row.total_invoice_count += 1
            if inv.payment_status == "SUCCEEDED":
                continue
            row.total_unpaid_amount += inv.amount_remaining
            row.unpaid_invoice_count += 1
            if inv.due_date is not None and inv.due_date < now:
                row.total_overdue_amount += inv.amount_remaining
                row.overdue_invoice_count += 1
            for line in inv.line_items:
                if line.price_type == "USAGE":
                    row.unpaid_usage_charges += line.amount
                else:
                    row.unpaid_fixed_charges += line.amount
        rows.append(row)
    return rows
