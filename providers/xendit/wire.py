"""Xendit's JSON as pydantic models, named after Xendit's own schemas (as in its Python SDK).

Responses are `providers.records.Record`s, decoded from the body's bytes in one pass: every field
is optional, unknown fields are ignored (real invoices carry fields the SDK model lacks; they stay
in `raw`), and `null` counts as absent (a list or mapping sent as `null` is `None`). Money
arrives as JSON numbers and is decoded to `Decimal` from their text, so no float ever holds an
amount; `metadata` keeps JSON's default types. Timestamps are `datetime`s the mapping turns into
UTC (`records.utc`). Each response keeps the bytes of the JSON object it was read from; `raw`
decodes them with Python's default types, JSON-serialisable as is.

Requests are strict (`extra="forbid"`) and dumped with `body()`: absent fields are left out and
money is a JSON number (written exactly by `providers.http.exact_json`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from providers.records import Record

__all__ = [
    "INVOICE_STATUSES",
    "AddressObject",
    "AddressObjectRequest",
    "BusinessDetail",
    "CreateInvoiceRequest",
    "Customer",
    "CustomerAddress",
    "CustomerObject",
    "CustomerObjectRequest",
    "Error",
    "IndividualDetail",
    "Invoice",
    "InvoiceFee",
    "InvoiceItem",
    "InvoiceItemRequest",
    "ResponseModel",
]

#: `InvoiceStatus` as of the SDK.
INVOICE_STATUSES = ("PENDING", "PAID", "SETTLED", "EXPIRED")


class ResponseModel(Record):
    """A Xendit response object."""


# -- invoices -------------------------------------------------------------------------------


class InvoiceItem(ResponseModel):
    name: str | None = None
    price: Decimal | None = None
    quantity: Decimal | None = None
    reference_id: str | None = None
    url: str | None = None
    category: str | None = None


class InvoiceFee(ResponseModel):
    type: str | None = None
    value: Decimal | None = None


class AddressObject(ResponseModel):
    country: str | None = None
    street_line1: str | None = None
    street_line2: str | None = None
    city: str | None = None
    province: str | None = None
    state: str | None = None
    postal_code: str | None = None


class CustomerObject(ResponseModel):
    """The customer embedded in an invoice; every field is optional."""

    id: str | None = None
    customer_id: str | None = None
    given_names: str | None = None
    surname: str | None = None
    email: str | None = None
    mobile_number: str | None = None
    phone_number: str | None = None
    addresses: list[AddressObject] | None = None


class Invoice(ResponseModel):
    nested: ClassVar[tuple[str, ...]] = ("customer",)

    id: str | None = None
    external_id: str | None = None
    user_id: str | None = None
    status: str | None = None
    merchant_name: str | None = None
    amount: Decimal | None = None
    paid_amount: Decimal | None = None
    currency: str | None = None
    description: str | None = None
    invoice_url: str | None = None
    payer_email: str | None = None
    payment_method: str | None = None
    payment_channel: str | None = None
    expiry_date: dt.datetime | None = None
    paid_at: dt.datetime | None = None
    created: dt.datetime | None = None
    updated: dt.datetime | None = None
    items: list[InvoiceItem] | None = None
    fees: list[InvoiceFee] | None = None
    customer: CustomerObject | None = None
    metadata: dict[str, Any] | None = None


# -- customers ------------------------------------------------------------------------------


class IndividualDetail(ResponseModel):
    given_names: str | None = None
    middle_name: str | None = None
    surname: str | None = None


class BusinessDetail(ResponseModel):
    business_name: str | None = None


class CustomerAddress(ResponseModel):
    """An address in a Customer API response: `street_line1` where a request has `line_1`."""

    category: str | None = None
    country: str | None = None
    province_state: str | None = None
    city: str | None = None
    postal_code: str | None = None
    street_line1: str | None = None
    street_line2: str | None = None
    is_primary: bool | None = None


class Customer(ResponseModel):
    """`GET /customers/{id}`. Either detail may be missing on a real single-type one."""

    id: str | None = None
    reference_id: str | None = None
    type: str | None = None
    individual_detail: IndividualDetail | None = None
    business_detail: BusinessDetail | None = None
    email: str | None = None
    mobile_number: str | None = None
    phone_number: str | None = None
    addresses: list[CustomerAddress] | None = None
    metadata: dict[str, Any] | None = None
    created: dt.datetime | None = None
    updated: dt.datetime | None = None


class Error(ResponseModel):
    """`{error_code, message}`; the Customer API may add `errors`."""

    error_code: str | None = None
    message: str | None = None


# -- requests -------------------------------------------------------------------------------


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def body(self) -> dict[str, Any]:
        """The JSON body for `providers.http.exact_json`: unset (`None`) fields left out, money
        kept as `Decimal` (written as a JSON number with its own digits)."""
        body: dict[str, Any] = _plain(self.model_dump(mode="python", exclude_none=True))
        return body


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


class InvoiceItemRequest(_Request):
    name: str
    quantity: Decimal
    price: Decimal


class AddressObjectRequest(_Request):
    country: str | None = None
    street_line1: str | None = None
    street_line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None


class CustomerObjectRequest(_Request):
    """The `customer` of a create: echoed on the invoice, so its `id` links the two."""

    id: str
    given_names: str | None = None
    surname: str | None = None
    email: str | None = None
    mobile_number: str | None = None
    phone_number: str | None = None
    addresses: tuple[AddressObjectRequest, ...] | None = None


class CreateInvoiceRequest(_Request):
    """The body of `POST /v2/invoices/`."""

    external_id: str
    amount: Decimal
    currency: str
    description: str | None = None
    invoice_duration: int | None = None
    payer_email: str | None = None
    success_redirect_url: str | None = None
    failure_redirect_url: str | None = None
    payment_methods: tuple[str, ...] | None = None
    items: tuple[InvoiceItemRequest, ...] | None = None
    customer: CustomerObjectRequest | None = None
    metadata: dict[str, str] | None = None
