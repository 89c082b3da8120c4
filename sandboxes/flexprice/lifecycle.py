"""The invoice state machine: compute, finalize, void, payment status, wallet payment, update.

Rules and messages are the server's (``internal/ee/service/invoice.go``); each function mutates the
stored record in place and raises ``APIError`` exactly where the server refuses.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from . import errors
from .invoice_payloads import UpdateInvoiceInput
from .records import ZERO, Invoice, WalletPayment
from .store import FlexPriceSandbox

# Manual payment-status transitions (``validatePaymentStatusTransition``); a current status without
# a row cannot change.
PAYMENT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "PENDING": ("PENDING", "SUCCEEDED", "OVERPAID", "FAILED"),
    "SUCCEEDED": ("SUCCEEDED", "OVERPAID"),
    "OVERPAID": ("OVERPAID",),
    "FAILED": ("PENDING", "FAILED", "SUCCEEDED", "OVERPAID"),
}
VOIDABLE_INVOICE_STATUSES = ("DRAFT", "FINALIZED", "SKIPPED")
VOIDABLE_PAYMENT_STATUSES = ("PENDING", "FAILED", "SUCCEEDED", "PARTIALLY_REFUNDED", "OVERPAID")
EDITABLE_STATUSES = ("DRAFT", "FINALIZED")


def check_invariants(inv: Invoice) -> None:
    """The domain check run on every save (``invoice.Validate``)."""
    overpaid = inv.payment_status == "OVERPAID"
    problems = []
    if inv.amount_due < ZERO:
        problems.append("amount_due must be non-negative")
    if inv.amount_paid < ZERO:
        problems.append("amount_paid must be non-negative")
    if not overpaid and inv.amount_paid > inv.amount_due:
        problems.append("amount_paid cannot exceed amount_due")
    if inv.amount_remaining < ZERO or inv.amount_remaining > inv.amount_due:
        problems.append("amount_remaining must be between 0 and amount_due")
    if overpaid and inv.amount_remaining != ZERO:
        problems.append("amount_remaining must be 0 for an overpaid invoice")
    if not overpaid and inv.amount_paid + inv.amount_remaining != inv.amount_due:
        problems.append("amount_paid + amount_remaining must equal amount_due")
    if inv.period_start and inv.period_end and inv.period_end < inv.period_start:
        problems.append("period_end must not be before period_start")
    if inv.invoice_type == "SUBSCRIPTION" and not inv.billing_period:
        problems.append("billing_period is required for subscription invoices")
    if any(item.currency != inv.currency for item in inv.line_items):
        problems.append("line item currency must match invoice currency")
    if problems:
        raise errors.validation(problems[0], details={"invoice_id": inv.id})


@contextmanager
def atomic(inv: Invoice) -> Iterator[None]:
    """Undo the block's changes to ``inv`` when it raises: a refused change is never saved."""
    saved = {k: list(v) if isinstance(v, list) else v for k, v in vars(inv).items()}
    try:
        yield
    except BaseException:
        vars(inv).update(saved)
        raise


def touch(sb: FlexPriceSandbox, inv: Invoice) -> None:
    inv.updated_at = sb.now()
    inv.version += 1


def apply_amounts(
    sb: FlexPriceSandbox, inv: Invoice, *, subtotal: Decimal, total: Decimal, amount_due: Decimal
) -> None:
    """The compute step's money: amounts set, ``amount_remaining`` derived, SKIPPED rule."""
    with atomic(inv):
        inv.subtotal, inv.total, inv.amount_due = subtotal, total, amount_due
        inv.amount_remaining = amount_due - inv.amount_paid
        inv.last_computed_at = sb.now()
        skippable = inv.invoice_type == "SUBSCRIPTION"
        if skippable and subtotal == ZERO and inv.billing_reason != "SUBSCRIPTION_TRIAL_START":
            inv.invoice_status = "SKIPPED"
        elif inv.invoice_status == "SKIPPED":
            inv.invoice_status = "DRAFT"
        check_invariants(inv)
    touch(sb, inv)


def finalize(sb: FlexPriceSandbox, inv: Invoice) -> None:
    """``POST /invoices/{id}/finalize``: DRAFT only; SKIPPED is a no-op."""
    if inv.invoice_status == "SKIPPED":
        return
    if inv.invoice_status != "DRAFT":
        raise errors.validation("invoice must be in draft status to be finalized")
    now = sb.now()
    with atomic(inv):
        if inv.invoice_type == "SUBSCRIPTION":
            inv.total = inv.subtotal - inv.total_discount - inv.total_prepaid_credits_applied
            inv.amount_due = inv.total
            inv.amount_remaining = inv.total - inv.amount_paid
        if inv.total == ZERO and inv.billing_reason != "SUBSCRIPTION_TRIAL_START":
            inv.payment_status = "SUCCEEDED"
        if (inv.metadata or {}).get("auto_completed") == "true":
            inv.payment_status = "SUCCEEDED"
            inv.amount_paid, inv.amount_remaining = inv.amount_due, ZERO
        inv.invoice_status = "FINALIZED"
        inv.finalized_at = now
        check_invariants(inv)
    if not inv.invoice_number:
        inv.invoice_number = sb.next_invoice_number(now)
    touch(sb, inv)


def void(sb: FlexPriceSandbox, inv: Invoice, metadata: dict[str, str]) -> None:
    """``POST /invoices/{id}/void``: credits the funded, unrefunded value to the wallet."""
    if inv.invoice_status not in VOIDABLE_INVOICE_STATUSES:
        raise errors.validation(
            f"invoice status - {inv.invoice_status} is not allowed",
            details={"allowed_statuses": list(VOIDABLE_INVOICE_STATUSES)},
        )
    if inv.payment_status not in VOIDABLE_PAYMENT_STATUSES:
        raise errors.validation(
            f"invoice payment status - {inv.payment_status} is not allowed",
            details={"allowed_statuses": list(VOIDABLE_PAYMENT_STATUSES)},
        )
    if metadata:
        inv.metadata = {**(inv.metadata or {}), **metadata}
    inv.invoice_status = "VOIDED"
    inv.voided_at = sb.now()
    refundable = inv.amount_paid + inv.total_prepaid_credits_applied - inv.refunded_amount
    if refundable > ZERO:
        sb.adjust_wallet(inv.customer_id, inv.currency, refundable)
    touch(sb, inv)


def update_payment_status(
    sb: FlexPriceSandbox, inv: Invoice, status: str, amount: Decimal | None
) -> None:
    """``PUT /invoices/{id}/payment``: checks in the server's order, then effects."""
    if inv.invoice_status not in EDITABLE_STATUSES:
        raise errors.validation(
            f"invoice status - {inv.invoice_status} is not allowed",
            details={"allowed_statuses": list(EDITABLE_STATUSES)},
        )
    if inv.payments:
        raise errors.invalid_operation(
            "Manual payment status updates are disabled for payment-based invoices."
        )
    allowed = PAYMENT_TRANSITIONS.get(inv.payment_status)
    if allowed is None:
        raise errors.validation(f"invalid current payment status: {inv.payment_status}")
    if status not in allowed:
        raise errors.validation(
            f"invalid payment status transition from {inv.payment_status} to {status}",
            details={"allowed_statuses": list(allowed)},
        )
    if amount is not None and amount < ZERO:
        raise errors.validation("amount must be non-negative")
    with atomic(inv):
        inv.payment_status = status
        if status == "PENDING" and amount is not None:
            inv.amount_paid, inv.amount_remaining = amount, inv.amount_due - amount
        elif status == "SUCCEEDED":
            inv.amount_paid, inv.amount_remaining = inv.amount_due, ZERO
            inv.paid_at = sb.now()
        elif status == "FAILED":
            inv.amount_paid, inv.amount_remaining = ZERO, inv.amount_due
            inv.paid_at = None
        check_invariants(inv)
    touch(sb, inv)


def attempt_payment(sb: FlexPriceSandbox, inv: Invoice) -> None:
    """``POST /invoices/{id}/payment/attempt``: pay what the wallet holds in that currency.

    Mirrors the server: SKIPPED is a no-op; non-FINALIZED is 400 ``validation_error``; an
    already SUCCEEDED invoice is 400 ``invalid_operation``; nothing left to pay is 400
    ``validation_error``. A short or empty wallet pays what it can (possibly nothing) and
    still answers 200; the invoice becomes SUCCEEDED only once fully paid.
    """
    if inv.invoice_status == "SKIPPED":
        return
    if inv.invoice_status != "FINALIZED":
        raise errors.validation(
            "Invoice must be finalized before attempting payment",
            details={"invoice_id": inv.id, "invoice_status": inv.invoice_status},
        )
    if inv.payment_status == "SUCCEEDED":
        raise errors.invalid_operation(
            "Invoice is already paid",
            details={"invoice_id": inv.id, "payment_status": inv.payment_status},
        )
    if inv.amount_remaining <= ZERO:
        raise errors.validation("Invoice has no remaining amount to pay")
    paid = min(sb.wallet_balance(inv.customer_id, inv.currency), inv.amount_remaining)
    if paid <= ZERO:
        return
    now = sb.now()
    with atomic(inv):
        inv.payments.append(WalletPayment(amount=paid, created_at=now))
        inv.amount_paid += paid
        inv.amount_remaining -= paid
        if inv.amount_remaining == ZERO:
            inv.payment_status = "SUCCEEDED"
            inv.paid_at = now
        check_invariants(inv)
    sb.adjust_wallet(inv.customer_id, inv.currency, -paid)
    touch(sb, inv)


def update_invoice(sb: FlexPriceSandbox, inv: Invoice, inp: UpdateInvoiceInput) -> None:
    """``PUT /invoices/{id}``: DRAFT or FINALIZED only; metadata replaces the map."""
    if inv.invoice_status not in EDITABLE_STATUSES:
        raise errors.validation("Invoice can only be updated when in draft or finalized status")
    if inp.due_date is not None:
        inv.due_date = inp.due_date
    if inp.invoice_pdf_url:
        inv.invoice_pdf_url = inp.invoice_pdf_url
    if inp.metadata is not None:
        inv.metadata = dict(inp.metadata) or None
    touch(sb, inv)
