"""Listing Xendit invoices (`GET /v2/invoices`) as the gateway pages them.

Xendit pages newest first by a cursor, `last_invoice`: the id of the last invoice read. A provider
cursor here is the paging engine's token of one keyset `Position` (`providers.paging`): the
creation time and id of the last invoice read (`position_token`, `last_invoice_of`), so
`item_cursors[i]` names `items[i]`; each is written only when read.

What Xendit's list can filter is sent (`statuses`, `created_after`/`created_before`); what it
cannot (currencies, customers: the list takes no such parameters) is applied here, on the results,
page by page (see `read_page`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

from providers.errors import ProviderRejected
from providers.models import (
    Invoice,
    InvoiceFilter,
    InvoiceStatus,
    LazyInvoices,
    Page,
    PaymentStatus,
)
from providers.paging import BadPosition, LazyTokens, Position, decode_positions, encode_positions
from providers.xendit import wire
from providers.xendit.fields import PROVIDER
from providers.xendit.mapping import currency_of, customer_id_of, to_invoice, to_invoices

__all__ = [
    "MAX_LIMIT",
    "MAX_SCANNED_PAGES",
    "PAYMENT_STATUS_FILTER",
    "STATUS_FILTER",
    "Fetch",
    "last_invoice_of",
    "list_params",
    "position_token",
    "read_page",
    "xendit_statuses",
]

#: Xendit's `limit` maximum (legacy docs: 1-100).
MAX_LIMIT: Final = 100
#: Upstream pages one `read_page` reads at most while filtering locally.
MAX_SCANNED_PAGES: Final = 10

#: A status asked for -> the Xendit statuses that map to it. DRAFT and VOID: Xendit never
#: produces them (an invoice expired by `expire!` reads EXPIRED); UNKNOWN cannot be asked for.
STATUS_FILTER: Final[dict[InvoiceStatus, frozenset[str]]] = {
    InvoiceStatus.DRAFT: frozenset(),
    InvoiceStatus.OPEN: frozenset({"PENDING"}),
    InvoiceStatus.PAID: frozenset({"PAID", "SETTLED"}),
    InvoiceStatus.VOID: frozenset(),
    InvoiceStatus.EXPIRED: frozenset({"EXPIRED"}),
    InvoiceStatus.UNKNOWN: frozenset(),
}
#: A payment status asked for -> the Xendit statuses that map to it.
PAYMENT_STATUS_FILTER: Final[dict[PaymentStatus, frozenset[str]]] = {
    PaymentStatus.UNPAID: frozenset({"PENDING", "EXPIRED"}),
    PaymentStatus.PAID: frozenset({"PAID"}),
    PaymentStatus.SETTLED: frozenset({"SETTLED"}),
}

#: What can be an invoice id in `last_invoice` (it is sent in the query string).
_INVOICE_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")


def position_token(created_at: dt.datetime, invoice_id: str) -> str:
    """The provider cursor right after the invoice `invoice_id` created at `created_at`."""
    return encode_positions([Position(at=created_at, tie_ids=(invoice_id,))])


def last_invoice_of(after: str) -> str:
    """The `last_invoice` a provider cursor names; `ProviderRejected(field="after")` for
    anything `position_token` cannot have written."""
    try:
        [position] = decode_positions(after, 1)
        last = position.tie_ids[-1] if position.tie_ids else ""
        if position.token is not None or not _INVOICE_ID.fullmatch(last):
            raise BadPosition(after)
    except BadPosition as exc:
        raise ProviderRejected(
            PROVIDER,
            "the cursor is not a xendit position: pass the endCursor of a previous page",
            field="after",
        ) from exc
    return last


#: (limit, last_invoice) -> one upstream page, newest first.
Fetch = Callable[[int, str | None], Awaitable[list[wire.Invoice]]]


def xendit_statuses(filters: InvoiceFilter) -> tuple[str, ...] | None:
    """The `statuses` to send: None for no condition, `()` when the filter matches nothing."""
    if not filters.statuses and not filters.payment_statuses:
        return None
    allowed = set(wire.INVOICE_STATUSES)
    if filters.statuses:
        allowed &= set().union(*(STATUS_FILTER[status] for status in filters.statuses))
    if filters.payment_statuses:
        allowed &= set().union(
            *(PAYMENT_STATUS_FILTER.get(status, frozenset()) for status in filters.payment_statuses)
        )
    return tuple(status for status in wire.INVOICE_STATUSES if status in allowed)


def _floor_ms(value: dt.datetime) -> str:
    value = value.astimezone(dt.UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000).isoformat(
        timespec="milliseconds"
    )


def _ceil_ms(value: dt.datetime) -> str:
    value = value.astimezone(dt.UTC)
    if value.microsecond % 1000:
        value += dt.timedelta(microseconds=1000 - value.microsecond % 1000)
    return value.isoformat(timespec="milliseconds")


def list_params(
    filters: InvoiceFilter,
    *,
    statuses: Sequence[str] | None,
    limit: int,
    last_invoice: str | None,
) -> dict[str, str | list[str]]:
    """The query of `GET /v2/invoices`: `statuses` repeated, times as the SDK writes them.

    Xendit keeps milliseconds and does not document whether its bounds are inclusive,
    so the bounds sent are widened to whole milliseconds (after: down, before: up) and
    `read_page` applies the gateway's exclusive bounds exactly on what comes back.
    """
    params: dict[str, str | list[str]] = {"limit": str(limit)}
    if statuses is not None:
        params["statuses"] = list(statuses)
    if filters.created_after is not None:
        params["created_after"] = _floor_ms(filters.created_after)
    if filters.created_before is not None:
        params["created_before"] = _ceil_ms(filters.created_before)
    if last_invoice is not None:
        params["last_invoice"] = last_invoice
    return params


def _matcher(filters: InvoiceFilter) -> Callable[[wire.Invoice, dt.datetime], bool] | None:
    """What Xendit's list cannot filter, tested on a record as `to_invoice` would map it
    (None: nothing to test)."""
    currencies = {currency.upper() for currency in filters.currencies}
    customers = set(filters.customer_ids)
    after, before = filters.created_after, filters.created_before
    if not (currencies or customers or after or before):
        return None

    def matches(record: wire.Invoice, created_at: dt.datetime) -> bool:
        return (
            (not currencies or currency_of(record) in currencies)
            and (not customers or customer_id_of(record) in customers)
            and (after is None or created_at > after)
            and (before is None or created_at < before)
        )

    return matches


async def read_page(
    fetch: Fetch, filters: InvoiceFilter, *, first: int, after: str | None
) -> Page[Invoice]:
    """Up to `first` (1-100) invoices matching `filters` after the provider cursor `after`.

    Without a local filter (currencies, customers) one call asks for `first + 1` invoices, so
    `has_next_page` is exact (at `first` = 100, Xendit's maximum, a full page means "maybe").
    With one, pages of 100 are read and filtered until `first` invoices match, the listing
    ends, or `MAX_SCANNED_PAGES` pages were read; then the page holds what matched, with
    `has_next_page` true. `end_cursor` is after the last item, or, when nothing matched, after
    the last invoice read (so the next call goes on from there), or `after` when nothing was
    read. `total_count` is None: Xendit counts nothing. The items are a `LazyInvoices`:
    filtered and cut on what was read from the records, mapped only when read. Raises
    `ProviderRejected(field="after")` for a cursor this provider did not write.
    """
    local = bool(filters.currencies or filters.customer_ids)
    limit = MAX_LIMIT if local else min(first + 1, MAX_LIMIT)
    matches = _matcher(filters)
    records: list[wire.Invoice] = []
    created: list[dt.datetime] = []
    ids: list[str] = []
    cursor = None if after is None else last_invoice_of(after)
    end = after
    more = True  # unless the listing ends or the page is decided below
    for _ in range(MAX_SCANNED_PAGES):
        batch = to_invoices(await fetch(limit, cursor))
        if batch.ids:
            cursor = batch.ids[-1]
            end = position_token(batch.created_at[-1], cursor)
        found = [
            n
            for n, record in enumerate(batch.records)
            if matches is None or matches(record, batch.created_at[n])
        ]
        if len(ids) + len(found) > first:
            found = found[: first - len(ids)]
            more_found = True
        else:
            more_found = False
        for n in found:
            records.append(batch.records[n])
            created.append(batch.created_at[n])
            ids.append(batch.ids[n])
        if more_found:
            break
        if len(batch) < limit:
            more = False
            break
        if len(ids) == first:
            break  # the batch was full: there may be more
    items = LazyInvoices(PROVIDER, records, to_invoice, created_at=created, ids=ids)
    tokens = LazyTokens(len(ids), lambda n: position_token(created[n], ids[n]))
    return Page[Invoice](
        items=items,
        item_cursors=tokens,
        end_cursor=tokens[-1] if ids else end,
        has_next_page=more,
    )
