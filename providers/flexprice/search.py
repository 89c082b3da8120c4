"""FlexPrice searches for a domain `InvoiceFilter`, and the merge of several into one page.

FlexPrice ANDs every condition of a search, so some status filters need several searches; each is
a stream of the paging engine (`providers.paging`), asked for a page from its own position
(`search_request`), and the answers are merged newest first by the engine (`merge_searches`). The
provider's cursor is the engine's token of one `Position` per search (`parse_positions`).

A listing never includes SKIPPED invoices (zero-amount subscription drafts, never payable):
FlexPrice hides them when `invoice_status` is not sent, so a status filter asks only for the
other three statuses. A filtered listing is then always a subset of the unfiltered one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Final

from providers.errors import ProviderRejected
from providers.flexprice import bodies, wire
from providers.flexprice.mapping import PROVIDER
from providers.flexprice.statuses import invoice_status_of, payment_status_of
from providers.models import (
    Invoice,
    InvoiceFilter,
    InvoiceStatus,
    Page,
    PaymentStatus,
    created_times,
)
from providers.paging import (
    Answer,
    BadPosition,
    LazyTokens,
    Position,
    decode_positions,
    encode_positions,
    merge,
)

__all__ = [
    "LISTED_INVOICE_STATUSES",
    "merge_searches",
    "parse_positions",
    "search_request",
    "to_invoice_searches",
]


def search_request(
    position: Position, search: bodies.InvoiceFilter, limit: int
) -> bodies.InvoiceFilter:
    """The search for the next `limit` unread invoices from `position` (plus the ties it will
    drop): keyset, not offset, so that invoices created, finalized or voided while a client
    pages neither shift it nor make it skip any. FlexPrice's filters cannot say "(created_at,
    id) after (at, id)", so the search asks for everything created up to `at` (the engine's
    snapshot bound) and `Position.unread` drops the ties already read; an offset past the
    ties would skip one when a read invoice has left the filter since."""
    before = position.before()
    if before is None:
        return search.model_copy(update={"limit": limit, "offset": 0})
    conditions = (*(search.filters or ()), _condition("created_at", "before", before))
    update = {"limit": limit + len(position.tie_ids), "offset": 0, "filters": conditions}
    return search.model_copy(update=update)


def parse_positions(after: str | None, count: int) -> list[Position]:
    """Our own cursors: the engine's token of one `Position` per search, each resumed by time
    alone (a position with a token of its own is not one this provider wrote)."""
    if after is None:
        return [Position()] * count
    try:
        positions = decode_positions(after, count)
        if any(position.token is not None for position in positions):
            raise BadPosition(after)
    except BadPosition as exc:
        raise ProviderRejected(
            PROVIDER,
            "the cursor is not a flexprice position for this filter: pass the endCursor of a "
            "previous page of the same listing",
            field="after",
        ) from exc
    return positions


#: Stands for a payment status FlexPrice may add later, when working out what a search selects.
_LATER: Final = "<later>"
_PAYMENT_AXIS: Final = (*wire.PAYMENT_STATUSES, _LATER)
# What FlexPrice lists when `invoice_status` is not sent: SKIPPED is left out. A status
# filter uses the same axis, so adding one never brings in an invoice the plain listing hides.
LISTED_INVOICE_STATUSES: Final = ("DRAFT", "FINALIZED", "VOIDED")


def _selects(filters: InvoiceFilter, status: InvoiceStatus, payment: PaymentStatus) -> bool:
    return (not filters.statuses or status in filters.statuses) and (
        not filters.payment_statuses or payment in filters.payment_statuses
    )


def _condition(field: str, operator: str, value: object) -> bodies.FilterCondition:
    data_type = "date" if isinstance(value, dt.datetime) else "array"
    return bodies.FilterCondition.model_validate(
        {"field": field, "operator": operator, "data_type": data_type, "value": {data_type: value}}
    )


_Part = tuple[dict[str, object], list[bodies.FilterCondition]]


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
        conditions: list[bodies.FilterCondition] = []
        # Without `invoice_status` FlexPrice searches all of LISTED_INVOICE_STATUSES.
        if filters.statuses or tuple(statuses) != LISTED_INVOICE_STATUSES:
            fields["invoice_status"] = tuple(statuses)
        if _LATER not in payments:
            fields["payment_status"] = payments
        elif excluded := tuple(p for p in wire.PAYMENT_STATUSES if p not in payments):
            conditions.append(_condition("payment_status", "not_in", excluded))
        parts.append((fields, conditions))
    return parts


def to_invoice_searches(filters: InvoiceFilter) -> tuple[bodies.InvoiceFilter, ...]:
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
    conditions: list[bodies.FilterCondition] = []
    customer_ids = tuple(dict.fromkeys(filters.customer_ids))
    if len(customer_ids) == 1:
        common["customer_id"] = customer_ids[0]
    elif customer_ids:
        conditions.append(_condition("customer_id", "in", customer_ids))
    # FlexPrice stores currencies lower-case and matches them exactly.
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
        searches.append(bodies.InvoiceFilter.model_validate(body))
    return tuple(searches)


def merge_searches(
    parts: Sequence[Sequence[Invoice]],
    *,
    positions: Sequence[Position],
    more: Sequence[bool],
    counts: Sequence[int | None],
    first: int,
) -> Page[Invoice]:
    """One page of at most `first` invoices from the answers of several searches, newest first.

    `parts[n]` is search n's unread answer from `positions[n]`, `more[n]` whether FlexPrice has
    more beyond it, `counts[n]` how many the search matched when the listing began (None when
    unknown). The engine merges them (nothing is mapped) and sets each search's snapshot bound
    from its first answer; an item's cursor, every search's position after it, is encoded only
    when read.
    """
    # No count goes into a position: a page of a customer's batched first pages, which may
    # not count, has the same cursors as the page listed alone.
    answers = [
        Answer(position=position.bounded(created_times(part)), items=part, more=more_n)
        for part, position, more_n in zip(parts, positions, more, strict=True)
    ]
    merged = merge(answers, first)
    items = merged.items
    cursors = LazyTokens(len(items), lambda k: encode_positions(merged.positions_after(k)))
    return Page[Invoice](
        items=items,
        item_cursors=cursors,
        end_cursor=encode_positions(merged.end_positions()) if items else None,
        has_next_page=merged.has_next,
        total_count=None if None in counts else sum(c or 0 for c in counts),
    )
