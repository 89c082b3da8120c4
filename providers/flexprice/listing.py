"""Listing FlexPrice's invoices as the gateway pages them: one search per part of the status
filter (`search.to_invoice_searches`), each from its own keyset position, merged newest first
(`read_page`); and the first pages of many customers' listings from one search per part
(`first_pages`). The searches are sent by the caller's `SearchEach`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from providers.errors import ProviderRejected
from providers.flexprice import bodies, wire
from providers.flexprice.mapping import PROVIDER, to_invoice, to_invoices
from providers.flexprice.search import (
    merge_searches,
    parse_positions,
    search_request,
    to_invoice_searches,
)
from providers.models import Invoice, InvoiceFilter, Page, PageRequest
from providers.paging import Position

__all__ = ["SearchEach", "first_pages", "read_page"]

#: Sends searches at once and answers each, in order (the provider's `_search_each`).
SearchEach = Callable[[Sequence[bodies.InvoiceFilter]], Awaitable[list[wire.ListInvoicesResponse]]]


async def read_page(
    search_each: SearchEach, filters: InvoiceFilter, page: PageRequest, *, limit: int
) -> Page[Invoice]:
    """One page of the listing (see `FlexPriceProvider.list_invoices`); `first` is cut to
    `limit`, FlexPrice's largest search."""
    if page.first < 1:
        raise ProviderRejected(PROVIDER, "first must be at least 1", field="first")
    first = min(page.first, limit)
    searches = to_invoice_searches(filters)
    if not searches:
        return Page[Invoice](
            items=(), item_cursors=(), end_cursor=None, has_next_page=False, total_count=0
        )
    positions = parse_positions(page.after, len(searches))
    responses = await search_each(
        [
            search_request(position, search, first)
            for search, position in zip(searches, positions, strict=True)
        ]
    )
    parts: list[Sequence[Invoice]] = []
    more: list[bool] = []
    counts: list[int | None] = []
    for position, response in zip(positions, responses, strict=True):
        items = response.items or ()
        # Mapped only when read: a merge across providers keeps about half of them.
        parts.append(position.unread(to_invoices(items)))
        total = response.pagination.total if response.pagination else None
        asked = first + len(position.tie_ids)
        more.append(len(items) < total if total is not None else len(items) == asked)
        # Read before the position, plus what FlexPrice still counts (the ties included).
        counts.append(None if total is None else position.seen - len(position.tie_ids) + total)
    return merge_searches(parts, positions=positions, more=more, counts=counts, first=first)


async def first_pages(
    search_each: SearchEach,
    filters: InvoiceFilter,
    chunk: tuple[str, ...],
    first: int,
    *,
    count: bool,
    limit: int,
) -> dict[str, Page[Invoice] | None]:
    """The first page of each customer in `chunk` (at most `limit` of them), or None where one
    search per status part, of `limit` invoices each, cannot tell it exactly (see
    `FlexPriceProvider.list_invoices_of_customers`)."""
    searches = to_invoice_searches(filters.model_copy(update={"customer_ids": chunk}))
    if not searches:
        empty = Page[Invoice](
            items=(), item_cursors=(), end_cursor=None, has_next_page=False, total_count=0
        )
        return dict.fromkeys(chunk, empty)
    responses = await search_each(
        [search.model_copy(update={"limit": limit, "offset": 0}) for search in searches]
    )
    found: dict[str, list[list[Invoice]]] = {c: [[] for _ in searches] for c in chunk}
    complete: list[bool] = []
    for n, response in enumerate(responses):
        total = response.pagination.total if response.pagination else None
        items = response.items or ()
        read = len(items)
        complete.append(read < limit if total is None else read >= total)
        for item in items:
            invoice = to_invoice(item)
            if invoice.customer_id in found:
                found[invoice.customer_id][n].append(invoice)
    pages: dict[str, Page[Invoice] | None] = {}
    for customer_id, parts in found.items():
        pairs = list(zip(complete, parts, strict=True))
        if not all(done or (not count and len(part) > first) for done, part in pairs):
            pages[customer_id] = None
            continue
        pages[customer_id] = merge_searches(
            [part[:first] for part in parts],
            positions=[Position()] * len(parts),
            more=[len(part) > first or not done for done, part in pairs],
            counts=[len(part) if done else None for done, part in pairs],
            first=first,
        )
    return pages
