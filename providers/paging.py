"""The one paging engine: where a walk stands, how that is written, the merge, the snapshot bound.

Invoices are listed newest first: creation time descending, then provider, then id. A listing is
walked over several *streams*, each already newest first: the providers of a connection (the
gateway merges them), or a provider's own searches (FlexPrice, when a status filter needs
several). Both levels use the same three parts:

- `Position`, where a walk stands in one stream, and its one codec (`encode_positions`,
  `encode_cursor` and their decoders): bounded JSON, read only after its size and nesting are
  checked, every value bounded, anything else refused with `BadPosition`.
- `merge`: the newest-first merge of the streams' answers (`Answer`), which reads only the
  creation times and ids read up front from the records, so a `LazyInvoices` is mapped only for
  the items kept. What it returns computes a position only when asked (`Merged.positions_after`),
  so a cursor is encoded only for a client that selects it.
- The snapshot bound `Position.at`: nothing created after it is listed. A stream's first answer
  sets it to its newest invoice's creation time; every later request asks the stream only for
  invoices created before `at` + 1 us (`Position.before`), so invoices created during a walk
  never enter it. A stream with a token of its own keeps that bound (the token may be an offset
  into what the bound selects). A stream resumed by time alone (FlexPrice's searches) moves
  `at` to the last invoice read and drops the ones it already read at exactly `at` (`tie_ids`):
  a keyset, so none is skipped or repeated even when invoices are finalized or voided
  meanwhile, which would shift an offset.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import msgspec

from providers.models import Invoice, Lazy, LazyInvoices, created_times, ids_of, pick

__all__ = [
    "MAX_CURSOR_CHARS",
    "MAX_POSITION_CHARS",
    "Answer",
    "BadPosition",
    "LazyTokens",
    "Merged",
    "Position",
    "decode_cursor",
    "decode_positions",
    "encode_cursor",
    "encode_positions",
    "interleave_newest",
    "merge",
]

#: The longest cursor read (its text, before base64). Ours hold a few hundred characters; one
#: grows only with invoices created in the same microsecond.
MAX_CURSOR_CHARS: Final = 12_288
#: The longest token of a stream inside one (a provider's own position).
MAX_POSITION_CHARS: Final = 4096
#: The most ids of invoices created in the same microsecond a position remembers.
_MAX_TIES: Final = 256
_ID: Final = re.compile(r"[A-Za-z0-9_\-]{1,255}")
#: The largest count a position may carry (more invoices than any provider holds).
_MAX_COUNT: Final = 10**12
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND: Final = dt.timedelta(microseconds=1)
#: The last microsecond a position may name: before the year 9999, so `at` + 1 us is a datetime.
_LAST_MICROS: Final = (dt.datetime(9999, 1, 1, tzinfo=dt.UTC) - _EPOCH) // _MICROSECOND - 1


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
        return None if self.at is None else self.at + _MICROSECOND

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


# -- the codec ----------------------------------------------------------------------------------


def _write(position: Position) -> list[object]:
    at = None if position.at is None else (position.at - _EPOCH) // _MICROSECOND
    ties = "~".join(position.tie_ids) if position.tie_ids else None
    return [position.token, position.seen, at, ties, position.total, position.done]


def _count(value: object, *, optional: bool) -> int | None:
    if value is None and optional:
        return None
    if type(value) is not int or not 0 <= value <= _MAX_COUNT:
        raise BadPosition(value)
    return value


def _read(value: object) -> Position:
    if not isinstance(value, list) or len(value) != 6:
        raise BadPosition(value)
    token, seen, micros, ties, total, done = value
    if token is not None and not (
        isinstance(token, str) and 0 < len(token) <= MAX_POSITION_CHARS and token.isprintable()
    ):
        raise BadPosition(token)
    at = None
    if micros is not None:
        if type(micros) is not int or not 0 <= micros <= _LAST_MICROS:
            raise BadPosition(micros)
        at = _EPOCH + micros * _MICROSECOND
    tie_ids: tuple[str, ...] = ()
    if ties is not None:
        if not isinstance(ties, str) or at is None:
            raise BadPosition(ties)
        tie_ids = tuple(ties.split("~"))
        if len(tie_ids) > _MAX_TIES or not all(_ID.fullmatch(tie) for tie in tie_ids):
            raise BadPosition(ties)
    if not isinstance(done, bool):
        raise BadPosition(done)
    return Position(
        token=token,
        seen=_count(seen, optional=False) or 0,
        at=at,
        tie_ids=tie_ids,
        total=_count(total, optional=True),
        done=done,
    )


def _nesting(text: str, limit: int) -> int:
    """How deep JSON `text` nests arrays and objects, counting no further than `limit` + 1:
    read before `json.loads`, which recurses once per level (50,000 "[" would reach Python's
    recursion limit)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
        elif char in "]}":
            depth -= 1
    return deepest


def _load(text: object, prefix: str, depth: int, limit: int) -> object:
    if not isinstance(text, str) or len(text) > limit or not text.startswith(prefix):
        raise BadPosition(text)
    body = text[len(prefix) :]
    if _nesting(body, depth) > depth:
        raise BadPosition(text)
    try:
        return json.loads(body)
    except ValueError as exc:  # also RecursionError's neighbours: nesting was checked first
        raise BadPosition(text) from exc


#: Written by msgspec, in C (several times json.dumps' speed): most of a cursor's cost.
_ENCODE: Final = msgspec.json.Encoder().encode
_POSITIONS: Final = "p2:"
_CURSOR: Final = "c2:"


def encode_positions(positions: Sequence[Position]) -> str:
    """A stream's own token for the positions of its parts (FlexPrice: one per search)."""
    return _POSITIONS + _ENCODE([_write(p) for p in positions]).decode()


def decode_positions(text: object, count: int) -> list[Position]:
    """The `count` positions `encode_positions` wrote; `BadPosition` for anything else (a
    token of at most `MAX_POSITION_CHARS`, nesting checked before its JSON is parsed)."""
    value = _load(text, _POSITIONS, 2, MAX_POSITION_CHARS)
    if not isinstance(value, list) or len(value) != count:
        raise BadPosition(text)
    return [_read(item) for item in value]


def encode_cursor(positions: Mapping[str, Position], *, fingerprint: str = "") -> str:
    """The text of a connection cursor: every stream's position by name, and the fingerprint of
    the filter it was issued for (the caller wraps it, e.g. in base64)."""
    state = {name: _write(position) for name, position in positions.items()}
    return _CURSOR + _ENCODE([fingerprint, state]).decode()


def decode_cursor(text: object, names: Sequence[str]) -> tuple[str, dict[str, Position]]:
    """(fingerprint, position of each of `names`) from `encode_cursor`'s text; a stream the
    cursor does not name starts from the beginning. `BadPosition` for anything else."""
    value = _load(text, _CURSOR, 3, MAX_CURSOR_CHARS)
    if not isinstance(value, list) or len(value) != 2:
        raise BadPosition(text)
    fingerprint, state = value
    if not isinstance(fingerprint, str) or not isinstance(state, dict):
        raise BadPosition(text)
    return fingerprint, {
        name: _read(state[name]) if name in state else Position() for name in names
    }


# -- the merge ----------------------------------------------------------------------------------

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


class LazyTokens(Lazy[str]):
    """`count` tokens, each written by `make(index)` only when read (a provider's
    `Page.item_cursors`: most listings never read one). Compares equal to any sequence of the
    same strings."""

    __slots__ = ("_make",)

    def __init__(self, count: int, make: Callable[[int], str]) -> None:
        super().__init__(count)
        self._make = make

    def _item(self, index: int) -> str:
        return self._make(index)

    def __repr__(self) -> str:
        return f"LazyTokens({list(self)!r})"
