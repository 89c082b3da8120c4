"""Records to Xendit JSON (money stays ``Decimal``: ``encoding.dumps`` writes it exactly).

Every field the SDK's ``Invoice`` and ``Customer`` models mark required is always present;
optional invoice fields are omitted when unset. Times are ISO 8601 UTC with milliseconds
and ``Z`` (``2016-07-30T11:20:01.017Z``).
"""

from __future__ import annotations

from datetime import datetime

from . import channels
from .records import Customer, EmbeddedCustomer, Invoice

JSON = dict[str, object]

_INDIVIDUAL_KEYS = (
    "given_names",
    "given_names_non_roman",
    "middle_name",
    "surname",
    "surname_non_roman",
    "mother_maiden_name",
    "gender",
    "date_of_birth",
    "nationality",
    "place_of_birth",
    "employment",
)
_BUSINESS_KEYS = (
    "business_name",
    "business_type",
    "date_of_registration",
    "nature_of_business",
    "business_domicile",
)
_INVOICE_OPTIONAL = (
    "payer_email",
    "description",
    "locale",
    "success_redirect_url",
    "failure_redirect_url",
    "should_authenticate_credit_card",
    "customer_notification_preference",
    "channel_properties",
    "metadata",
    "reminder_date",
    "recurring_payment_id",
    "on_demand_link",
)
_PAYMENT_FIELDS = (
    "paid_at",
    "paid_amount",
    "payment_method",
    "payment_channel",
    "payment_destination",
    "bank_code",
    "payment_id",
)


def timestamp(value: datetime) -> str:
    """``2016-07-30T11:20:01.017Z``."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _plain(value: object) -> object:
    return timestamp(value) if isinstance(value, datetime) else value


def embedded_customer_json(customer: EmbeddedCustomer) -> JSON:
    """``CustomerObject``: only the fields that were given."""
    out: JSON = {}
    for key in (
        "id",
        "customer_id",
        "given_names",
        "surname",
        "email",
        "mobile_number",
        "phone_number",
    ):
        value = getattr(customer, key)
        if value is not None:
            out[key] = value
    if customer.addresses is not None:
        out["addresses"] = [dict(a) for a in customer.addresses]
    return out


def invoice_json(inv: Invoice, *, checkout: str) -> JSON:
    """``Invoice``, with the payment fields real paid invoices carry and the SDK model lacks;
    its ``invoice_url`` is `checkout` and the id (the sandbox's payment page, ``links``)."""
    out: JSON = {
        "id": inv.id,
        "external_id": inv.external_id,
        "user_id": inv.user_id,
        "status": inv.status,
        "merchant_name": inv.merchant_name,
        "merchant_profile_picture_url": inv.merchant_profile_picture_url,
        "amount": inv.amount,
        "expiry_date": timestamp(inv.expiry_date),
        "invoice_url": checkout + inv.id,
        **channels.available_json(inv, inv.amount),
        "should_exclude_credit_card": channels.CREDIT_CARD not in inv.payment_methods,
        "should_send_email": inv.should_send_email,
        "created": timestamp(inv.created),
        "updated": timestamp(inv.updated),
        "currency": inv.currency,
        "is_high": False,
    }
    for key in _INVOICE_OPTIONAL:
        value = getattr(inv, key)
        if value is not None:
            out[key] = _plain(value)
    if inv.items is not None:
        out["items"] = [
            {
                "name": item.name,
                "price": item.price,
                "quantity": item.quantity,
                **{
                    key: getattr(item, key)
                    for key in ("reference_id", "url", "category")
                    if getattr(item, key) is not None
                },
            }
            for item in inv.items
        ]
    if inv.fees is not None:
        out["fees"] = [{"type": fee.type, "value": fee.value} for fee in inv.fees]
    if inv.customer is not None:
        out["customer"] = embedded_customer_json(inv.customer)
    if inv.status in ("PAID", "SETTLED"):
        for key in _PAYMENT_FIELDS:
            value = getattr(inv, key)
            if value is not None:
                out[key] = _plain(value)
        out["adjusted_received_amount"] = inv.paid_amount
    return out


# Typed ``allOf: [...]`` + ``nullable`` in the spec, which OpenAPI 3.0 validators read as
# "not null": left out when unset instead of sent as ``null``.
_OMIT_WHEN_NULL = frozenset(("nationality", "employment", "business_domicile"))


def _detail(stored: dict[str, object], keys: tuple[str, ...]) -> JSON:
    return {
        key: stored.get(key)
        for key in keys
        if stored.get(key) is not None or key not in _OMIT_WHEN_NULL
    }


def customer_json(customer: Customer) -> JSON:
    """``Customer``: both detail objects always present (the unused one all ``null``)."""
    return {
        "id": customer.id,
        "reference_id": customer.reference_id,
        "type": customer.type,
        "individual_detail": _detail(customer.individual_detail, _INDIVIDUAL_KEYS),
        "business_detail": _detail(customer.business_detail, _BUSINESS_KEYS),
        "description": customer.description,
        "email": customer.email,
        "mobile_number": customer.mobile_number,
        "phone_number": customer.phone_number,
        "addresses": customer.addresses,
        "identity_accounts": customer.identity_accounts,
        "kyc_documents": customer.kyc_documents,
        "metadata": customer.metadata,
        "status": customer.status,
        "created": timestamp(customer.created),
        "updated": timestamp(customer.updated),
    }
