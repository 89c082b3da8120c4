"""``InvoiceFilter`` and ``CustomerFilter``: binding and searching.

The ``bind_*`` functions read a JSON body; the ``GET`` list routes first turn their query
string into one with ``binding.query_to_body``.

Semantics are the server's: empty id arrays mean "no filter", SKIPPED invoices are hidden unless
``invoice_status`` is given, ``start_time``/``end_time`` bound the billing period of invoices (the
creation time of customers), the default order is ``created_at desc`` (ties broken by id), and
``limit`` is 1..1000 (default 50).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from . import conditions, errors
from .binding import (
    JSONObject,
    opt_bool,
    opt_decimal,
    opt_int,
    opt_metadata,
    opt_str,
    opt_str_list,
    opt_time,
    parse_time,
)
from .conditions import Condition, SortKey
from .records import (
    BILLING_REASONS,
    ENTITY_STATUSES,
    INVOICE_STATUSES,
    INVOICE_TYPES,
    PAYMENT_STATUSES,
    Customer,
    Invoice,
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_INVOICE_COLUMN_NAMES = (
    "id customer_id subscription_id subscription_customer_id invoice_type invoice_status "
    "payment_status currency amount_due amount_paid amount_remaining subtotal total "
    "total_discount total_tax total_prepaid_credits_applied adjustment_amount "
    "refunded_amount description due_date paid_at voided_at finalized_at issue_date "
    "last_computed_at billing_period period_start period_end invoice_pdf_url "
    "billing_reason invoice_number billing_sequence idempotency_key version "
    "recalculated_invoice_id is_manually_edited status created_at updated_at"
)
_CUSTOMER_COLUMN_NAMES = (
    "id external_id name email contact address_line1 address_line2 address_city "
    "address_state address_postal_code address_country timezone status created_at "
    "updated_at"
)


def _column(name: str) -> Callable[[object], conditions.Scalar]:
    def read(record: object) -> conditions.Scalar:
        value: conditions.Scalar = getattr(record, name)
        return value

    return read


INVOICE_COLUMNS: Mapping[str, Callable[[object], conditions.Scalar]] = {
    name: _column(name) for name in _INVOICE_COLUMN_NAMES.split()
}
CUSTOMER_COLUMNS: Mapping[str, Callable[[object], conditions.Scalar]] = {
    name: _column(name) for name in _CUSTOMER_COLUMN_NAMES.split()
}


@dataclass
class Page:
    """What every list filter shares."""

    limit: int = 50
    offset: int = 0
    order: str = "desc"
    status: str = "published"
    start_time: datetime | None = None
    end_time: datetime | None = None
    conditions: list[Condition] = field(default_factory=list)
    sort: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class InvoiceQuery(Page):
    invoice_ids: list[str] = field(default_factory=list)
    customer_id: str | None = None
    external_customer_id: str | None = None
    subscription_id: str | None = None
    subscription_customer_ids: list[str] = field(default_factory=list)
    invoice_status: list[str] = field(default_factory=list)
    payment_status: list[str] = field(default_factory=list)
    invoice_type: str | None = None
    billing_reason: str | None = None
    currency: str | None = None
    amount_due_gt: Decimal | None = None
    amount_remaining_gt: Decimal | None = None
    period_bounds: dict[str, datetime] = field(default_factory=dict)
    skip_line_items: bool = False


@dataclass
class CustomerQuery(Page):
    customer_ids: list[str] = field(default_factory=list)
    external_ids: list[str] = field(default_factory=list)
    external_id: str | None = None
    email: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


_PERIOD_BOUNDS = ("period_start_gte", "period_start_lte", "period_end_gte", "period_end_lte")


def _bind_page(page: Page, body: JSONObject) -> None:
    limit = opt_int(body, "limit")
    page.limit = 50 if limit is None else limit
    page.offset = opt_int(body, "offset") or 0
    page.order = opt_str(body, "order") or "desc"
    page.status = opt_str(body, "status") or "published"
    page.start_time = opt_time(body, "start_time")
    page.end_time = opt_time(body, "end_time")
    page.conditions = conditions.bind_conditions(body)
    page.sort = conditions.bind_sort(body)
    opt_str(body, "expand")


def bind_invoice_query(body: JSONObject) -> InvoiceQuery:
    """The ``POST /invoices/search`` body."""
    query = InvoiceQuery()
    _bind_page(query, body)
    query.invoice_ids = opt_str_list(body, "invoice_ids") or []
    query.customer_id = opt_str(body, "customer_id") or None
    query.external_customer_id = opt_str(body, "external_customer_id") or None
    query.subscription_id = opt_str(body, "subscription_id") or None
    query.subscription_customer_ids = opt_str_list(body, "subscription_customer_id") or []
    query.invoice_status = opt_str_list(body, "invoice_status") or []
    query.payment_status = opt_str_list(body, "payment_status") or []
    query.invoice_type = opt_str(body, "invoice_type") or None
    query.billing_reason = opt_str(body, "billing_reason") or None
    query.currency = opt_str(body, "currency") or None
    query.amount_due_gt = opt_decimal(body, "amount_due_gt")
    query.amount_remaining_gt = opt_decimal(body, "amount_remaining_gt")
    for name in _PERIOD_BOUNDS:
        text = opt_str(body, name)
        if text:
            query.period_bounds[name] = parse_time(text)
    query.skip_line_items = bool(opt_bool(body, "skip_line_items"))
    return query


def bind_customer_query(body: JSONObject) -> CustomerQuery:
    """The ``POST /customers/search`` body."""
    query = CustomerQuery()
    _bind_page(query, body)
    query.customer_ids = opt_str_list(body, "customer_ids") or []
    query.external_ids = opt_str_list(body, "external_ids") or []
    query.external_id = opt_str(body, "external_id") or None
    query.email = opt_str(body, "email") or None
    query.metadata = opt_metadata(body, "metadata") or {}
    return query


def _check_page(page: Page) -> None:
    if not 1 <= page.limit <= 1000 or page.offset < 0 or page.order not in ("asc", "desc"):
        raise errors.validation("invalid filter parameters")
    if page.status not in ENTITY_STATUSES:
        raise errors.validation("invalid filter parameters", details={"status": page.status})


def _check_enums(values: list[str], allowed: tuple[str, ...]) -> None:
    for value in values:
        if value not in allowed:
            raise errors.validation("invalid filter parameters", details={"value": value})


def _window(
    records: list[object],
    page: Page,
    columns: Mapping[str, Callable[[object], conditions.Scalar]],
    entity: str,
) -> list[object]:
    keys = conditions.check_fields(entity, columns, page.conditions, page.sort)
    kept = conditions.apply(records, columns, page.conditions)
    return conditions.order(kept, columns, keys or [SortKey("created_at", page.order == "desc")])


def search_invoices(
    invoices: list[Invoice], query: InvoiceQuery, resolve_external: Callable[[str], str]
) -> tuple[list[Invoice], int]:
    """One page of matching invoices and the total match count."""
    _check_page(query)
    _check_enums(query.invoice_status, INVOICE_STATUSES)
    _check_enums(query.payment_status, PAYMENT_STATUSES)
    _check_enums([query.invoice_type] if query.invoice_type else [], INVOICE_TYPES)
    _check_enums([query.billing_reason] if query.billing_reason else [], BILLING_REASONS)
    customer_id = query.customer_id
    if query.external_customer_id:
        customer_id = resolve_external(query.external_customer_id)
    ids = set(query.invoice_ids)
    statuses = set(query.invoice_status)
    bounds = query.period_bounds

    def keep(inv: Invoice) -> bool:
        # Every condition in turn, the first that fails ends it (a search reads every invoice).
        return (
            inv.status == query.status
            and (not ids or inv.id in ids)
            and (customer_id is None or inv.customer_id == customer_id)
            and (query.subscription_id is None or inv.subscription_id == query.subscription_id)
            and (
                not query.subscription_customer_ids
                or inv.subscription_customer_id in query.subscription_customer_ids
            )
            and (inv.invoice_status in statuses if statuses else inv.invoice_status != "SKIPPED")
            and (not query.payment_status or inv.payment_status in query.payment_status)
            and (query.invoice_type is None or inv.invoice_type == query.invoice_type)
            and (query.billing_reason is None or inv.billing_reason == query.billing_reason)
            and (query.currency is None or inv.currency == query.currency)
            and (query.amount_due_gt is None or inv.amount_due > query.amount_due_gt)
            and (
                query.amount_remaining_gt is None
                or inv.amount_remaining > query.amount_remaining_gt
            )
            and _within(
                inv.period_start, bounds.get("period_start_gte"), bounds.get("period_start_lte")
            )
            and _within(inv.period_end, bounds.get("period_end_gte"), bounds.get("period_end_lte"))
            and _within(inv.period_start, query.start_time, None)
            and _within(inv.period_end, None, query.end_time)
        )

    matched = _window([i for i in invoices if keep(i)], query, INVOICE_COLUMNS, "invoice")
    page = matched[query.offset : query.offset + query.limit]
    return [i for i in page if isinstance(i, Invoice)], len(matched)


def _within(value: datetime | None, low: datetime | None, high: datetime | None) -> bool:
    if low is None and high is None:
        return True
    if value is None:
        return False
    return (low is None or value >= low) and (high is None or value <= high)


def search_customers(customers: list[Customer], query: CustomerQuery) -> tuple[list[Customer], int]:
    """One page of matching customers and the total match count."""
    _check_page(query)
    if query.email and not _EMAIL.match(query.email):
        raise errors.validation("invalid filter parameters", details={"email": query.email})
    ids, externals = set(query.customer_ids), set(query.external_ids)

    def keep(c: Customer) -> bool:
        return all(
            (
                c.status == query.status,
                not ids or c.id in ids,
                not externals or c.external_id in externals,
                query.external_id is None or c.external_id == query.external_id,
                query.email is None or c.email == query.email,
                all(c.metadata.get(k) == v for k, v in query.metadata.items()),
                _within(c.created_at, query.start_time, query.end_time),
            )
        )

    matched = _window([c for c in customers if keep(c)], query, CUSTOMER_COLUMNS, "customer")
    page = matched[query.offset : query.offset + query.limit]
    return [c for c in page if isinstance(c, Customer)], len(matched)
