"""Relay pagination of invoices merged across providers, newest first.

A cursor holds every provider's own position (FlexPrice an offset, Xendit its last invoice id),
which providers are exhausted, and a fingerprint of the filter it was issued for. Each page asks
every live provider for `first` items from its position, merges them by (created_at desc,
provider, id) and keeps the first `first`; a provider then advances exactly past the items it
contributed (`Page.item_cursors`), so walking all pages yields every invoice once, in order.

Invoices created while a client walks the pages would shift offset positions; so the first page
records, per provider, a bound just after its newest invoice (`as_of`), and later pages ask only
for invoices created before it. A walk therefore lists the invoices that existed when it began.
(An invoice whose status changes between pages can still move in or out of a status filter.)
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from gateway.errors import ErrorCode, GatewayError
from gateway.ids import unwrap
from providers.errors import ProviderError, ProviderRejected
from providers.models import Invoice, Page, PageRequest, created_times
from providers.ordering import interleave_newest

__all__ = ["Edge", "MergedPage", "fetch_merged", "merge"]

_CURSOR_PREFIX = "c1:"


@dataclass(frozen=True, slots=True)
class Position:
    """Where one provider stands: `after` (None = from the start), or `done`; `as_of` bounds
    later pages to invoices created before it (None = no bound yet)."""

    after: str | None = None
    done: bool = False
    as_of: dt.datetime | None = None
    #: How many invoices the provider counted for this listing (None: unknown or not asked yet).
    total: int | None = None


Positions = dict[str, Position]


def encode_cursor(positions: Mapping[str, Position], *, fingerprint: str = "") -> str:
    state = {
        name: [
            pos.after,
            None if pos.as_of is None else pos.as_of.isoformat(),
            pos.total,
            pos.done,
        ]
        for name, pos in sorted(positions.items())
    }
    raw = _CURSOR_PREFIX + json.dumps({"f": fingerprint, "p": state}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode("ascii")


#: The longest cursor read. Ours hold a few hundred characters; a provider's position grows
#: only with invoices created in the same microsecond.
MAX_CURSOR_CHARS: Final = 16_384
#: The longest provider position inside one.
MAX_POSITION_CHARS: Final = 4096
#: `{"f": ..., "p": {name: [...]}}`: nothing in a cursor is nested deeper.
_MAX_NESTING: Final = 3
#: The largest count a cursor may carry (more invoices than any provider holds).
_MAX_TOTAL: Final = 10**12
#: `as_of` bounds, as the DateTime scalar's: no arithmetic on them can overflow.
_EARLIEST: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_LATEST: Final = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


def _nesting(text: str, limit: int) -> int:
    """How deep JSON `text` nests arrays and objects, counting no further than `limit` + 1:
    read before `json.loads`, which recurses once per level (a cursor of 50,000 "[" would
    reach Python's recursion limit)."""
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


def _bound(as_of: str) -> dt.datetime:
    bound = dt.datetime.fromisoformat(as_of)
    if bound.tzinfo is None or not _EARLIEST <= bound < _LATEST:
        raise ValueError(as_of)
    return bound


def _position(value: object) -> Position:
    if isinstance(value, list) and len(value) == 4:
        after, as_of, total, done = value
        if (
            (after is None or (isinstance(after, str) and 0 < len(after) <= MAX_POSITION_CHARS))
            and (as_of is None or (isinstance(as_of, str) and len(as_of) <= 64))
            and (total is None or (type(total) is int and 0 <= total <= _MAX_TOTAL))
            and isinstance(done, bool)
        ):
            bound = None if as_of is None else _bound(as_of)
            return Position(after=after, as_of=bound, total=total, done=done)
    raise ValueError(value)


def decode_cursor(
    cursor: object, *, providers: Sequence[str], fingerprint: str = "", field: str = "after"
) -> Positions:
    """Positions for `providers`; a provider the cursor does not name starts from the beginning.

    Raises `GatewayError(BAD_USER_INPUT)` naming `field` for anything but a cursor this API
    issued (`unwrap` first bounds and decodes it; then its nesting is checked before its JSON
    is parsed, and every value in it is bounded: positions, dates, counts), or one issued for
    another filter (`fingerprint`)."""
    refusal = GatewayError(
        ErrorCode.BAD_USER_INPUT,
        f"{field} is not a cursor from this connection: pass an `endCursor` or edge `cursor` "
        "returned by the same field",
        field=field,
    )
    raw = unwrap(cursor, field=field, max_chars=MAX_CURSOR_CHARS, refusal=refusal)
    body = raw.removeprefix(_CURSOR_PREFIX)
    if body == raw or _nesting(body, _MAX_NESTING) > _MAX_NESTING:
        raise refusal
    try:
        state = json.loads(body)
        issued_for, places = state["f"], state["p"]
        if not isinstance(issued_for, str) or not isinstance(places, dict):
            raise TypeError(state)
        positions = {
            name: _position(places.get(name, [None, None, None, False])) for name in providers
        }
    except (ValueError, KeyError, TypeError) as exc:
        raise refusal from exc
    if issued_for != fingerprint:
        raise GatewayError(
            ErrorCode.BAD_USER_INPUT,
            f"{field} is a cursor of a listing with another filter: keep the filter the same "
            "while paging, or start again without it",
            field=field,
        )
    return positions


@dataclass(frozen=True, slots=True)
class Edge:
    cursor: str
    node: Invoice


@dataclass(frozen=True, slots=True)
class MergedPage:
    edges: tuple[Edge, ...]
    has_next_page: bool
    total_count: int | None
    #: Every provider's position after this page (None: stay where `after` was). It can be
    #: ahead of the last edge's cursor: a provider that read on without a match moved on.
    end_cursor: str | None = None
    #: Providers whose page could not be fetched; their invoices are missing from `edges`.
    failures: tuple[ProviderError, ...] = ()


def merge(
    pages: Mapping[str, Page[Invoice]],
    positions: Positions,
    first: int,
    *,
    fingerprint: str = "",
) -> MergedPage:
    """Keep the newest `first` items of `pages` and the positions after each of them.

    Only the kept items are read from their pages: a page of `LazyInvoices` maps just those."""
    names = list(pages)
    current = dict(positions)
    consumed: dict[str, int] = {}
    edges: list[Edge] = []
    for n, index in interleave_newest([pages[name].items for name in names], first):
        name = names[n]
        page = pages[name]
        consumed[name] = index + 1
        exhausted = index + 1 == len(page.items) and not page.has_next_page
        current[name] = Position(
            after=page.item_cursors[index],
            done=exhausted,
            as_of=positions[name].as_of,
            total=positions[name].total,
        )
        edges.append(
            Edge(cursor=encode_cursor(current, fingerprint=fingerprint), node=page.items[index])
        )
    for name, page in pages.items():
        # A page used up to its end moves its provider to the page's own end, even with no
        # item used: a provider that filters as it reads may return none and still move on.
        if consumed.get(name, 0) == len(page.items) and page.end_cursor is not None:
            current[name] = Position(
                after=page.end_cursor,
                done=not page.has_next_page,
                as_of=positions[name].as_of,
                total=positions[name].total,
            )
    has_next = any(
        consumed.get(name, 0) < len(page.items) or page.has_next_page
        for name, page in pages.items()
    )
    totals = [position.total for position in positions.values()]
    total = None if any(t is None for t in totals) else sum(t for t in totals if t is not None)
    return MergedPage(
        edges=tuple(edges),
        has_next_page=has_next,
        total_count=total,
        end_cursor=encode_cursor(current, fingerprint=fingerprint) if pages else None,
    )


#: (provider, page request, created strictly before this time or None) -> the provider's page
ListCall = Callable[[str, PageRequest, dt.datetime | None], Awaitable[Page[Invoice]]]

_AFTER_NEWEST = dt.timedelta(microseconds=1)


async def fetch_merged(
    list_page: ListCall,
    *,
    providers: Sequence[str],
    first: int,
    after: str | None,
    fingerprint: str = "",
) -> MergedPage:
    """Fetch one merged page. A failing provider is left out and reported in `failures`.

    `first == 0` still asks each provider for one invoice, to tell `total_count` and
    `has_next_page` truthfully; it returns no edges."""
    positions = (
        decode_cursor(after, providers=providers, fingerprint=fingerprint)
        if after
        else {name: Position() for name in providers}
    )
    live = [name for name in providers if not positions[name].done]
    if not live:
        totals = [positions[name].total for name in providers]
        known = None if None in totals else sum(t or 0 for t in totals)
        return MergedPage(edges=(), has_next_page=False, total_count=known)
    results = await asyncio.gather(
        *(
            list_page(
                name,
                PageRequest(first=max(first, 1), after=positions[name].after),
                positions[name].as_of,
            )
            for name in live
        ),
        return_exceptions=True,
    )
    pages: dict[str, Page[Invoice]] = {}
    failures: list[ProviderError] = []
    for name, result in zip(live, results, strict=True):
        if isinstance(result, ProviderRejected) and result.field == "after":
            # The provider cannot read its own position in the cursor: the cursor was made up.
            raise GatewayError(
                ErrorCode.BAD_USER_INPUT,
                f"after is not a cursor from this connection ({name} cannot read its position "
                "in it): pass an `endCursor` or edge `cursor` returned by the same field",
                field="after",
                provider=name,
            ) from result
        if isinstance(result, ProviderError):
            failures.append(result)
        elif isinstance(result, BaseException):
            raise result
        else:
            pages[name] = result
            position = positions[name]
            as_of = position.as_of
            if as_of is None and result.items:
                as_of = max(created_times(result.items)) + _AFTER_NEWEST
            positions[name] = Position(
                after=position.after,
                as_of=as_of,
                # The first answer's count is the listing's; later ones only what remains.
                total=position.total if position.total is not None else result.total_count,
                # Nothing here and nothing after: later pages need not ask again.
                done=not result.items and not result.has_next_page,
            )
    if first == 0:
        counted = merge(pages, positions, 0, fingerprint=fingerprint)
        has_next = any(page.items or page.has_next_page for page in pages.values())
        return MergedPage(
            edges=(),
            has_next_page=has_next or bool(failures),
            total_count=None if failures else counted.total_count,
            failures=tuple(failures),
        )
    merged = merge(pages, positions, first, fingerprint=fingerprint)
    return MergedPage(
        edges=merged.edges,
        has_next_page=merged.has_next_page or bool(failures),
        total_count=None if failures else merged.total_count,
        failures=tuple(failures),
        end_cursor=merged.end_cursor,
    )
