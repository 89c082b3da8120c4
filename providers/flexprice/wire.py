"""FlexPrice's JSON as pydantic models, named after FlexPrice's own schemas.

Responses are parsed leniently: every field is optional, unknown fields are kept, and `null` counts
as absent, because the server sends `null` for fields the spec does not mark nullable and newer
servers add fields. Money is parsed straight to `Decimal`, timestamps to aware UTC datetimes. Each
response model keeps the JSON object it was parsed from in `raw`.

Requests are strict (`extra="forbid"`) and dumped with `body()`: absent fields are left out,
money is a plain decimal string (never exponent notation), times are RFC 3339.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PlainSerializer,
    PrivateAttr,
    model_validator,
)

__all__ = [
    "INVOICE_STATUSES",
    "PAYMENT_STATUSES",
    "CreateInvoiceLineItemRequest",
    "CreateInvoiceRequest",
    "CustomerFilter",
    "CustomerInvoiceSummary",
    "CustomerMultiCurrencyInvoiceSummary",
    "CustomerResponse",
    "ErrorResponse",
    "FilterCondition",
    "FilterValue",
    "GetPreviewInvoiceRequest",
    "InvoiceFilter",
    "InvoiceLineItemResponse",
    "InvoicePdfUrlResponse",
    "InvoiceResponse",
    "ListCustomersResponse",
    "ListInvoicesResponse",
    "PaginationResponse",
    "RequestModel",
    "SuccessResponse",
    "TemporalWorkflowResult",
    "UpdateInvoiceRequest",
    "UpdatePaymentStatusRequest",
]

#: `types.InvoiceStatus` and `types.PaymentStatus` as of the spec.
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


def _as_utc(value: dt.datetime) -> dt.datetime:
    # FlexPrice always sends UTC with an offset; a naive value is read as UTC rather than
    # leaking a naive datetime into the domain.
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _string_values(value: Any) -> Any:
    # Metadata is `{string: string}`; a number or boolean from a newer server is kept as text.
    if isinstance(value, dict):
        return {str(k): v if isinstance(v, str) else str(v) for k, v in value.items()}
    return value


def _rfc3339(value: dt.datetime) -> str:
    return _as_utc(value).isoformat().replace("+00:00", "Z")


UtcDatetime = Annotated[dt.datetime, AfterValidator(_as_utc)]
Metadata = Annotated[dict[str, str], BeforeValidator(_string_values)]
#: Money in a request: the exact decimal as a plain string (`format(d, "f")` never uses exponents).
DecimalString = Annotated[Decimal, PlainSerializer(lambda d: format(d, "f"), return_type=str)]
RequestDatetime = Annotated[dt.datetime, PlainSerializer(_rfc3339, return_type=str)]


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")

    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _drop_nulls(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        raw = data if isinstance(data, dict) else None
        if raw is not None:
            data = {key: value for key, value in raw.items() if value is not None}
        model = handler(data)
        if raw is not None:
            model._raw = raw
        return model

    @property
    def raw(self) -> dict[str, Any]:
        """The JSON object exactly as received (nulls and unknown fields included)."""
        return self._raw


class CustomerResponse(_Response):
    id: str | None = None
    external_id: str | None = None
    name: str | None = None
    email: str | None = None
    contact: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    address_city: str | None = None
    address_state: str | None = None
    address_postal_code: str | None = None
    address_country: str | None = None
    timezone: str | None = None
    metadata: Metadata = Field(default_factory=dict)
    status: str | None = None
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None


class InvoiceLineItemResponse(_Response):
    id: str | None = None
    invoice_id: str | None = None
    customer_id: str | None = None
    currency: str | None = None
    amount: Decimal | None = None
    quantity: Decimal | None = None
    display_name: str | None = None
    plan_display_name: str | None = None
    meter_display_name: str | None = None
    price_id: str | None = None
    price_unit: str | None = None
    price_unit_amount: Decimal | None = None
    period_start: UtcDatetime | None = None
    period_end: UtcDatetime | None = None
    metadata: Metadata = Field(default_factory=dict)


class InvoiceResponse(_Response):
    id: str | None = None
    customer_id: str | None = None
    subscription_id: str | None = None
    invoice_type: str | None = None
    invoice_status: str | None = None
    payment_status: str | None = None
    currency: str | None = None
    amount_due: Decimal | None = None
    amount_paid: Decimal | None = None
    amount_remaining: Decimal | None = None
    subtotal: Decimal | None = None
    total: Decimal | None = None
    total_discount: Decimal | None = None
    total_tax: Decimal | None = None
    invoice_number: str | None = None
    idempotency_key: str | None = None
    description: str | None = None
    due_date: UtcDatetime | None = None
    issue_date: UtcDatetime | None = None
    period_start: UtcDatetime | None = None
    period_end: UtcDatetime | None = None
    finalized_at: UtcDatetime | None = None
    paid_at: UtcDatetime | None = None
    voided_at: UtcDatetime | None = None
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    invoice_pdf_url: str | None = None
    hosted_invoice_url: str | None = None
    recalculated_invoice_id: str | None = None
    metadata: Metadata = Field(default_factory=dict)
    line_items: list[InvoiceLineItemResponse] = Field(default_factory=list)
    customer: CustomerResponse | None = None


class PaginationResponse(_Response):
    total: int | None = None
    limit: int | None = None
    offset: int | None = None


class ListInvoicesResponse(_Response):
    items: list[InvoiceResponse] = Field(default_factory=list)
    pagination: PaginationResponse | None = None


class ListCustomersResponse(_Response):
    items: list[CustomerResponse] = Field(default_factory=list)
    pagination: PaginationResponse | None = None


class SuccessResponse(_Response):
    message: str | None = None


class TemporalWorkflowResult(_Response):
    message: str | None = None
    run_id: str | None = None
    workflow_id: str | None = None


class InvoicePdfUrlResponse(_Response):
    """`GET /invoices/{id}/pdf?url=true` (the spec only declares the binary form)."""

    presigned_url: str | None = None


class CustomerInvoiceSummary(_Response):
    currency: str | None = None
    customer_id: str | None = None
    total_invoice_count: int | None = None
    unpaid_invoice_count: int | None = None
    overdue_invoice_count: int | None = None
    total_revenue_amount: Decimal | None = None
    total_unpaid_amount: Decimal | None = None
    total_overdue_amount: Decimal | None = None
    unpaid_usage_charges: Decimal | None = None
    unpaid_fixed_charges: Decimal | None = None


class CustomerMultiCurrencyInvoiceSummary(_Response):
    customer_id: str | None = None
    default_currency: str | None = None
    summaries: list[CustomerInvoiceSummary] = Field(default_factory=list)


class ErrorResponse(_Response):
    """`{code, message, http_status_code, details?}`, or `{error}` on 401/403."""

    code: str | None = None
    message: str | None = None
    http_status_code: int | None = None
    error: str | None = None


# -- requests ---------------------------------------------------------------------------------


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def body(self) -> dict[str, Any]:
        """The JSON body: unset (`None`) fields are left out, never sent as `null`."""
        return self.model_dump(mode="json", exclude_none=True)


class FilterValue(RequestModel):
    string: str | None = None
    date: RequestDatetime | None = None
    array: tuple[str, ...] | None = None


class FilterCondition(RequestModel):
    """One condition of the `filters` DSL; conditions are ANDed."""

    field: str
    operator: Literal["eq", "in", "not_in", "before", "after"]
    data_type: Literal["string", "date", "array"]
    value: FilterValue


class InvoiceFilter(RequestModel):
    """The body of `POST /invoices/search`."""

    invoice_ids: tuple[str, ...] | None = None
    customer_id: str | None = None
    invoice_status: tuple[str, ...] | None = None
    payment_status: tuple[str, ...] | None = None
    currency: str | None = None
    filters: tuple[FilterCondition, ...] | None = None
    limit: int | None = None
    offset: int | None = None


class CustomerFilter(RequestModel):
    """The body of `POST /customers/search`."""

    customer_ids: tuple[str, ...] | None = None
    limit: int | None = None
    offset: int | None = None


class CreateInvoiceLineItemRequest(RequestModel):
    display_name: str | None = None
    quantity: DecimalString
    amount: DecimalString
    metadata: dict[str, str] | None = None


class CreateInvoiceRequest(RequestModel):
    customer_id: str
    currency: str
    invoice_type: Literal["ONE_OFF"] = "ONE_OFF"
    idempotency_key: str
    subtotal: DecimalString
    total: DecimalString
    amount_due: DecimalString
    line_items: tuple[CreateInvoiceLineItemRequest, ...]
    due_date: RequestDatetime | None = None
    description: str | None = None
    metadata: dict[str, str] | None = None


class UpdateInvoiceRequest(RequestModel):
    due_date: RequestDatetime | None = None
    invoice_pdf_url: str | None = None
    metadata: dict[str, str] | None = None


class UpdatePaymentStatusRequest(RequestModel):
    payment_status: str
    amount: DecimalString | None = None


class GetPreviewInvoiceRequest(RequestModel):
    subscription_id: str
    period_start: RequestDatetime | None = None
    period_end: RequestDatetime | None = None
