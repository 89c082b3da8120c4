"""``GET /v2/invoices``: the query string, the filters and the ``last_invoice`` cursor.

Accepted forms (what the SDK sends and what Xendit's legacy docs show): arrays as repeated keys
(``statuses=PAID&statuses=SETTLED``), as ``statuses[]=...``, or as one JSON array literal
(``statuses=["PAID","SETTLED"]``); ``limit`` as ``10`` or ``10.0`` (1 to 100 accepted, larger
values capped at 100, default 10); datetimes in ISO 8601 with ``Z`` or an offset; the cursor as
``last_invoice`` or the legacy ``last_invoice_id``. Every ``*_after`` / ``*_before`` bound is
inclusive. Results are newest first by ``created``; a page holds the invoices created strictly
before the cursor invoice. An unknown value, a malformed number or date, or a cursor the account
does not own is 400 ``API_VALIDATION_ERROR``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from starlette.datastructures import QueryParams

from . import binding, errors
from .records import CLIENT_TYPES, INVOICE_STATUSES, Invoice

DEFAULT_LIMIT = 10
MAX_LIMIT = 100


@dataclass
class InvoiceQuery:
    """A parsed listing request; ``None`` or empty means "no filter"."""

    limit: int = DEFAULT_LIMIT
    external_id: str | None = None
    statuses: list[str] = field(default_factory=list)
    client_types: list[str] = field(default_factory=list)
    payment_channels: list[str] = field(default_factory=list)
    created_after: datetime | None = None
    created_before: datetime | None = None
    paid_after: datetime | None = None
    paid_before: datetime | None = None
    expired_after: datetime | None = None
    expired_before: datetime | None = None
    last_invoice: str | None = None
    on_demand_link: str | None = None
    recurring_payment_id: str | None = None


def _array(params: QueryParams, key: str) -> list[str]:
    values = [*params.getlist(key), *params.getlist(f"{key}[]")]
    out: list[str] = []
    for value in values:
        text = value.strip()
        if text.startswith("["):
            try:
                decoded = json.loads(text)
            except ValueError as exc:
                raise errors.validation(f'"{key}" must be an array of strings') from exc
            if not isinstance(decoded, list) or not all(isinstance(v, str) for v in decoded):
                raise errors.validation(f'"{key}" must be an array of strings')
            out.extend(decoded)
        elif text:
            out.append(text)
    return out


def _enum_array(params: QueryParams, key: str, allowed: tuple[str, ...]) -> list[str]:
    values = _array(params, key)
    for value in values:
        if value not in allowed:
            raise errors.validation(f'"{key}" must be one of {", ".join(allowed)}')
    return values


def _limit(text: str | None) -> int:
    if text is None or not text.strip():
        return DEFAULT_LIMIT
    try:
        number = Decimal(text.strip())
    except InvalidOperation as exc:
        raise errors.validation('"limit" must be a number') from exc
    if not number.is_finite() or number != number.to_integral_value() or number < 1:
        raise errors.validation('"limit" must be a whole number of at least 1')
    return min(int(number), MAX_LIMIT)


def parse_query(params: QueryParams) -> InvoiceQuery:
    """Parse the query string (see the module docstring for the accepted forms)."""

    def time(key: str) -> datetime | None:
        text = params.get(key)
        return binding.parse_time(text, key) if text else None

    return InvoiceQuery(
        limit=_limit(params.get("limit")),
        external_id=params.get("external_id") or None,
        statuses=_enum_array(params, "statuses", INVOICE_STATUSES),
        client_types=_enum_array(params, "client_types", CLIENT_TYPES),
        payment_channels=_array(params, "payment_channels"),
        created_after=time("created_after"),
        created_before=time("created_before"),
        paid_after=time("paid_after"),
        paid_before=time("paid_before"),
        expired_after=time("expired_after"),
        expired_before=time("expired_before"),
        last_invoice=params.get("last_invoice") or params.get("last_invoice_id") or None,
        on_demand_link=params.get("on_demand_link") or None,
        recurring_payment_id=params.get("recurring_payment_id") or None,
    )


def _within(value: datetime | None, after: datetime | None, before: datetime | None) -> bool:
    if after is None and before is None:
        return True
    if value is None:
        return False
    return (after is None or value >= after) and (before is None or value <= before)


def _predicates(q: InvoiceQuery) -> list[Callable[[Invoice], bool]]:
    checks: list[Callable[[Invoice], bool]] = [
        lambda inv: _within(inv.created, q.created_after, q.created_before),
        lambda inv: _within(inv.paid_at, q.paid_after, q.paid_before),
        lambda inv: _within(inv.expired_at, q.expired_after, q.expired_before),
    ]
    if q.external_id is not None:
        checks.append(lambda inv: inv.external_id == q.external_id)
    if q.statuses:
        checks.append(lambda inv: inv.status in q.statuses)
    if q.client_types:
        checks.append(lambda inv: inv.client_type in q.client_types)
    if q.payment_channels:
        checks.append(lambda inv: inv.payment_channel in q.payment_channels)
    if q.on_demand_link is not None:
        checks.append(lambda inv: inv.on_demand_link == q.on_demand_link)
    if q.recurring_payment_id is not None:
        checks.append(lambda inv: inv.recurring_payment_id == q.recurring_payment_id)
    return checks


def newest_first(invoices: list[Invoice]) -> list[Invoice]:
    """``created`` descending (distinct by construction; the id breaks any tie)."""
    return sorted(invoices, key=lambda inv: (inv.created, inv.id), reverse=True)


def page(invoices: list[Invoice], q: InvoiceQuery) -> list[Invoice]:
    """One page of the account's ``invoices`` matching ``q``, newest first."""
    if q.last_invoice is not None:
        cursor = next((inv for inv in invoices if inv.id == q.last_invoice), None)
        if cursor is None:
            raise errors.validation(f'"last_invoice" {q.last_invoice} is not an invoice')
        position = (cursor.created, cursor.id)
        invoices = [inv for inv in invoices if (inv.created, inv.id) < position]
    checks = _predicates(q)
    matching = [inv for inv in invoices if all(check(inv) for check in checks)]
    return newest_first(matching)[: q.limit]
