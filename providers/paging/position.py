"""`Position`: where a newest-first walk stands in one stream (its own token, what was read,
the snapshot bound and the ties read at it), and how it moves as items are read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from providers.models import Invoice, LazyInvoices, ids_of

__all__ = ["EPOCH", "MICROSECOND", "BadPosition", "Position"]

EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICROSECOND: Final = dt.timedelta(microseconds=1)


class BadPosition(ValueError):
    """Text that is not a position this engine wrote."""


@dataclass(frozen=True, slots=True)
class Position:
    """Where a newest-first walk stands in one stream.

    `token` is the stream's own resume token, when it has one (a provider's position inside a
    connection cursor; None: from the start). `at` is the snapshot bound: nothing created after
    it is listed (None before the stream's first answer). `tie_ids` are the ids already read
    that were created at exactly `at`, for a stream resumed by time alone; `seen` how many
    invoices were read from the stream; `total` how many it counted when the walk began (None:
    unknown); `done` that it has nothing more.
    """

    token: str | None = None
    seen: int = 0
    at: dt.datetime | None = None
    tie_ids: tuple[str, ...] = ()
    total: int | None = None
    done: bool = False

    def before(self) -> dt.datetime | None:
        """The exclusive bound on creation times to ask the stream for (None: no bound)."""
        return None if self.at is None else self.at + MICROSECOND

    def bounded(self, times: Sequence[dt.datetime]) -> Position:
        """This position with its snapshot bound set from the stream's first answer."""
        if self.at is not None or not times:
            return self
        return Position(self.token, self.seen, max(times), self.tie_ids, self.total, self.done)

    def unread(self, items: Sequence[Invoice]) -> Sequence[Invoice]:
        """`items` without those already read at `at` (the ties a time bound cannot exclude)."""
        if not self.tie_ids:
            return items
        ties = self.tie_ids
        keep = [n for n, found in enumerate(ids_of(items)) if found not in ties]
        if len(keep) == len(items):
            return items
        if isinstance(items, LazyInvoices):
            return items.select(keep)
        return [items[n] for n in keep]

    def reading(
        self,
        times: Sequence[dt.datetime],
        ids: Sequence[str],
        count: int,
        token: str | None,
        *,
        total: int | None = None,
        done: bool | None = None,
    ) -> Position:
        """The position after reading the first `count` of `times`/`ids` (newest first) from
        here. `token` is the stream's own token after them; None: the stream is resumed by time
        alone, so `at` moves to the last one read and the ties read at it are remembered.
        `total` and `done`, when given, replace this position's."""
        total = self.total if total is None else total
        done = self.done if done is None else done
        if token is not None:
            # Resumed by its token: the bound stays where the first answer set it (a token
            # may be an offset into what the bound selects).
            return Position(token, self.seen + count, self.at, (), total, done)
        if count == 0:
            return Position(None, self.seen, self.at, self.tie_ids, total, done)
        at = times[count - 1]
        n = count - 1
        while n >= 0 and times[n] == at:
            n -= 1
        ties = tuple(ids[n + 1 : count])
        if at == self.at:
            ties = self.tie_ids + ties
        return Position(None, self.seen + count, at, ties, total, done)
