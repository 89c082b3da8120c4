"""The one order invoices are listed in: newest first, then by provider and id."""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence

from providers.models import Invoice

__all__ = ["interleave_newest", "newest_first_key"]


def newest_first_key(invoice: Invoice) -> tuple[float, str, str]:
    return (-invoice.created_at.timestamp(), invoice.provider, invoice.id)


def interleave_newest(parts: Sequence[Sequence[Invoice]], limit: int) -> Iterator[tuple[int, int]]:
    """(part, index) of the first `limit` invoices of `parts` merged newest first.

    Each part must already be newest first; the merge keeps each part's own order.
    """
    heads = [(newest_first_key(part[0]), n, 0) for n, part in enumerate(parts) if part]
    heapq.heapify(heads)
    for _ in range(limit):
        if not heads:
            return
        _, n, index = heapq.heappop(heads)
        yield n, index
        if index + 1 < len(parts[n]):
            heapq.heappush(heads, (newest_first_key(parts[n][index + 1]), n, index + 1))
