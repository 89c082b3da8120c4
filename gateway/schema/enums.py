"""The schema's enums: the domain's own vocabularies, registered with their descriptions.

`strawberry.enum` decorates the domain enum in place, so resolvers return domain values as is.
"""

from __future__ import annotations

import strawberry

from providers.base import Operation as Capability
from providers.models import InvoiceStatus, PaymentStatus, SettablePaymentStatus

__all__ = ["Capability", "InvoiceStatus", "PaymentStatus", "SettablePaymentStatus"]

strawberry.enum(
    InvoiceStatus,
    description="Where an invoice is in its life, the same for every provider. DRAFT: still "
    "editable, not sent. OPEN: issued and awaiting payment. PAID: paid in full. VOID: cancelled "
    "(FlexPrice VOIDED and SKIPPED). EXPIRED: no longer payable. UNKNOWN: a status this gateway "
    "does not know yet; see providerStatus.",
)
strawberry.enum(
    PaymentStatus,
    description="Where an invoice's money is, the same for every provider. UNPAID, PROCESSING "
    "(a payment is under way), PAID, OVERPAID, FAILED (the last attempt failed), "
    "PARTIALLY_REFUNDED, REFUNDED, SETTLED (paid and the funds settled), UNKNOWN (see "
    "providerStatus).",
)
strawberry.enum(
    SettablePaymentStatus,
    description="A payment status updateInvoicePaymentStatus can record: UNPAID (with an "
    "amount, a partial payment), PAID, OVERPAID, FAILED. The provider decides which "
    "transitions it allows.",
)
strawberry.enum(
    Capability,
    name="Capability",
    description="An operation a provider may support; see Provider.capabilities.",
)
