"""Relay pagination of invoices merged across providers, newest first.

A cursor holds every provider's own position (FlexPrice an offset, Xendit its last invoice id)
and which providers are exhausted. Each page asks every live provider for `first` items from its
position, merges them by (created_at desc, provider, id) and keeps the first `first`; a provider
then advances exactly past the items it contributed (`Page.item_cursors`), so walking all pages
yields every invoice once, in order, with no gaps or repeats.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import heapq
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from gateway.errors import ErrorCode, GatewayError
from providers.errors import ProviderError
from providers.models import Invoice, Page, PageRequest

__all__ = ["Edge", "MergedPage", "fetch_merged", "merge"]

_CURSOR_PREFIX = "c1:"


@dataclass(frozen=True, slots=True)
class Position:
    """Where one provider stands: `after` (None = from the start), or `done`."""

    after: str | None = None
    done: bool = False


Positions = dict[str, Position]


def encode_cursor(positions: Mapping[str, Position]) -> str:
    state = {name: (None if pos.done else [pos.after]) for name, pos in sorted(positions.items())}
    raw = _CURSOR_PREFIX + json.dumps(state, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, *, providers: Sequence[str], field: str = "after") -> Positions:
    """Positions for `providers`; a provider the cursor does not name starts from the beginning."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
        if not raw.startswith(_CURSOR_PREFIX):
            raise ValueError(raw)
        state = json.loads(raw[len(_CURSOR_PREFIX) :])
        positions: Positions = {}
        for name in providers:
            value = state.get(name, [None])
            if value is None:
                positions[name] = Position(done=True)
            elif isinstance(value, list) and len(value) == 1 and isinstance(value[0], str | None):
                positions[name] = Position(after=value[0])
            else:
                raise ValueError(value)
    except (ValueError, UnicodeError, binascii.Error, AttributeError) as exc:
        raise GatewayError(
            ErrorCode.BAD_USER_INPUT,
            f"{field} is not a cursor from this connection: pass an `endCursor` or edge `cursor` "
            "returned by the same field",
            field=field,
        ) from exc
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
    #: Providers whose page could not be fetched; their invoices are missing from `edges`.
    failures: tuple[ProviderError, ...] = ()


def _newest_first(invoice: Invoice) -> tuple[float, str, str]:
    return (-invoice.created_at.timestamp(), invoice.provider, invoice.id)


def merge(pages: Mapping[str, Page[Invoice]], positions: Positions, first: int) -> MergedPage:
    """Keep the newest `first` items of `pages` and the positions after each of them."""
    heads = [(_newest_first(page.items[0]), name, 0) for name, page in pages.items() if page.items]
    heapq.heapify(heads)
    current = dict(positions)
    consumed: dict[str, int] = {}
    edges: list[Edge] = []
    while heads and len(edges) < first:
        _, name, index = heapq.heappop(heads)
        page = pages[name]
        consumed[name] = index + 1
        exhausted = index + 1 == len(page.items) and not page.has_next_page
        current[name] = Position(after=page.item_cursors[index], done=exhausted)
        edges.append(Edge(cursor=encode_cursor(current), node=page.items[index]))
        if index + 1 < len(page.items):
            heapq.heappush(heads, (_newest_first(page.items[index + 1]), name, index + 1))
    for name, page in pages.items():
        # A provider with nothing left after its last page is done even if it gave no edge.
        if not page.items and not page.has_next_page:
            current[name] = Position(done=True)
    has_next = any(
        consumed.get(name, 0) < len(page.items) or page.has_next_page
        for name, page in pages.items()
    )
    totals = [page.total_count for page in pages.values()]
    total = None if any(t is None for t in totals) else sum(t for t in totals if t is not None)
    return MergedPage(edges=tuple(edges), has_next_page=has_next, total_count=total)


ListCall = Callable[[str, PageRequest], Awaitable[Page[Invoice]]]


async def fetch_merged(
    list_page: ListCall, *, providers: Sequence[str], first: int, after: str | None
) -> MergedPage:
    """Fetch one merged page. A failing provider is left out and reported in `failures`."""
    positions = (
        decode_cursor(after, providers=providers)
        if after
        else {name: Position() for name in providers}
    )
    live = [name for name in providers if not positions[name].done]
    if first == 0 or not live:
        return MergedPage(edges=(), has_next_page=bool(live) and first == 0, total_count=None)
    results = await asyncio.gather(
        *(list_page(name, PageRequest(first=first, after=positions[name].after)) for name in live),
        return_exceptions=True,
    )
    pages: dict[str, Page[Invoice]] = {}
    failures: list[ProviderError] = []
    for name, result in zip(live, results, strict=True):
        if isinstance(result, ProviderError):
            failures.append(result)
        elif isinstance(result, BaseException):
            raise result
        else:
            pages[name] = result
    merged = merge(pages, positions, first)
    return MergedPage(
        edges=merged.edges,
        has_next_page=merged.has_next_page or bool(failures),
        total_count=None if failures else merged.total_count,
        failures=tuple(failures),
    )
