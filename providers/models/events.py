"""What a provider's webhook says happened to an invoice, read into one vocabulary.

A webhook body is a hint, not the truth: it says *that* an invoice changed (and how the
provider named the change), and the gateway re-reads the invoice before it shows one. So a
`WebhookEvent` carries the invoice's id, not an `Invoice`, and keeps the body it came in as
bytes (`raw`), whatever the provider put in it.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import msgspec

__all__ = ["InvoiceEventType", "WebhookEvent"]


class InvoiceEventType(StrEnum):
    """What happened to an invoice, whichever provider said it. Each provider maps its own
    event names (and statuses) to these through a table; a name it does not know is UPDATED."""

    CREATED = "CREATED"
    FINALIZED = "FINALIZED"
    PAID = "PAID"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    VOIDED = "VOIDED"
    EXPIRED = "EXPIRED"
    OVERDUE = "OVERDUE"
    UPDATED = "UPDATED"


class WebhookEvent(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One authenticated delivery of a provider's webhook, about one invoice.

    `delivery_key` is what two deliveries of the same event share and two different events
    never do (the provider retries, at least once): Svix's `svix-id`, Xendit's invoice id and
    status, ... The gateway records an event once per (provider, delivery_key).
    """

    provider: str
    delivery_key: str
    type: InvoiceEventType
    #: The provider's own name for what happened ("invoice.update.payment", "PAID").
    provider_event: str
    #: When it happened, as the provider says (aware UTC); the delivery's time if it does not.
    occurred_at: dt.datetime
    #: The invoice's id at the provider (the gateway re-reads it by this id).
    invoice_id: str
    #: Its customer's id at the provider, when the body says it (filters use it before any
    #: re-read); None when it does not.
    customer_id: str | None = None
    #: The body as it was delivered.
    raw: bytes = b""
