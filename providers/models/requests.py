"""What the gateway asks of a provider, built from a client's input: drafts, updates, filters,
page requests (frozen pydantic models that validate; the rules are `providers.validation`'s)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from providers.models.domain import EXACT, Invoice, InvoiceStatus, PaymentStatus

__all__ = [
    "InvoiceDraft",
    "InvoiceFilter",
    "InvoicePreviewRequest",
    "InvoiceUpdate",
    "LineItemDraft",
    "PageRequest",
    "PaymentPageOptions",
    "PaymentStatusUpdate",
    "RecalculationResult",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LineItemDraft(_Frozen):
    description: str
    quantity: Decimal
    unit_amount: Decimal

    @property
    def amount(self) -> Decimal:
        """quantity x unit_amount, exactly (raises `decimal.Inexact` rather than round)."""
        return EXACT.multiply(self.quantity, self.unit_amount)


class PaymentPageOptions(_Frozen):
    """How a provider's hosted payment page behaves (Xendit's invoice page, for one).

    A provider without such a page refuses a draft that carries these options.
    """

    payer_email: str | None = None
    success_redirect_url: str | None = None
    failure_redirect_url: str | None = None
    #: Payment methods to offer, in the provider's own names (e.g. Xendit's "BCA", "OVO").
    payment_methods: tuple[str, ...] = ()
    #: How long the page accepts payment; None means the provider's default.
    duration: dt.timedelta | None = None


class InvoiceDraft(_Frozen):
    """A one-off invoice to create; subtotal and total are the exact sum of the lines."""

    customer_id: str
    currency: str
    line_items: tuple[LineItemDraft, ...]
    due_at: dt.datetime | None = None
    description: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    payment_page: PaymentPageOptions | None = None

    @property
    def subtotal(self) -> Decimal:
        """The exact sum of the lines' amounts."""
        total = Decimal(0)
        for line in self.line_items:
            total = EXACT.add(total, line.amount)
        return total


class InvoiceUpdate(_Frozen):
    """Changes to an existing invoice; `None` leaves a field as it is."""

    due_at: dt.datetime | None = None
    metadata: dict[str, str] | None = None
    pdf_url: str | None = None


class SettablePaymentStatus(StrEnum):
    """The payment statuses a manual update may set, with any provider: the values of
    `PaymentStatus` money received elsewhere can put an invoice in. (REFUNDED, SETTLED, ... are
    what a provider reports, never what a client records.)"""

    UNPAID = PaymentStatus.UNPAID.value
    PAID = PaymentStatus.PAID.value
    OVERPAID = PaymentStatus.OVERPAID.value
    FAILED = PaymentStatus.FAILED.value


class PaymentStatusUpdate(_Frozen):
    status: PaymentStatus
    amount: Decimal | None = None


class InvoicePreviewRequest(_Frozen):
    subscription_id: str
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None


class RecalculationResult(_Frozen):
    """What a recalculation did: an invoice updated in place, or a replacement being built."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    invoice: Invoice | None = None
    message: str | None = None


class InvoiceFilter(_Frozen):
    """Conditions that are ANDed; an empty tuple means no condition on that field."""

    statuses: tuple[InvoiceStatus, ...] = ()
    payment_statuses: tuple[PaymentStatus, ...] = ()
    customer_ids: tuple[str, ...] = ()
    currencies: tuple[str, ...] = ()
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None


class PageRequest(_Frozen):
    """`after` is the provider's own opaque position from a previous `Page.end_cursor`."""

    first: int
    after: str | None = None
