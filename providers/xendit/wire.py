"""Xendit's JSON as pydantic models, named after Xendit's own schemas (as in its Python SDK).

Responses are parsed leniently: every field is optional, unknown fields are kept (real invoices
carry fields the SDK model lacks), and `null` counts as absent. Money arrives as JSON
numbers: `parse` is fed the body decoded with `parse_float=Decimal` (so no float ever holds an
amount; integers become `Decimal` exactly at the field) and keeps, in `raw`, the same JSON
decoded with Python's default types, which is JSON-serialisable as is.

Requests are strict (`extra="forbid"`) and dumped with `body()`: absent fields are left out and
money is a JSON number (written exactly by `providers.http.exact_json`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    model_validator,
)

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


def _as_utc(value: dt.datetime) -> dt.datetime:
    # Xendit sends UTC with `Z`; a naive value is read as UTC rather than leak into the domain.
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


UtcDatetime = Annotated[dt.datetime, AfterValidator(_as_utc)]


class ResponseModel(BaseModel):
    model_config = ConfigDict(extra="allow")

    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _drop_nulls(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        if isinstance(data, dict):
            data = {key: value for key, value in data.items() if value is not None}
        return handler(data)

    @classmethod
    def parse(cls, exact: Any, plain: Any) -> Self:
        """Validate `exact` (numbers as `Decimal`); keep `plain` (default JSON types) as `raw`.

        Raises pydantic's `ValidationError`; the client turns it into `ProviderBadResponse`.
        """
        model = cls.model_validate(exact)
        if isinstance(plain, dict):
            model._attach(plain)
        return model

    def _attach(self, plain: dict[str, Any]) -> None:
        self._raw = plain

    @property
    def raw(self) -> dict[str, Any]:
        """The JSON object as received (nulls and unknown fields included), default types."""
        return self._raw


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
    addresses: list[AddressObject] = Field(default_factory=list)


class Invoice(ResponseModel):
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
    expiry_date: UtcDatetime | None = None
    paid_at: UtcDatetime | None = None
    created: UtcDatetime | None = None
    updated: UtcDatetime | None = None
    items: list[InvoiceItem] = Field(default_factory=list)
    fees: list[InvoiceFee] = Field(default_factory=list)
    customer: CustomerObject | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    def _attach(self, plain: dict[str, Any]) -> None:
        self._raw = plain
        embedded = plain.get("customer")
        if self.customer is not None and isinstance(embedded, dict):
            self.customer._attach(embedded)


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
    addresses: list[CustomerAddress] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    created: UtcDatetime | None = None
    updated: UtcDatetime | None = None


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
