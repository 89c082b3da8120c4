"""FlexPrice searches for a domain `InvoiceFilter`, and the merge of several into one page.

FlexPrice ANDs every condition of a search, so some status filters need several searches; each is
asked for a page from its own offset and `merge_searches` interleaves the answers newest first.
The provider's cursor is then one offset per search, joined by "." (a plain offset for one).

A listing never includes SKIPPED invoices (zero-amount subscription drafts, never payable):
FlexPrice hides them when `invoice_status` is not sent, so a status filter asks only for the
other three statuses. A filtered listing is then always a subset of the unfiltered one.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Sequence
from typing import Final

from providers.errors import ProviderRejected
from providers.flexprice import wire
from providers.flexprice.mapping import PROVIDER, invoice_status_of, payment_status_of
from providers.models import Invoice, InvoiceFilter, InvoiceStatus, Page, PaymentStatus

__all__ = ["LISTED_INVOICE_STATUSES", "merge_searches", "parse_offsets", "to_invoice_searches"]


def parse_offsets(after: str | None, count: int) -> list[int]:
    # Our own cursors: `count` non-negative integers joined by ".", one per search.
    if after is None:
        return [0] * count
    parts = after.split(".")
    if len(parts) != count or not all(p.isascii() and p.isdigit() for p in parts):
        raise ProviderRejected(
            PROVIDER,
            "the cursor is not a flexprice position for this filter: pass the endCursor of a "
            "previous page of the same listing",
            field="after",
        )
    return [int(p) for p in parts]


#: Stands for a payment status FlexPrice may add later, when working out what a search selects.
_LATER: Final = "<later>"
_PAYMENT_AXIS: Final = (*wire.PAYMENT_STATUSES, _LATER)
# What FlexPrice lists when `invoice_status` is not sent: SKIPPED is left out (§10.1). A status
# filter uses the same axis, so adding one never brings in an invoice the plain listing hides.
LISTED_INVOICE_STATUSES: Final = ("DRAFT", "FINALIZED", "VOIDED")


def _selects(filters: InvoiceFilter, status: InvoiceStatus, payment: PaymentStatus) -> bool:
    return (not filters.statuses or status in filters.statuses) and (
        not filters.payment_statuses or payment in filters.payment_statuses
    )


def _condition(field: str, operator: str, value: object) -> wire.FilterCondition:
    data_type = "date" if isinstance(value, dt.datetime) else "array"
    return wire.FilterCondition.model_validate(
        {"field": field, "operator": operator, "data_type": data_type, "value": {data_type: value}}
    )


_Part = tuple[dict[str, object], list[wire.FilterCondition]]


def _status_parts(filters: InvoiceFilter) -> list[_Part]:
    # The status tables are evaluated for every (invoice_status, payment_status) pair. Invoice
    # statuses that select the same payment statuses share one part; each part is a product
    # `invoice_status` x `payment_status`, which one search expresses exactly.
    payments_of: dict[tuple[str, ...], list[str]] = {}
    for status in LISTED_INVOICE_STATUSES:
        payments = tuple(
            payment
            for payment in _PAYMENT_AXIS
            if _selects(
                filters,
                invoice_status_of(status, payment) or InvoiceStatus.UNKNOWN,
                payment_status_of(status, payment) or PaymentStatus.UNKNOWN,
            )
        )
        if payments:
            payments_of.setdefault(payments, []).append(status)
    parts: list[_Part] = []
    for payments, statuses in payments_of.items():
        fields: dict[str, object] = {}
        conditions: list[wire.FilterCondition] = []
        # Without `invoice_status` FlexPrice searches all of LISTED_INVOICE_STATUSES.
        if filters.statuses or tuple(statuses) != LISTED_INVOICE_STATUSES:
            fields["invoice_status"] = tuple(statuses)
        if _LATER not in payments:
            fields["payment_status"] = payments
        elif excluded := tuple(p for p in wire.PAYMENT_STATUSES if p not in payments):
            conditions.append(_condition("payment_status", "not_in", excluded))
        parts.append((fields, conditions))
    return parts


def to_invoice_searches(filters: InvoiceFilter) -> tuple[wire.InvoiceFilter, ...]:
    """Searches (without `limit` and `offset`) whose disjoint union is what `filters` selects.

    Usually one. FlexPrice ANDs every condition, so a status filter that is not one product of
    invoice statuses and payment statuses (DRAFT or OPEN is DRAFT x any payment plus FINALIZED x
    unpaid ones) becomes one search per part; the caller merges them (all are newest first).
    None at all: nothing can match (EXPIRED, SETTLED), so make no call. A payment status
    FlexPrice adds later is kept by a `payment_status not_in` condition; the status UNKNOWN
    selects only FINALIZED invoices with such a payment status. SKIPPED invoices are never
    selected: a status condition sends only `LISTED_INVOICE_STATUSES`, and without one
    `invoice_status` is not sent, so FlexPrice's default (which hides SKIPPED) applies.
    """
    common: dict[str, object] = {}
    conditions: list[wire.FilterCondition] = []
    customer_ids = tuple(dict.fromkeys(filters.customer_ids))
    if len(customer_ids) == 1:
        common["customer_id"] = customer_ids[0]
    elif customer_ids:
        conditions.append(_condition("customer_id", "in", customer_ids))
    # FlexPrice stores currencies lower-case and matches them exactly (§10.1).
    currencies = tuple(dict.fromkeys(currency.lower() for currency in filters.currencies))
    if len(currencies) == 1:
        common["currency"] = currencies[0]
    elif currencies:
        conditions.append(_condition("currency", "in", currencies))
    if filters.created_after is not None:
        conditions.append(_condition("created_at", "after", filters.created_after))
    if filters.created_before is not None:
        conditions.append(_condition("created_at", "before", filters.created_before))
    no_status: list[_Part] = [({}, [])]
    parts = _status_parts(filters) if filters.statuses or filters.payment_statuses else no_status
    searches = []
    for fields, part_conditions in parts:
        body = {**common, **fields}
        if every := [*conditions, *part_conditions]:
            body["filters"] = tuple(every)
        searches.append(wire.InvoiceFilter.model_validate(body))
    return tuple(searches)


def merge_searches(
    parts: Sequence[Sequence[Invoice]],
    *,
    offsets: Sequence[int],
    totals: Sequence[int | None],
    first: int,
) -> Page[Invoice]:
    """One page of at most `first` invoices from the answers of several searches, newest first.

    `parts[n]` is search n's answer from `offsets[n]`; each item's cursor holds every search's
    offset after it, so the next page resumes each search exactly where this one stopped.
    """
    heads = [(-part[0].created_at.timestamp(), n, 0) for n, part in enumerate(parts) if part]
    heapq.heapify(heads)
    taken = [0] * len(parts)
    items: list[Invoice] = []
    cursors: list[str] = []
    while heads and len(items) < first:
        _, n, index = heapq.heappop(heads)
        items.append(parts[n][index])
        taken[n] = index + 1
        cursors.append(".".join(str(o + t) for o, t in zip(offsets, taken, strict=True)))
        if index + 1 < len(parts[n]):
            heapq.heappush(heads, (-parts[n][index + 1].created_at.timestamp(), n, index + 1))
    more = any(
        taken[n] < len(part)
        or (offsets[n] + len(part) < total if total is not None else len(part) == first)
        for n, (part, total) in enumerate(zip(parts, totals, strict=True))
    )
    return Page[Invoice](
        items=tuple(items),
        item_cursors=tuple(cursors),
        end_cursor=cursors[-1] if cursors else None,
        has_next_page=more,
        total_count=None if None in totals else sum(t or 0 for t in totals),
    )
