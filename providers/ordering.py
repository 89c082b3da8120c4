"""The one order invoices are listed in: newest first, then by provider and id."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Sequence

from providers.models import Invoice, LazyInvoices

__all__ = ["interleave_newest", "newest_first_key"]

SortKey = tuple[float, str, str]


def newest_first_key(invoice: Invoice) -> SortKey:
    return (-invoice.created_at.timestamp(), invoice.provider, invoice.id)


def _key_of(part: Sequence[Invoice]) -> Callable[[int], SortKey]:
    # A LazyInvoices is ordered on what was read from its records, without mapping them.
    if isinstance(part, LazyInvoices):
        created, provider, ids = part.created_at, part.provider, part.ids
        return lambda index: (-created[index].timestamp(), provider, ids[index])
    return lambda index: newest_first_key(part[index])


def interleave_newest(parts: Sequence[Sequence[Invoice]], limit: int) -> Iterator[tuple[int, int]]:
    """(part, index) of the first `limit` invoices of `parts` merged newest first.

    Each part must already be newest first; the merge keeps each part's own order. No item of
    a `LazyInvoices` is mapped.
    """
    keys = [_key_of(part) for part in parts]
    heads = [(keys[n](0), n, 0) for n, part in enumerate(parts) if part]
    heapq.heapify(heads)
    for _ in range(limit):
        if not heads:
            return
        _, n, index = heapq.heappop(heads)
        yield n, index
        if index + 1 < len(parts[n]):
            heapq.heappush(heads, (keys[n](index + 1), n, index + 1))
