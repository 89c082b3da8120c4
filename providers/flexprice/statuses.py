"""FlexPrice's two status axes, `invoice_status` (the document) and `payment_status` (the
money), folded into the gateway's `InvoiceStatus` and `PaymentStatus` by the tables below; a
value FlexPrice adds later maps to UNKNOWN and is logged once, never raised. And the payment
statuses a manual update may set (`PAYMENT_STATUS_TARGETS`)."""

from __future__ import annotations

import logging
from typing import Final

from providers.models import InvoiceStatus, PaymentStatus

__all__ = [
    "ANY",
    "INVOICE_STATUS_TABLE",
    "PAYMENT_STATUS_OVERRIDES",
    "PAYMENT_STATUS_TABLE",
    "PAYMENT_STATUS_TARGETS",
    "invoice_status_of",
    "payment_status_of",
    "report_unknown",
]

# The name the warnings have always been logged under (operators filter on it).
logger = logging.getLogger("providers.flexprice.mapping")

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


def report_unknown(vocabulary: str, value: str) -> None:
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
