"""The gateway's drafts and updates as FlexPrice's requests, the search for the invoice FlexPrice
holds under a create's idempotency key (`key_holder_search`), and what that invoice differs in
from the create (`create_differences`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from providers.errors import ProviderRejected
from providers.flexprice import bodies, wire
from providers.flexprice.mapping import PROVIDER, decoded_lines, metadata_of
from providers.flexprice.statuses import PAYMENT_STATUS_TARGETS
from providers.models import InvoiceDraft, InvoicePreviewRequest, InvoiceUpdate, PaymentStatusUpdate
from providers.records import utc

__all__ = [
    "create_differences",
    "key_holder_search",
    "to_create_request",
    "to_payment_status_request",
    "to_preview_request",
    "to_update_request",
]

# Finding a create's invoice by its key: a VOIDED invoice no longer holds the key.
_KEY_HOLDER_STATUSES = ("DRAFT", "FINALIZED", "SKIPPED")


def to_create_request(draft: InvoiceDraft, *, idempotency_key: str) -> bodies.CreateInvoiceRequest:
    """A one-off invoice with the exact line sums as subtotal, total and amount due.

    The key is always sent: without one FlexPrice makes a new, time-based key per call, so a retry
    would bill twice.
    """
    subtotal = draft.subtotal
    return bodies.CreateInvoiceRequest(
        customer_id=draft.customer_id,
        currency=draft.currency.lower(),
        idempotency_key=idempotency_key,
        subtotal=subtotal,
        total=subtotal,
        amount_due=subtotal,
        line_items=tuple(
            bodies.CreateInvoiceLineItemRequest(
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
    request: bodies.CreateInvoiceRequest, found: wire.InvoiceResponse
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
    kept = _lines((line.display_name, line.quantity, line.amount) for line in decoded_lines(found))
    if sent != kept or found.subtotal != request.subtotal:
        differs.append("line_items")
    if not _same_time(utc(found.due_date), request.due_date):
        differs.append("due_at")
    if (found.description or None) != (request.description or None):
        differs.append("description")
    if metadata_of(found.metadata) != dict(request.metadata or {}):
        differs.append("metadata")
    return differs


def to_update_request(update: InvoiceUpdate) -> bodies.UpdateInvoiceRequest:
    """Only the fields the update sets; FlexPrice replaces `metadata` as a whole."""
    return bodies.UpdateInvoiceRequest(
        due_date=update.due_at,
        invoice_pdf_url=update.pdf_url,
        metadata=update.metadata,
    )


def to_payment_status_request(update: PaymentStatusUpdate) -> bodies.UpdatePaymentStatusRequest:
    """Raises `ProviderRejected` (field `status`) for a status FlexPrice cannot be set to."""
    target = PAYMENT_STATUS_TARGETS.get(update.status)
    if target is None:
        allowed = ", ".join(status.value for status in PAYMENT_STATUS_TARGETS)
        raise ProviderRejected(
            PROVIDER,
            f"flexprice cannot set a payment status of {update.status.value}: use one of {allowed}",
            field="status",
        )
    return bodies.UpdatePaymentStatusRequest(payment_status=target, amount=update.amount)


def to_preview_request(request: InvoicePreviewRequest) -> bodies.GetPreviewInvoiceRequest:
    return bodies.GetPreviewInvoiceRequest(
        subscription_id=request.subscription_id,
        period_start=request.period_start,
        period_end=request.period_end,
    )


def key_holder_search(key: str) -> bodies.InvoiceFilter:
    """The search for the invoice holding idempotency key `key`: one invoice, in any status that
    still holds a key. FlexPrice may widen it: the caller checks the key of what it finds."""
    condition = bodies.FilterCondition.model_validate(
        {
            "field": "idempotency_key",
            "operator": "eq",
            "data_type": "string",
            "value": {"string": key},
        }
    )
    return bodies.InvoiceFilter(
        filters=(condition,), invoice_status=_KEY_HOLDER_STATUSES, limit=1, offset=0
    )
