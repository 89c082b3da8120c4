"""``CreateInvoiceRequest``: validated as Xendit does, then stored as a PENDING invoice.

Order of checks, first failure wins: ``external_id`` and ``amount`` (400
``API_VALIDATION_ERROR``), ``currency`` (``UNSUPPORTED_CURRENCY``), the amount's decimals
and limits (``API_VALIDATION_ERROR`` / ``MAXIMUM_TRANSFER_AMOUNT_ERROR``), e-mails
(``EMAIL_FORMAT_ERROR``), ``invoice_duration`` (1 s to one year), items and fees,
``payment_methods`` (``UNAVAILABLE_PAYMENT_METHOD_ERROR`` for an unknown channel,
``MISMATCH_CURRENCY_ERROR`` for another currency's, ``NO_COLLECTION_METHODS_ERROR`` for
none), the reminder (``INVALID_REMINDER_TIME``), metadata (at most 50 keys), and a
``callback_virtual_account_id`` (``CALLBACK_VIRTUAL_ACCOUNT_NOT_FOUND_ERROR``: the sandbox
has no fixed virtual accounts).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from . import binding, channels, currency, errors
from .binding import JSONObject
from .records import Account, EmbeddedCustomer, Invoice, InvoiceFee, InvoiceItem
from .store import XenditSandbox

DEFAULT_DURATION = Decimal(86_400)  # 24 hours
MAX_DURATION = Decimal(31_536_000)  # one year
_NOTIFICATION_KEYS = ("invoice_created", "invoice_reminder", "invoice_paid", "invoice_expired")
_NOTIFICATION_CHANNELS = ("email", "sms", "whatsapp", "viber")
_REMINDER_UNITS = {"days": (1, 60, timedelta(days=1)), "hours": (1, 24, timedelta(hours=1))}
_CUSTOMER_TEXT = ("id", "customer_id", "given_names", "surname", "mobile_number", "phone_number")
_ADDRESS_KEYS = ("country", "street_line1", "street_line2", "city", "province", "state")


def _amount(body: JSONObject, code: str) -> Decimal:
    amount = binding.req_number(body, "amount")
    if currency.truncates(code):
        amount = currency.truncate(amount, code)
    elif currency.has_excess_decimals(amount, code):
        raise errors.validation(
            f'"amount" in {code} must have at most {currency.precision(code)} decimal places'
        )
    low, high = currency.LIMITS[code]
    if amount < low:
        raise errors.validation(f'"amount" must be at least {low} {code}')
    if amount > high:
        raise errors.bad_request(
            "MAXIMUM_TRANSFER_AMOUNT_ERROR",
            f"The amount {amount} exceeds the maximum of {high} {code} per invoice",
        )
    return amount


def _email(value: str | None, field: str) -> str | None:
    if value is not None and not binding.is_email(value):
        raise errors.bad_request("EMAIL_FORMAT_ERROR", f'"{field}" must be a valid email')
    return value


def _customer(body: JSONObject) -> EmbeddedCustomer | None:
    raw = binding.opt_object(body, "customer")
    if raw is None:
        return None
    text = {key: binding.opt_str(raw, key) for key in _CUSTOMER_TEXT}
    addresses = binding.opt_objects(raw, "addresses")
    return EmbeddedCustomer(
        **text,
        email=_email(binding.opt_str(raw, "email"), "customer.email"),
        addresses=None
        if addresses is None
        else [
            {k: binding.opt_str(a, k) for k in (*_ADDRESS_KEYS, "postal_code")} for a in addresses
        ],
    )


def _items(body: JSONObject) -> list[InvoiceItem] | None:
    raw = binding.opt_objects(body, "items")
    if raw is None:
        return None
    items: list[InvoiceItem] = []
    for index, item in enumerate(raw):
        price = binding.req_number(item, "price")
        quantity = binding.req_number(item, "quantity")
        if price < 0 or quantity < 0:
            raise errors.validation(f'"items[{index}]" price and quantity must not be negative')
        items.append(
            InvoiceItem(
                name=binding.req_str(item, "name"),
                price=price,
                quantity=quantity,
                reference_id=binding.opt_str(item, "reference_id"),
                url=binding.opt_str(item, "url"),
                category=binding.opt_str(item, "category"),
            )
        )
    return items


def _fees(body: JSONObject) -> list[InvoiceFee] | None:
    raw = binding.opt_objects(body, "fees")
    if raw is None:
        return None
    return [
        InvoiceFee(type=binding.req_str(fee, "type"), value=binding.req_number(fee, "value"))
        for fee in raw
    ]


def _payment_methods(body: JSONObject, code: str) -> list[str]:
    offered = channels.channels_for(code)
    requested = binding.opt_str_list(body, "payment_methods")
    if requested is None:
        return offered
    known = channels.known_channels()
    for name in requested:
        if name not in known:
            raise errors.bad_request(
                "UNAVAILABLE_PAYMENT_METHOD_ERROR", f"Payment method {name} is not available"
            )
        if name not in offered:
            raise errors.bad_request(
                "MISMATCH_CURRENCY_ERROR", f"Payment method {name} does not support {code}"
            )
    chosen = [name for name in offered if name in requested]
    if not chosen:
        raise errors.bad_request(
            "NO_COLLECTION_METHODS_ERROR", "payment_methods must name at least one channel"
        )
    return chosen


def _notification(body: JSONObject) -> JSONObject | None:
    raw = binding.opt_object(body, "customer_notification_preference")
    if raw is None:
        return None
    out: JSONObject = {}
    for key in _NOTIFICATION_KEYS:
        values = binding.opt_str_list(raw, key)
        if values is None:
            continue
        if any(v not in _NOTIFICATION_CHANNELS for v in values):
            raise errors.validation(f'"{key}" channels must be one of {_NOTIFICATION_CHANNELS}')
        out[key] = values
    return out


def _reminder(body: JSONObject, *, now: datetime, expiry: datetime) -> datetime | None:
    amount = binding.opt_number(body, "reminder_time")
    unit = binding.opt_str(body, "reminder_time_unit")
    if amount is None and unit is None:
        return None
    rule = _REMINDER_UNITS.get(unit or "days")
    if amount is None or rule is None or not rule[0] <= amount <= rule[1]:
        raise errors.bad_request(
            "INVALID_REMINDER_TIME",
            "reminder_time must be 1-60 days or 1-24 hours (reminder_time_unit days|hours)",
        )
    reminder = expiry - rule[2] * int(amount)
    if reminder <= now:
        raise errors.bad_request("INVALID_REMINDER_TIME", "the reminder falls before now")
    return reminder


def create_invoice(sb: XenditSandbox, account: Account, body: JSONObject) -> Invoice:
    """Validate ``body`` and store the new PENDING invoice of ``account``."""
    external_id = binding.req_str(body, "external_id", max_length=1000)
    binding.req_number(body, "amount")  # presence and type come before the currency check
    code = binding.opt_str(body, "currency") or currency.DEFAULT_CURRENCY
    if code not in currency.CURRENCIES:
        raise errors.bad_request("UNSUPPORTED_CURRENCY", f"Currency {code} is not supported")
    amount = _amount(body, code)
    payer_email = _email(binding.opt_str(body, "payer_email"), "payer_email")
    customer = _customer(body)
    duration = binding.opt_number(body, "invoice_duration")
    duration = DEFAULT_DURATION if duration is None else duration
    if not Decimal(1) <= duration <= MAX_DURATION:
        raise errors.validation('"invoice_duration" must be between 1 and 31536000 seconds')
    items, fees = _items(body), _fees(body)
    methods = _payment_methods(body, code)
    metadata = binding.opt_object(body, "metadata")
    if metadata is not None and len(metadata) > 50:
        raise errors.validation('"metadata" must have at most 50 keys')
    notification = _notification(body)
    now = sb.now()
    expiry = now + timedelta(milliseconds=int(duration * 1000))
    reminder = _reminder(body, now=now, expiry=expiry)
    if binding.opt_str(body, "callback_virtual_account_id") is not None:
        raise errors.APIError(
            404,
            "CALLBACK_VIRTUAL_ACCOUNT_NOT_FOUND_ERROR",
            "callback_virtual_account_id not found: the sandbox has no fixed virtual accounts",
        )
    created = sb.created_stamp(now)
    inv = Invoice(
        id=sb.invoice_id(created),
        user_id=account.user_id,
        external_id=external_id,
        amount=amount,
        currency=code,
        created=created,
        updated=created,
        expiry_date=created + (expiry - now),
        payment_methods=methods,
        merchant_name=account.merchant_name,
        merchant_profile_picture_url=account.profile_picture_url,
        description=binding.opt_str(body, "description"),
        payer_email=payer_email,
        should_send_email=binding.opt_bool(body, "should_send_email") or False,
        items=items,
        fees=fees,
        customer=customer,
        customer_notification_preference=notification,
        channel_properties=binding.opt_object(body, "channel_properties"),
        metadata=metadata,
        success_redirect_url=binding.opt_str(body, "success_redirect_url"),
        failure_redirect_url=binding.opt_str(body, "failure_redirect_url"),
        locale=binding.opt_str(body, "locale"),
        should_authenticate_credit_card=binding.opt_bool(body, "should_authenticate_credit_card"),
        reminder_date=reminder,
    )
    sb.invoices[inv.id] = inv
    return inv
