"""The domain model every provider maps into and the gateway serves.

Money is `Decimal` plus an upper-case ISO 4217 code, never a float. Timestamps are timezone-aware
UTC. Every invoice and customer keeps where the provider's JSON object is in the body it came in
(`raw_source`): its bytes (`raw_json`) are cut out and decoded into `raw` only when asked for, so
nothing a provider returns is lost and nothing is paid for it until a client asks.

What a provider returns (`Money`, `Address`, `Customer`, `LineItem`, `Invoice`,
`CustomerInvoiceSummary`) is a `DomainRecord`: a frozen msgspec Struct, built without validation at
about a tenth of a pydantic model's cost and never tracked by the collector. Its types are the
mapping's guarantee, kept by construction in each `mapping.py` (money through `records.finite`,
times through `records.utc`) and checked by the provider tests. What the gateway builds from a
client's input (drafts, updates, filters, page requests) stays a frozen, validated pydantic model.
"""

from providers.models.domain import (
    EXACT,
    Address,
    Customer,
    CustomerInvoiceSummary,
    DomainRecord,
    Invoice,
    InvoiceStatus,
    LineItem,
    Money,
    PaymentStatus,
)
from providers.models.events import InvoiceEventType, WebhookEvent
from providers.models.pages import (
    Deferred,
    Lazy,
    LazyInvoices,
    Page,
    created_times,
    ids_of,
    pick,
)
from providers.models.requests import (
    InvoiceDraft,
    InvoiceFilter,
    InvoicePreviewRequest,
    InvoiceUpdate,
    LineItemDraft,
    PageRequest,
    PaymentPageOptions,
    PaymentStatusUpdate,
    RecalculationResult,
    SettablePaymentStatus,
)

__all__ = [
    "EXACT",
    "Address",
    "Customer",
    "CustomerInvoiceSummary",
    "Deferred",
    "DomainRecord",
    "Invoice",
    "InvoiceDraft",
    "InvoiceEventType",
    "InvoiceFilter",
    "InvoicePreviewRequest",
    "InvoiceStatus",
    "InvoiceUpdate",
    "Lazy",
    "LazyInvoices",
    "LineItem",
    "LineItemDraft",
    "Money",
    "Page",
    "PageRequest",
    "PaymentPageOptions",
    "PaymentStatus",
    "PaymentStatusUpdate",
    "RecalculationResult",
    "SettablePaymentStatus",
    "WebhookEvent",
    "created_times",
    "ids_of",
    "pick",
]
