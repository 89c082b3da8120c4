"""Invoice request bodies: binding (types only) and validation (FlexPrice's rules for a create).

``bind_*`` raise :class:`BindError` for malformed input; ``validate_*`` raise ``APIError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlparse

from . import currency, errors
from .binding import (
    BindError,
    JSONObject,
    opt_bool,
    opt_decimal,
    opt_metadata,
    opt_objects,
    opt_str,
    opt_str_list,
    opt_time,
)
from .records import BILLING_REASONS, INVOICE_STATUSES, INVOICE_TYPES, PAYMENT_STATUSES, ZERO


@dataclass
class LineItemInput:
    amount: Decimal | None
    quantity: Decimal | None
    display_name: str | None
    price_id: str | None
    price_type: str | None
    price_unit: str | None
    price_unit_amount: Decimal | None
    plan_display_name: str | None
    meter_id: str | None
    meter_display_name: str | None
    entity_id: str | None
    entity_type: str | None
    subscription_id: str | None
    subscription_line_item_id: str | None
    adjusted_entitlement_quantity: Decimal | None
    period_start: datetime | None
    period_end: datetime | None
    metadata: dict[str, str] | None
    line_item_discount: Decimal | None
    invoice_level_discount: Decimal | None
    prepaid_credits_applied: Decimal | None


@dataclass
class CreateInvoiceInput:
    customer_id: str
    currency: str
    invoice_type: str
    amount_due: Decimal | None
    subtotal: Decimal | None
    total: Decimal | None
    idempotency_key: str | None
    line_items: list[LineItemInput]
    description: str
    due_date: datetime | None
    issue_date: datetime | None
    period_start: datetime | None
    period_end: datetime | None
    billing_period: str | None
    billing_reason: str
    subscription_id: str | None
    metadata: dict[str, str] | None
    invoice_pdf_url: str | None
    invoice_status: str | None
    payment_status: str | None
    total_prepaid_applied: Decimal | None
    tax_rates: list[str]


@dataclass
class UpdateInvoiceInput:
    due_date: datetime | None
    invoice_pdf_url: str | None
    metadata: dict[str, str] | None
    apply_discount: bool


@dataclass
class PaymentStatusInput:
    payment_status: str
    amount: Decimal | None


@dataclass
class PreviewInput:
    subscription_id: str
    period_start: datetime | None
    period_end: datetime | None
    hide_zero_charges_line_items: bool


def _bind_line_item(obj: JSONObject) -> LineItemInput:
    return LineItemInput(
        amount=opt_decimal(obj, "amount"),
        quantity=opt_decimal(obj, "quantity"),
        display_name=opt_str(obj, "display_name"),
        price_id=opt_str(obj, "price_id"),
        price_type=opt_str(obj, "price_type"),
        price_unit=opt_str(obj, "price_unit"),
        price_unit_amount=opt_decimal(obj, "price_unit_amount"),
        plan_display_name=opt_str(obj, "plan_display_name"),
        meter_id=opt_str(obj, "meter_id"),
        meter_display_name=opt_str(obj, "meter_display_name"),
        entity_id=opt_str(obj, "entity_id"),
        entity_type=opt_str(obj, "entity_type"),
        subscription_id=opt_str(obj, "subscription_id"),
        subscription_line_item_id=opt_str(obj, "subscription_line_item_id"),
        adjusted_entitlement_quantity=opt_decimal(obj, "adjusted_entitlement_quantity"),
        period_start=opt_time(obj, "period_start"),
        period_end=opt_time(obj, "period_end"),
        metadata=opt_metadata(obj, "metadata"),
        line_item_discount=opt_decimal(obj, "line_item_discount"),
        invoice_level_discount=opt_decimal(obj, "invoice_level_discount"),
        prepaid_credits_applied=opt_decimal(obj, "prepaid_credits_applied"),
    )


def bind_create_invoice(body: JSONObject) -> CreateInvoiceInput:
    """``CreateInvoiceRequest`` with JSON types checked.

    Coupons, tax-rate overrides and ``force_sync_invoice`` are type-checked and ignored (the
    sandbox has no coupons, tax codes or vendors); ``tax_rates`` ids are kept (all unknown).
    """
    opt_str_list(body, "coupons")
    for key in ("invoice_coupons", "line_item_coupons", "tax_rate_overrides"):
        opt_objects(body, key)
    opt_bool(body, "force_sync_invoice")
    opt_decimal(body, "amount_paid")
    opt_str(body, "invoice_number")
    return CreateInvoiceInput(
        customer_id=opt_str(body, "customer_id") or "",
        currency=opt_str(body, "currency") or "",
        invoice_type=opt_str(body, "invoice_type") or "",
        amount_due=opt_decimal(body, "amount_due"),
        subtotal=opt_decimal(body, "subtotal"),
        total=opt_decimal(body, "total"),
        idempotency_key=opt_str(body, "idempotency_key"),
        line_items=[_bind_line_item(o) for o in opt_objects(body, "line_items") or []],
        description=opt_str(body, "description") or "",
        due_date=opt_time(body, "due_date"),
        issue_date=opt_time(body, "issue_date"),
        period_start=opt_time(body, "period_start"),
        period_end=opt_time(body, "period_end"),
        billing_period=opt_str(body, "billing_period"),
        billing_reason=opt_str(body, "billing_reason") or "",
        subscription_id=opt_str(body, "subscription_id"),
        metadata=opt_metadata(body, "metadata"),
        invoice_pdf_url=opt_str(body, "invoice_pdf_url"),
        invoice_status=opt_str(body, "invoice_status"),
        payment_status=opt_str(body, "payment_status"),
        total_prepaid_applied=opt_decimal(body, "total_prepaid_applied"),
        tax_rates=opt_str_list(body, "tax_rates") or [],
    )


def validate_pdf_url(url: str | None) -> None:
    """``invoice_pdf_url``, when non-empty, must be an ``https`` URL with a host."""
    if not url:
        return
    parsed = urlparse(url)
    if parsed.scheme != "https" or not parsed.hostname:
        raise errors.validation(
            "invoice_pdf_url must be a valid https URL",
            details={"invoice_pdf_url": url},
        )


def _check_enum(value: str, allowed: tuple[str, ...], name: str) -> None:
    if value not in allowed:
        raise errors.validation(
            f"invalid {name}: {value}", details={name: value, "allowed_values": list(allowed)}
        )


def validate_create_invoice(inp: CreateInvoiceInput) -> None:
    """The union of the draft-step and ``CreateInvoiceRequest.Validate`` rules (the server may not
    run the latter; the gateway never breaks them, so being stricter only catches its bugs)."""
    missing = [
        name
        for name, value in (
            ("CustomerID", inp.customer_id),
            ("InvoiceType", inp.invoice_type),
            ("Currency", inp.currency),
        )
        if not value
    ]
    if missing:
        raise errors.required_fields("CreateDraftInvoiceRequest", missing)
    missing = [
        name
        for name, value in (
            ("AmountDue", inp.amount_due),
            ("Total", inp.total),
            ("Subtotal", inp.subtotal),
        )
        if value is None
    ]
    if missing:
        raise errors.required_fields("CreateInvoiceRequest", missing)
    _check_enum(inp.invoice_type, INVOICE_TYPES, "invoice_type")
    if inp.invoice_type == "SUBSCRIPTION":
        for name, present in (
            ("subscription_id", inp.subscription_id),
            ("billing_period", inp.billing_period),
            ("period_start", inp.period_start),
            ("period_end", inp.period_end),
        ):
            if not present:
                raise errors.validation(f"{name} is required for subscription invoice")
    if inp.period_start and inp.period_end and inp.period_end < inp.period_start:
        raise errors.validation("period_end must be after period_start")
    if len(inp.currency) != 3 or not currency.is_known(inp.currency):
        raise errors.validation(
            "invalid currency code: must be a 3-letter ISO 4217 code",
            details={"currency": inp.currency},
        )
    if inp.billing_reason:
        _check_enum(inp.billing_reason, BILLING_REASONS, "billing_reason")
    if inp.invoice_status is not None:
        _check_enum(inp.invoice_status, INVOICE_STATUSES, "invoice_status")
    if inp.payment_status is not None:
        _check_enum(inp.payment_status, PAYMENT_STATUSES, "payment_status")
    validate_pdf_url(inp.invoice_pdf_url)
    assert inp.amount_due is not None  # checked above; narrows for mypy
    if inp.amount_due < ZERO and inp.invoice_type != "CREDIT":
        raise errors.validation("amount due is negative")
    if inp.total_prepaid_applied is not None and inp.total_prepaid_applied < ZERO:
        raise errors.validation("total_prepaid_applied must be non-negative")
    _validate_line_items(inp)


def _validate_line_items(inp: CreateInvoiceInput) -> None:
    for index, item in enumerate(inp.line_items):
        missing = [
            f"LineItems[{index}].{name}"
            for name, value in (("Amount", item.amount), ("Quantity", item.quantity))
            if value is None
        ]
        if missing:
            raise errors.required_fields("CreateInvoiceRequest", missing)
        if item.price_unit is not None and len(item.price_unit) != 3:
            raise errors.validation("price_unit must be a 3-letter code")
    if not inp.line_items:
        return
    assert inp.amount_due is not None
    line_sum = sum((item.amount or ZERO for item in inp.line_items), ZERO)
    if currency.round_amount(line_sum, inp.currency) != currency.round_amount(
        inp.amount_due, inp.currency
    ):
        raise errors.validation(
            "sum of line item amounts must equal invoice amount_due",
            details={"line_items_total": str(line_sum), "amount_due": str(inp.amount_due)},
        )


def bind_update_invoice(body: JSONObject) -> UpdateInvoiceInput:
    """``UpdateInvoiceRequest``; ``metadata`` replaces the whole map when given."""
    return UpdateInvoiceInput(
        due_date=opt_time(body, "due_date"),
        invoice_pdf_url=opt_str(body, "invoice_pdf_url"),
        metadata=opt_metadata(body, "metadata"),
        apply_discount=bool(opt_bool(body, "apply_discount")),
    )


def bind_payment_status(body: JSONObject) -> PaymentStatusInput:
    """``UpdatePaymentStatusRequest``; a missing ``payment_status`` fails binding (required)."""
    status = opt_str(body, "payment_status")
    if not status:
        raise BindError("payment_status is required")
    return PaymentStatusInput(payment_status=status, amount=opt_decimal(body, "amount"))


def bind_preview(body: JSONObject) -> PreviewInput:
    """``GetPreviewInvoiceRequest``; a missing ``subscription_id`` fails binding (required)."""
    subscription_id = opt_str(body, "subscription_id")
    if not subscription_id:
        raise BindError("subscription_id is required")
    return PreviewInput(
        subscription_id=subscription_id,
        period_start=opt_time(body, "period_start"),
        period_end=opt_time(body, "period_end"),
        hide_zero_charges_line_items=bool(opt_bool(body, "hide_zero_charges_line_items")),
    )


def bind_void(body: JSONObject) -> dict[str, str]:
    """``InvoiceVoidRequest``: the metadata to merge (empty when none)."""
    return opt_metadata(body, "metadata") or {}
