"""Sequences made when read, and a provider's page: `Lazy` (items made one by one when first
read), `LazyInvoices` (a page's invoices mapped when read, ordered on what was read up front),
`Deferred` (a sequence made whole when first used: an invoice's line items), `Page`, and the
helpers that read a page's order without mapping it (`created_times`, `ids_of`, `pick`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from providers.models.domain import Invoice

__all__ = ["Deferred", "Lazy", "LazyInvoices", "Page", "created_times", "ids_of", "pick"]

T = TypeVar("T")


class Lazy(Sequence[T]):
    """`len` items, each made by `_item(index)` only when first read, and kept. Compares equal
    to any sequence of the same items. The base of `LazyInvoices` (invoices mapped when read)
    and of the paging engine's `LazyTokens` (cursors written when read)."""

    __slots__ = ("_count", "_made")

    def __init__(self, count: int, made: Sequence[T | None] | None = None) -> None:
        self._count = count
        self._made: list[T | None] = list(made) if made else [None] * count

    def _item(self, index: int) -> T:
        raise NotImplementedError

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...

    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        if isinstance(index, slice):
            return tuple(self[n] for n in range(*index.indices(self._count)))
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        made = self._made[index]
        if made is None:
            made = self._made[index] = self._item(index)
        return made

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]


class Deferred(Sequence[T]):
    """A sequence that `build()` makes when it is first used (its length included), and
    keeps. Compares equal to, and hashes as, the tuple of the same items. An invoice's line
    items whose JSON is decoded and mapped only when a client reads them (FlexPrice's)."""

    __slots__ = ("_build", "_items")

    def __init__(self, build: Callable[[], Iterable[T]]) -> None:
        self._build: Callable[[], Iterable[T]] | None = build
        self._items: tuple[T, ...] | None = None

    @property
    def items(self) -> tuple[T, ...]:
        """The items, made now if they were not yet (what `build` raises, this raises)."""
        items = self._items
        if items is None:
            assert self._build is not None
            items = self._items = tuple(self._build())
            self._build = None  # and what it held
        return items

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...

    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        return self.items[index]

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return self.items == tuple(other)

    def __hash__(self) -> int:
        return hash(self.items)

    def __repr__(self) -> str:
        return f"Deferred({self._items!r})" if self._build is None else "Deferred(not made yet)"


class LazyInvoices(Lazy["Invoice"]):
    """A page's invoices as the provider sent them, each mapped to an `Invoice` when first read.

    A merge across providers reads 2 x `first` invoices to keep `first`; this way it maps only
    those it keeps. What the merge and the cursors need is read from the records up front:
    `created_at` (UTC) and `ids`, in the records' order. The provider checks up front what its
    mapping could refuse (an id, a creation time, finite amounts), so that reading an item
    never raises. Compares equal to any sequence of the same invoices.
    """

    __slots__ = ("_build", "_records", "created_at", "ids", "provider")

    def __init__(
        self,
        provider: str,
        records: Sequence[Any],
        build: Callable[[Any], Invoice],
        *,
        created_at: Sequence[dt.datetime],
        ids: Sequence[str],
        built: Sequence[Invoice | None] | None = None,
    ) -> None:
        super().__init__(len(records), built)
        self.provider = provider
        self._records = records
        self._build = build
        self.created_at = created_at
        self.ids = ids

    def _item(self, index: int) -> Invoice:
        return self._build(self._records[index])

    def mapped(self) -> int:
        """How many of the invoices were mapped so far."""
        return sum(1 for built in self._made if built is not None)

    @property
    def records(self) -> Sequence[Any]:
        """The provider's records, unmapped, in order."""
        return self._records

    def __repr__(self) -> str:
        return f"LazyInvoices({self.provider!r}, {len(self)} invoices)"

    def select(self, indexes: Iterable[int]) -> LazyInvoices:
        """The invoices at `indexes`, in that order, still unmapped (mapped ones kept)."""
        chosen = list(indexes)
        return LazyInvoices(
            self.provider,
            [self._records[n] for n in chosen],
            self._build,
            created_at=[self.created_at[n] for n in chosen],
            ids=[self.ids[n] for n in chosen],
            built=[self._made[n] for n in chosen],
        )


def created_times(items: Sequence[Invoice]) -> Sequence[dt.datetime]:
    """Each item's `created_at`, without mapping a `LazyInvoices`."""
    if isinstance(items, LazyInvoices):
        return items.created_at
    return [item.created_at for item in items]


def ids_of(items: Sequence[Invoice]) -> Sequence[str]:
    """Each item's `id`, without mapping a `LazyInvoices`."""
    if isinstance(items, LazyInvoices):
        return items.ids
    return [item.id for item in items]


def pick(
    parts: Sequence[Sequence[Invoice]], chosen: Iterable[tuple[int, int]]
) -> Sequence[Invoice]:
    """`parts[n][index]` for each `(n, index)` of `chosen`, in order: still unmapped when every
    part chosen from is a `LazyInvoices` of one provider (the usual page), else mapped."""
    chosen = list(chosen)
    used = {n for n, _ in chosen}
    if len(used) == 1:
        (only,) = used
        part = parts[only]
        if isinstance(part, LazyInvoices):
            return part.select(index for _, index in chosen)
    return tuple(parts[n][index] for n, index in chosen)


@dataclass(frozen=True)  # not slots: `Page[Invoice](...)` sets `__orig_class__` on a slots class
class Page(Generic[T]):
    """One page of a provider's list, newest first.

    `item_cursors[i]` is the provider's position right after `items[i]` (so a listing merged
    across providers can resume exactly after any item); `end_cursor` is the one after the last.
    A provider builds it (nothing validates it again); `items` may be a `LazyInvoices`.
    """

    items: Sequence[T]
    item_cursors: Sequence[str]
    end_cursor: str | None
    has_next_page: bool
    total_count: int | None = None
