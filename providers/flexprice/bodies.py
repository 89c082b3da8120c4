"""The JSON bodies we send FlexPrice, as strict pydantic models named after FlexPrice's own
schemas (its answers are `wire.py`'s).

They refuse unknown fields (`extra="forbid"`) and are dumped with `body()`: absent fields are
left out, money is a plain decimal string (never exponent notation), times are RFC 3339.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, PlainSerializer

__all__ = [
    "CreateInvoiceLineItemRequest",
    "CreateInvoiceRequest",
    "CustomerFilter",
    "DecimalString",
    "FilterCondition",
    "FilterValue",
    "GetPreviewInvoiceRequest",
    "InvoiceFilter",
    "RequestDatetime",
    "RequestModel",
    "UpdateInvoiceRequest",
    "UpdatePaymentStatusRequest",
]


def _as_utc(value: dt.datetime) -> dt.datetime:
    # A request's time is sent in UTC; a naive value is taken to be UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _rfc3339(value: dt.datetime) -> str:
    return _as_utc(value).isoformat().replace("+00:00", "Z")


#: Money in a request: the exact decimal as a plain string (`format(d, "f")` never uses exponents).
DecimalString = Annotated[Decimal, PlainSerializer(lambda d: format(d, "f"), return_type=str)]
RequestDatetime = Annotated[dt.datetime, PlainSerializer(_rfc3339, return_type=str)]


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
