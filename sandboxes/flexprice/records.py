"""The sandbox's stored records and FlexPrice's status vocabularies.

Records are plain mutable dataclasses: money is ``Decimal``, times are aware UTC datetimes,
and ``None`` means "not set" (the serializer then omits the field, see ``serialize``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

TENANT_ID = "tenant_sandbox"
ENVIRONMENT_ID = "env_sandbox"
ACTOR_ID = "usr_sandbox"

INVOICE_STATUSES = ("DRAFT", "FINALIZED", "VOIDED", "SKIPPED")
PAYMENT_STATUSES = (
    "INITIATED",
    "PENDING",
    "PROCESSING",
    "SUCCEEDED",
    "OVERPAID",
    "FAILED",
    "REFUNDED",
    "PARTIALLY_REFUNDED",
    "VOIDED",
)
INVOICE_TYPES = ("SUBSCRIPTION", "ONE_OFF", "CREDIT")
BILLING_REASONS = (
    "SUBSCRIPTION_CREATE",
    "SUBSCRIPTION_CYCLE",
    "SUBSCRIPTION_UPDATE",
    "SUBSCRIPTION_TRIAL_END",
    "SUBSCRIPTION_TRIAL_START",
    "PRORATION",
    "MANUAL",
    "AUTO_INVOICE_THRESHOLD",
    "WALLET_AUTO_TOPUP",
)
ENTITY_STATUSES = ("published", "deleted", "archived")

ZERO = Decimal(0)


@dataclass
class Customer:
    """A FlexPrice customer (``CustomerResponse``)."""

    id: str
    external_id: str
    name: str
    created_at: datetime
    updated_at: datetime
    email: str = ""
    contact: str = ""
    address_line1: str = ""
    address_line2: str = ""
    address_city: str = ""
    address_state: str = ""
    address_postal_code: str = ""
    address_country: str = ""
    timezone: str = "UTC"
    metadata: dict[str, str] = field(default_factory=dict)
    status: str = "published"


@dataclass
class LineItem:
    """One invoice line (``InvoiceLineItemResponse``)."""

    id: str
    invoice_id: str
    customer_id: str
    currency: str
    amount: Decimal
    quantity: Decimal
    created_at: datetime
    updated_at: datetime
    display_name: str | None = None
    subscription_id: str | None = None
    subscription_line_item_id: str | None = None
    price_id: str | None = None
    price_type: str | None = None
    price_unit: str | None = None
    price_unit_amount: Decimal | None = None
    plan_display_name: str | None = None
    meter_id: str | None = None
    meter_display_name: str | None = None
    entity_id: str | None = None
    entity_type: str | None = None
    adjusted_entitlement_quantity: Decimal | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    metadata: dict[str, str] | None = None
    prepaid_credits_applied: Decimal = ZERO
    line_item_discount: Decimal = ZERO
    invoice_level_discount: Decimal = ZERO
    status: str = "published"


@dataclass
class WalletPayment:
    """A succeeded payment made by ``POST /invoices/{id}/payment/attempt``."""

    amount: Decimal
    created_at: datetime


@dataclass
class Invoice:
    """A FlexPrice invoice (``InvoiceResponse`` without the embedded objects)."""

    id: str
    customer_id: str
    invoice_type: str
    currency: str
    idempotency_key: str
    created_at: datetime
    updated_at: datetime
    invoice_status: str = "DRAFT"
    payment_status: str = "PENDING"
    amount_due: Decimal = ZERO
    amount_paid: Decimal = ZERO
    amount_remaining: Decimal = ZERO
    subtotal: Decimal = ZERO
    total: Decimal = ZERO
    total_discount: Decimal = ZERO
    total_tax: Decimal = ZERO
    total_prepaid_credits_applied: Decimal = ZERO
    adjustment_amount: Decimal = ZERO
    refunded_amount: Decimal = ZERO
    invoice_number: str | None = None
    billing_sequence: int | None = None
    version: int = 1
    is_manually_edited: bool = False
    subscription_id: str | None = None
    subscription_customer_id: str | None = None
    description: str | None = None
    billing_period: str | None = None
    billing_reason: str | None = None
    due_date: datetime | None = None
    issue_date: datetime | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    finalized_at: datetime | None = None
    paid_at: datetime | None = None
    voided_at: datetime | None = None
    last_computed_at: datetime | None = None
    invoice_pdf_url: str | None = None
    recalculated_invoice_id: str | None = None
    metadata: dict[str, str] | None = None
    line_items: list[LineItem] = field(default_factory=list)
    payments: list[WalletPayment] = field(default_factory=list)
    status: str = "published"


@dataclass
class PlanCharge:
    """One priced line of a subscription's plan."""

    price_id: str
    display_name: str
    price_type: str  # "FIXED" or "USAGE"
    unit_amount: Decimal
    quantity: Decimal = Decimal(1)  # fixed charges; usage quantities vary per period
    meter_id: str | None = None
    meter_display_name: str | None = None


@dataclass
class Subscription:
    """A seeded subscription, enough to preview and recalculate its invoices."""

    id: str
    customer_id: str
    plan_id: str
    plan_name: str
    currency: str
    created_at: datetime
    start_date: datetime
    current_period_start: datetime
    current_period_end: datetime
    charges: list[PlanCharge]
    billing_period: str = "MONTHLY"
    subscription_status: str = "active"
    status: str = "published"
