"""FlexPrice searches for a domain `InvoiceFilter`, and the merge of several into one page.

FlexPrice ANDs every condition of a search, so some status filters need several searches; each is
asked for a page from its own offset and `merge_searches` interleaves the answers newest first.
The provider's cursor is one `SearchPosition` per search, joined by ".".

A listing never includes SKIPPED invoices (zero-amount subscription drafts, never payable):
FlexPrice hides them when `invoice_status` is not sent, so a status filter asks only for the
other three statuses. A filtered listing is then always a subset of the unfiltered one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from providers.errors import ProviderRejected
from providers.flexprice import wire
from providers.flexprice.mapping import PROVIDER, invoice_status_of, payment_status_of
from providers.models import (
    Invoice,
    InvoiceFilter,
    InvoiceStatus,
    LazyInvoices,
    Page,
    PaymentStatus,
    created_times,
    ids_of,
    pick,
)
from providers.ordering import interleave_newest

__all__ = [
    "LISTED_INVOICE_STATUSES",
    "SearchPosition",
    "merge_searches",
    "parse_positions",
    "to_invoice_searches",
]


_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND: Final = dt.timedelta(microseconds=1)
_ID: Final = re.compile(r"[A-Za-z0-9_]{1,64}")
_POSITION: Final = re.compile(
    r"(?P<seen>[0-9]{1,12})-(?P<micros>[0-9]{1,18})-(?P<ids>[A-Za-z0-9_~]+)"
)
#: The last microsecond a position may name: before the year 9999, so `at` + 1 us is a datetime.
_LAST_MICROS: Final = (dt.datetime(9999, 1, 1, tzinfo=dt.UTC) - _EPOCH) // _MICROSECOND - 1


@dataclass(frozen=True, slots=True)
class SearchPosition:
    """How far a listing has read one search: keyset, not offset, so that invoices created,
    finalized or voided while a client pages neither shift it nor make it skip any.

    `at` is the creation time of the last invoice read (None before the first), `tie_ids` the
    ids of the read invoices created at exactly `at` (almost always one), `seen` how many were
    read in all. The next page asks for invoices created before `at` + 1 us and drops the
    `tie_ids`: FlexPrice's filters cannot say "(created_at, id) after (at, id)", and an offset
    past the ties would skip one when a read invoice has left the filter since.
    """

    seen: int = 0
    at: dt.datetime | None = None
    tie_ids: tuple[str, ...] = ()

    def encode(self) -> str:
        if self.at is None:
            return "0"
        return f"{self.seen}-{(self.at - _EPOCH) // _MICROSECOND}-{'~'.join(self.tie_ids)}"

    @classmethod
    def decode(cls, text: str) -> SearchPosition:
        """Raises ValueError for anything `encode` cannot have written: numbers are bounded
        (a count below 10^12, a time before the year 9999) before any arithmetic on them."""
        if text == "0":
            return cls()
        found = _POSITION.fullmatch(text)
        if found is None:
            raise ValueError(text)
        seen, micros = int(found["seen"]), int(found["micros"])
        tie_ids = tuple(found["ids"].split("~"))
        if not 0 < len(tie_ids) <= seen or micros > _LAST_MICROS:
            raise ValueError(text)
        if not all(_ID.fullmatch(tie) for tie in tie_ids):
            raise ValueError(text)
        return cls(seen=seen, at=_EPOCH + micros * _MICROSECOND, tie_ids=tie_ids)

    def past(self, created_at: dt.datetime, invoice_id: str) -> SearchPosition:
        """The position after the invoice `invoice_id` created at `created_at`."""
        ties = (*self.tie_ids, invoice_id) if created_at == self.at else (invoice_id,)
        return SearchPosition(seen=self.seen + 1, at=created_at, tie_ids=ties)

    def request(self, search: wire.InvoiceFilter, limit: int) -> wire.InvoiceFilter:
        """The search for the next `limit` unread invoices (plus the ties it will drop)."""
        if self.at is None:
            return search.model_copy(update={"limit": limit, "offset": 0})
        bound = _condition("created_at", "before", self.at + _MICROSECOND)
        conditions = (*(search.filters or ()), bound)
        update = {"limit": limit + len(self.tie_ids), "offset": 0, "filters": conditions}
        return search.model_copy(update=update)

    def unread(self, invoices: LazyInvoices) -> LazyInvoices:
        if not self.tie_ids:
            return invoices
        ties = self.tie_ids
        return invoices.select(n for n, found in enumerate(invoices.ids) if found not in ties)


def parse_positions(after: str | None, count: int) -> list[SearchPosition]:
    """Our own cursors: one `SearchPosition` per search, joined by "."."""
    if after is None:
        return [SearchPosition()] * count
    parts = after.split(".")
    try:
        if len(parts) != count or not all(p.isascii() for p in parts):
            raise ValueError(after)
        return [SearchPosition.decode(part) for part in parts]
    except ValueError as exc:
        raise ProviderRejected(
            PROVIDER,
            "the cursor is not a flexprice position for this filter: pass the endCursor of a "
            "previous page of the same listing",
            field="after",
        ) from exc


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
        searches.append(wire.InvoiceFilter.model_validate(body))
    return tuple(searches)


def merge_searches(
    parts: Sequence[Sequence[Invoice]],
    *,
    positions: Sequence[SearchPosition],
    more: Sequence[bool],
    counts: Sequence[int | None],
    first: int,
) -> Page[Invoice]:
    """One page of at most `first` invoices from the answers of several searches, newest first.

    `parts[n]` is search n's unread answer from `positions[n]`, `more[n]` whether FlexPrice has
    more beyond it, `counts[n]` how many the search matched when the listing began (None when
    unknown); each item's cursor holds every search's position after it. Parts that are
    `LazyInvoices` are merged on what was read from their records: nothing is mapped here.
    """
    current = list(positions)
    taken = [0] * len(parts)
    times = [created_times(part) for part in parts]
    ids = [ids_of(part) for part in parts]
    chosen: list[tuple[int, int]] = []
    cursors: list[str] = []
    for n, index in interleave_newest(parts, first):
        chosen.append((n, index))
        taken[n] = index + 1
        current[n] = current[n].past(times[n][index], ids[n][index])
        cursors.append(".".join(position.encode() for position in current))
    items = pick(parts, chosen)
    has_next = any(taken[n] < len(part) or more[n] for n, part in enumerate(parts))
    return Page[Invoice](
        items=items,
        item_cursors=tuple(cursors),
        end_cursor=cursors[-1] if cursors else None,
        has_next_page=has_next,
        total_count=None if None in counts else sum(c or 0 for c in counts),
    )
