"""The newest-first merge of several streams' answers: `interleave_newest` orders them on the
creation times and ids read up front (no `LazyInvoices` item is mapped), `merge` keeps the first
`first`, and `Merged` works out each stream's `Position` after any kept item only when asked."""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from providers.models import Invoice, LazyInvoices, created_times, ids_of, pick
from providers.paging.position import Position

__all__ = ["Answer", "Merged", "interleave_newest", "merge"]

SortKey = tuple[float, str, str]


def _key_of(part: Sequence[Invoice]) -> Callable[[int], SortKey]:
    # A LazyInvoices is ordered on what was read from its records, without mapping them.
    if isinstance(part, LazyInvoices):
        created, provider, ids = part.created_at, part.provider, part.ids
        return lambda index: (-created[index].timestamp(), provider, ids[index])
    return lambda index: (-part[index].created_at.timestamp(), part[index].provider, part[index].id)


def interleave_newest(parts: Sequence[Sequence[Invoice]], limit: int) -> Iterator[tuple[int, int]]:
    """(part, index) of the first `limit` invoices of `parts` merged newest first, then by
    provider and id. Each part must already be newest first; the merge keeps each part's own
    order. No item of a `LazyInvoices` is mapped."""
    filled = [n for n, part in enumerate(parts) if part]
    if len(filled) == 1:  # one stream (one provider, one search): its own order, no keys
        (only,) = filled
        for index in range(min(limit, len(parts[only]))):
            yield only, index
        return
    keys = [_key_of(part) for part in parts]
    heads = [(keys[n](0), n, 0) for n in filled]
    heapq.heapify(heads)
    for _ in range(limit):
        if not heads:
            return
        _, n, index = heapq.heappop(heads)
        yield n, index
        if index + 1 < len(parts[n]):
            heapq.heappush(heads, (keys[n](index + 1), n, index + 1))


@dataclass(slots=True)
class Answer:
    """What one stream answered from `position` (its snapshot bound already set: `bounded`).

    `items` are newest first and unread; `more` whether the stream has more after them;
    `tokens[i]` the stream's own token right after `items[i]` (None: resumed by time alone);
    `end_token` its token after everything it read, which can be past the last item (a stream
    that filters as it reads); `total` what it counts for the listing (None: unknown)."""

    position: Position
    items: Sequence[Invoice]
    more: bool
    tokens: Sequence[str] | None = None
    end_token: str | None = None
    total: int | None = None
    #: Positions already worked out, by count: each edge's cursor asks for every stream's.
    _known: dict[int, Position] = field(default_factory=dict, compare=False, repr=False)
    _times: Sequence[dt.datetime] | None = field(default=None, compare=False, repr=False)
    _ids: Sequence[str] = field(default=(), compare=False, repr=False)

    def after(self, count: int) -> Position:
        """The stream's position once the walk has taken the first `count` items."""
        known = self._known.get(count)
        if known is None:
            known = self._known[count] = self._after(count)
        return known

    def _after(self, count: int) -> Position:
        used_up = count == len(self.items)
        token: str | None = None
        if used_up and self.end_token is not None:
            token = self.end_token
        elif count and self.tokens is not None:
            token = self.tokens[count - 1]
        elif self.tokens is not None or self.end_token is not None:
            token = self.position.token
        if self._times is None:
            self._times, self._ids = created_times(self.items), ids_of(self.items)
        return self.position.reading(
            self._times,
            self._ids,
            count,
            token,
            total=self.position.total if self.position.total is not None else self.total,
            done=used_up and not self.more,
        )


@dataclass(slots=True)
class Merged:
    """The newest `first` items of several answers. Positions are computed only when asked."""

    answers: tuple[Answer, ...]
    chosen: tuple[tuple[int, int], ...]
    #: How many of each answer the first k + 1 kept items took, worked out when first asked.
    _counts: list[tuple[int, ...]] | None = field(default=None, compare=False, repr=False)

    @property
    def items(self) -> Sequence[Invoice]:
        """The kept items, newest first (still unmapped when they all come from one
        `LazyInvoices`)."""
        return pick([answer.items for answer in self.answers], self.chosen)

    def taken(self, upto: int) -> tuple[int, ...]:
        """How many items of each answer the first `upto` kept items took."""
        if upto == 0:
            return (0,) * len(self.answers)
        if self._counts is None:
            counts = [0] * len(self.answers)
            self._counts = []
            for n, index in self.chosen:
                counts[n] = index + 1
                self._counts.append(tuple(counts))
        return self._counts[upto - 1]

    def positions_after(self, edge: int) -> list[Position]:
        """Every stream's position right after kept item `edge`."""
        counts = self.taken(edge + 1)
        return [answer.after(count) for answer, count in zip(self.answers, counts, strict=True)]

    def end_positions(self) -> list[Position]:
        """Every stream's position after the whole page: a stream whose answer was used up
        moves to its end token even when none of its items was kept."""
        counts = self.taken(len(self.chosen))
        return [answer.after(count) for answer, count in zip(self.answers, counts, strict=True)]

    @property
    def has_next(self) -> bool:
        counts = self.taken(len(self.chosen))
        return any(
            count < len(answer.items) or answer.more
            for answer, count in zip(self.answers, counts, strict=True)
        )

    @property
    def total(self) -> int | None:
        """The sum of every stream's count, or None when one cannot count."""
        totals = [
            answer.position.total if answer.position.total is not None else answer.total
            for answer in self.answers
        ]
        return None if None in totals else sum(t or 0 for t in totals)


def merge(answers: Sequence[Answer], first: int) -> Merged:
    """Keep the newest `first` items of `answers`; nothing is mapped or encoded here."""
    chosen = tuple(interleave_newest([answer.items for answer in answers], first))
    return Merged(answers=tuple(answers), chosen=chosen)
