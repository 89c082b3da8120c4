"""Memo's JSON: responses as lenient records, the create request as a strict model."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from providers.records import Record


class Invoice(Record, kw_only=True):
    id: str | None = None
    customer: str | None = None
    currency: str | None = None
    status: str | None = None
    total: Decimal | None = None
    created: dt.datetime | None = None


class InvoiceList(Record, kw_only=True):
    data: list[Invoice] | None = None
    cursors: list[str] | None = None
    has_more: bool | None = None
    total: int | None = None


class Customer(Record, kw_only=True):
    id: str | None = None
    name: str | None = None


class Error(Record, kw_only=True):
    code: str | None = None
    message: str | None = None


class ErrorBody(Record, kw_only=True):
    error: Error | None = None


class Line(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str
    quantity: str
    unit_amount: str


class CreateInvoice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    customer: str
    currency: str
    lines: tuple[Line, ...]
    idempotency_key: str
