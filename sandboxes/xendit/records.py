"""The sandbox's stored records and Xendit's vocabularies.

Plain mutable dataclasses: money is ``Decimal``, times are aware UTC datetimes with
millisecond precision (what Xendit prints), ``None`` means "not set" (the serializer omits
it). Customer details and addresses are kept as JSON objects in their response shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

INVOICE_STATUSES = ("PENDING", "PAID", "SETTLED", "EXPIRED")
CLIENT_TYPES = ("DASHBOARD", "API_GATEWAY", "INTEGRATION", "ON_DEMAND", "RECURRING", "MOBILE")
CUSTOMER_TYPES = ("INDIVIDUAL", "BUSINESS")
CUSTOMER_STATUSES = ("ACTIVE", "INACTIVE", "PENDING", "BLOCKED", "DELETED")

JSONObject = dict[str, object]


@dataclass
class Account:
    """A business: the master account of the API key, or one of its xenPlatform sub-accounts."""

    user_id: str
    merchant_name: str
    profile_picture_url: str = "https://du8nwjtfkinx.cloudfront.net/xendit.png"


@dataclass
class InvoiceItem:
    """``InvoiceItem``."""

    name: str
    price: Decimal
    quantity: Decimal
    reference_id: str | None = None
    url: str | None = None
    category: str | None = None


@dataclass
class InvoiceFee:
    """``InvoiceFee``: a named amount added to (or, negative, taken off) the invoice."""

    type: str
    value: Decimal


@dataclass
class EmbeddedCustomer:
    """``CustomerObject``: the customer echoed on an invoice (all optional)."""

    id: str | None = None
    customer_id: str | None = None
    given_names: str | None = None
    surname: str | None = None
    email: str | None = None
    mobile_number: str | None = None
    phone_number: str | None = None
    addresses: list[dict[str, str | None]] | None = None


@dataclass
class Invoice:
    """A Xendit invoice.

    ``payment_methods`` is the list of channels the invoice offers (from the request, or
    every channel of the currency); the ``available_*`` arrays are derived from it.
    ``expired_at`` is when it became EXPIRED (``expire!`` or its ``expiry_date``);
    ``settled_at`` when it became SETTLED.
    """

    id: str
    user_id: str
    external_id: str
    amount: Decimal
    currency: str
    created: datetime
    updated: datetime
    expiry_date: datetime
    payment_methods: list[str]
    status: str = "PENDING"
    merchant_name: str = ""
    merchant_profile_picture_url: str = ""
    description: str | None = None
    payer_email: str | None = None
    should_send_email: bool = False
    items: list[InvoiceItem] | None = None
    fees: list[InvoiceFee] | None = None
    customer: EmbeddedCustomer | None = None
    customer_notification_preference: JSONObject | None = None
    channel_properties: JSONObject | None = None
    metadata: JSONObject | None = None
    success_redirect_url: str | None = None
    failure_redirect_url: str | None = None
    locale: str | None = None
    should_authenticate_credit_card: bool | None = None
    reminder_date: datetime | None = None
    client_type: str = "API_GATEWAY"
    recurring_payment_id: str | None = None
    on_demand_link: str | None = None
    paid_at: datetime | None = None
    paid_amount: Decimal | None = None
    payment_channel: str | None = None
    payment_method: str | None = None
    payment_destination: str | None = None
    bank_code: str | None = None
    payment_id: str | None = None
    expired_at: datetime | None = None
    settled_at: datetime | None = None


@dataclass
class Customer:
    """A Customer API customer (``Customer``), owned by ``user_id``'s business."""

    id: str
    user_id: str
    reference_id: str
    created: datetime
    updated: datetime
    type: str | None = "INDIVIDUAL"
    individual_detail: JSONObject = field(default_factory=dict)
    business_detail: JSONObject = field(default_factory=dict)
    description: str | None = None
    email: str | None = None
    mobile_number: str | None = None
    phone_number: str | None = None
    addresses: list[JSONObject] | None = None
    identity_accounts: list[JSONObject] | None = None
    kyc_documents: list[JSONObject] | None = None
    metadata: JSONObject | None = None
    status: str | None = "ACTIVE"
    client_name: str | None = None
