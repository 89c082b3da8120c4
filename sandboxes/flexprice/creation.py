"""``POST /invoices``: the draft-first create flow with idempotency.

A key already used by a DRAFT or SKIPPED invoice continues on that invoice; any other
non-voided holder of the key is a 409 ``already_exists``. Voided invoices free their key.
"""

from __future__ import annotations

import hashlib

from . import errors
from .invoice_payloads import CreateInvoiceInput, LineItemInput
from .lifecycle import apply_amounts, atomic, check_invariants, finalize
from .records import ZERO, Invoice, LineItem
from .store import FlexPriceSandbox


def generated_key(sb: FlexPriceSandbox, inp: CreateInvoiceInput) -> str:
    """The server's key when none is sent: subscription ones repeat, one-off ones never do."""
    if inp.subscription_id:
        scope = "subscription_invoice"
        parts = [
            inp.customer_id,
            inp.subscription_id,
            inp.billing_reason,
            inp.period_start.replace(second=0, microsecond=0).isoformat()
            if inp.period_start
            else "",
            inp.period_end.replace(second=0, microsecond=0).isoformat() if inp.period_end else "",
        ]
    else:
        scope = "one_off_invoice"
        parts = [inp.customer_id, sb.now().isoformat(), sb.new_id("key")]
    digest = hashlib.sha256(":".join([scope, *parts]).encode()).hexdigest()[:16]
    return f"{scope}-{digest}"


def _find_reusable(sb: FlexPriceSandbox, key: str, inp: CreateInvoiceInput) -> Invoice | None:
    """The invoice this create must continue on (DRAFT/SKIPPED), or 409 ``already_exists``."""
    for inv in sb.invoices.values():
        if inv.idempotency_key == key and inv.invoice_status != "VOIDED":
            if inv.invoice_status in ("DRAFT", "SKIPPED"):
                return inv
            raise errors.already_exists("invoice already exists")
    if inp.subscription_id is None:
        return None
    for inv in sb.invoices.values():
        same_period = (
            inv.subscription_id == inp.subscription_id
            and inv.period_start == inp.period_start
            and inv.period_end == inp.period_end
            and (inv.billing_reason or "") == inp.billing_reason
        )
        if same_period and inv.invoice_status != "VOIDED":
            if inv.invoice_status in ("DRAFT", "SKIPPED"):
                return inv
            raise errors.already_exists("invoice already exists for this period")
    return None


def _next_billing_sequence(sb: FlexPriceSandbox, subscription_id: str) -> int:
    sequences = [
        inv.billing_sequence or 0
        for inv in sb.invoices.values()
        if inv.subscription_id == subscription_id
    ]
    return max(sequences, default=0) + 1


def _new_draft(sb: FlexPriceSandbox, inp: CreateInvoiceInput, key: str) -> Invoice:
    created = sb.stamp()
    sub = sb.subscriptions.get(inp.subscription_id or "")
    inv = Invoice(
        id=sb.new_id("inv", created),
        customer_id=inp.customer_id,
        invoice_type=inp.invoice_type,
        currency=inp.currency.lower(),
        idempotency_key=key,
        created_at=created,
        updated_at=created,
        subscription_id=inp.subscription_id,
        subscription_customer_id=sub.customer_id if sub else None,
        billing_sequence=(
            _next_billing_sequence(sb, inp.subscription_id) if inp.subscription_id else None
        ),
        description=inp.description or None,
        billing_period=inp.billing_period,
        billing_reason=inp.billing_reason or None,
        due_date=inp.due_date,
        issue_date=inp.issue_date or created,
        period_start=inp.period_start,
        period_end=inp.period_end,
        invoice_pdf_url=inp.invoice_pdf_url or None,
        metadata=dict(inp.metadata) if inp.metadata else None,
    )
    check_invariants(inv)
    sb.invoices[inv.id] = inv
    return inv


def _line_item(sb: FlexPriceSandbox, inv: Invoice, item: LineItemInput) -> LineItem:
    now = sb.now()
    return LineItem(
        id=sb.new_id("inv_line", now),
        invoice_id=inv.id,
        customer_id=inv.customer_id,
        currency=inv.currency,
        amount=item.amount or ZERO,
        quantity=item.quantity or ZERO,
        created_at=now,
        updated_at=now,
        display_name=item.display_name,
        subscription_id=item.subscription_id or inv.subscription_id,
        subscription_line_item_id=item.subscription_line_item_id,
        price_id=item.price_id,
        price_type=item.price_type,
        price_unit=item.price_unit,
        price_unit_amount=item.price_unit_amount,
        plan_display_name=item.plan_display_name,
        meter_id=item.meter_id,
        meter_display_name=item.meter_display_name,
        entity_id=item.entity_id,
        entity_type=item.entity_type,
        adjusted_entitlement_quantity=item.adjusted_entitlement_quantity,
        period_start=item.period_start,
        period_end=item.period_end,
        metadata=item.metadata or None,
        prepaid_credits_applied=item.prepaid_credits_applied or ZERO,
        line_item_discount=item.line_item_discount or ZERO,
        invoice_level_discount=item.invoice_level_discount or ZERO,
    )


def create_invoice(sb: FlexPriceSandbox, inp: CreateInvoiceInput) -> Invoice:
    """``POST /invoices``: draft (idempotent), compute, then finalize one-off/credit invoices."""
    sb.customer(inp.customer_id)
    for tax_rate_id in inp.tax_rates:
        raise errors.not_found(f"Tax rate with ID {tax_rate_id} was not found")
    key = inp.idempotency_key or generated_key(sb, inp)
    inv = _find_reusable(sb, key, inp) or _new_draft(sb, inp, key)
    # validate_create_invoice guarantees the three amounts; the asserts narrow the types.
    assert inp.subtotal is not None
    assert inp.total is not None
    assert inp.amount_due is not None
    with atomic(inv):  # the compute step: a refused computation leaves the draft as it was
        inv.line_items = [_line_item(sb, inv, item) for item in inp.line_items]
        if inp.description:
            inv.description = inp.description
        if inp.due_date:
            inv.due_date = inp.due_date
        apply_amounts(sb, inv, subtotal=inp.subtotal, total=inp.total, amount_due=inp.amount_due)
    if inv.invoice_status == "SKIPPED":
        return inv
    if inp.invoice_type in ("ONE_OFF", "CREDIT") or inp.invoice_status == "FINALIZED":
        finalize(sb, inv)
    return inv
