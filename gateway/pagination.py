"""Relay pagination of invoices merged across providers, newest first, on `providers.paging`.

A connection cursor is base64url of the engine's cursor text: every provider's `Position` (its
own token, how many invoices were read from it, the snapshot bound, its count when the walk
began, whether it is done) and a fingerprint of the filter it was issued for. Each page asks
every live provider for `first` items from its token, merges them newest first
(`paging.merge`) and keeps the first `first`; a provider then advances exactly past
the items it contributed (`Page.item_cursors`), so walking all pages yields every invoice once,
in order. The first page sets each provider's snapshot bound (`Position.at`, its newest invoice's
time) and later pages ask only for invoices created up to it, so a walk lists the invoices that
existed when it began. (An invoice whose status changes between pages can still move in or out
of a status filter.) An edge's cursor is encoded only when read (`Edge.cursor`).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Final

from gateway.errors import ErrorCode, GatewayError
from gateway.ids import unwrap
from providers.errors import ProviderError, ProviderRejected
from providers.models import Invoice, Page, PageRequest, created_times
from providers.paging import (
    MAX_CURSOR_CHARS,
    Answer,
    BadPosition,
    Merged,
    Position,
    encode_cursor,
    merge,
)
from providers.paging import decode_cursor as decode_positions

__all__ = ["Edge", "MergedPage", "Position", "decode_cursor", "fetch_merged", "wrap_cursor"]

Positions = dict[str, Position]

#: The longest cursor a client may send: the engine's bound on its text, in base64.
MAX_CURSOR_TOKEN_CHARS: Final = MAX_CURSOR_CHARS * 4 // 3 + 4


def wrap_cursor(positions: dict[str, Position], *, fingerprint: str = "") -> str:
    """The cursor a client sees: base64url of the engine's text, unpadded."""
    raw = encode_cursor(positions, fingerprint=fingerprint).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(
    cursor: object, *, providers: Sequence[str], fingerprint: str = "", field: str = "after"
) -> Positions:
    """Positions for `providers`; a provider the cursor does not name starts from the beginning.

    Raises `GatewayError(BAD_USER_INPUT)` naming `field` for anything but a cursor this API
    issued (`unwrap` first bounds and decodes it; the engine checks its nesting before its JSON
    is parsed and bounds every value in it), or one issued for another filter (`fingerprint`)."""
    refusal = GatewayError(
        ErrorCode.BAD_USER_INPUT,
        f"{field} is not a cursor from this connection: pass an `endCursor` or edge `cursor` "
        "returned by the same field",
        field=field,
    )
    raw = unwrap(cursor, field=field, max_chars=MAX_CURSOR_TOKEN_CHARS, refusal=refusal)
    try:
        issued_for, positions = decode_positions(raw, providers)
    except BadPosition as exc:
        raise refusal from exc
    if issued_for != fingerprint:
        raise GatewayError(
            ErrorCode.BAD_USER_INPUT,
            f"{field} is a cursor of a listing with another filter: keep the filter the same "
            "while paging, or start again without it",
            field=field,
        )
    return positions


@dataclass(frozen=True)  # not slots: `edges` is a cached property
class MergedPage:
    """One merged page. Cursors are encoded only when read: `Edge.cursor`, `end_cursor`."""

    has_next_page: bool
    total_count: int | None
    #: Providers whose page could not be fetched; their invoices are missing from `edges`.
    failures: tuple[ProviderError, ...] = ()
    #: The merge of the providers' answers (None: a page that keeps nothing, `first: 0`).
    merged: Merged | None = None
    #: Every provider's position before this page, its snapshot bound set (by name) ...
    positions: tuple[tuple[str, Position], ...] = ()
    #: ... and the providers whose answers `merged` holds, in its order.
    asked: tuple[str, ...] = ()
    fingerprint: str = ""

    @cached_property
    def cursors(self) -> _Cursors | None:
        """What writes this page's cursors (None: a page that keeps nothing)."""
        if self.merged is None:
            return None
        return _Cursors(self.merged, self.positions, self.asked, self.fingerprint)

    @cached_property
    def edges(self) -> tuple[Edge, ...]:
        cursors = self.cursors
        if cursors is None:
            return ()
        # Each kept invoice is mapped here, in its provider's page: the others never are.
        merged = cursors.merged
        parts = [answer.items for answer in merged.answers]
        return tuple(Edge(cursors, k, parts[n][i]) for k, (n, i) in enumerate(merged.chosen))

    @property
    def end_cursor(self) -> str | None:
        """Every provider's position after this page (None: stay where `after` was). It can be
        ahead of the last edge's cursor: a provider that read on without a match moved on."""
        cursors = self.cursors
        if cursors is None or not self.asked:
            return None
        return cursors.wrap(cursors.merged.end_positions())


class _Cursors:
    """Writes a page's cursors, each once, when first read. The edges refer to this and not to
    their page, which holds them: no reference cycle, so a request's pages and the records they
    keep are freed when the answer is written, not by a later pass of the collector."""

    __slots__ = ("_written", "asked", "fingerprint", "merged", "positions")

    def __init__(
        self,
        merged: Merged,
        positions: tuple[tuple[str, Position], ...],
        asked: tuple[str, ...],
        fingerprint: str,
    ) -> None:
        self.merged = merged
        self.positions = positions
        self.asked = asked
        self.fingerprint = fingerprint
        self._written: dict[int, str] = {}

    def after(self, edge: int) -> str:
        """The cursor right after edge number `edge`."""
        cursor = self._written.get(edge)
        if cursor is None:
            cursor = self._written[edge] = self.wrap(self.merged.positions_after(edge))
        return cursor

    def wrap(self, moved: list[Position]) -> str:
        # Providers that were not asked (done, or failed) keep their positions.
        current = dict(self.positions)
        for name, position in zip(self.asked, moved, strict=True):
            current[name] = position
        return wrap_cursor(current, fingerprint=self.fingerprint)


@dataclass(frozen=True, slots=True)
class Edge:
    """An invoice of a merged page; its cursor is encoded only when read."""

    cursors: _Cursors
    index: int
    node: Invoice

    @property
    def cursor(self) -> str:
        return self.cursors.after(self.index)


#: (provider, page request, created strictly before this time or None) -> the provider's page
ListCall = Callable[[str, PageRequest, dt.datetime | None], Awaitable[Page[Invoice]]]


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
        return MergedPage(has_next_page=False, total_count=known)
    results = await asyncio.gather(
        *(
            list_page(
                name,
                PageRequest(first=max(first, 1), after=positions[name].token),
                positions[name].before(),
            )
            for name in live
        ),
        return_exceptions=True,
    )
    answers: dict[str, Answer] = {}
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
            # The first answer sets the snapshot bound and, with its count, the listing's.
            positions[name] = positions[name].bounded(created_times(result.items))
            answers[name] = Answer(
                position=positions[name],
                items=result.items,
                more=result.has_next_page,
                tokens=result.item_cursors,
                end_token=result.end_cursor,
                total=result.total_count,
            )
    merged = merge(list(answers.values()), first)
    total = None if failures else merged.total
    if first == 0:
        has_next = any(answer.items or answer.more for answer in answers.values())
        return MergedPage(
            has_next_page=has_next or bool(failures), total_count=total, failures=tuple(failures)
        )
    return MergedPage(
        has_next_page=merged.has_next or bool(failures),
        total_count=total,
        failures=tuple(failures),
        merged=merged,
        positions=tuple(positions.items()),
        asked=tuple(answers),
        fingerprint=fingerprint,
    )
