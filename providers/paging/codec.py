"""How positions are written and read: `encode_positions` (a stream's own token for its parts)
and `encode_cursor` (every stream of a connection, with its filter's fingerprint), and their
decoders, which accept only bounded JSON this engine wrote (size and nesting checked before it is
parsed, every value bounded) and raise `BadPosition` for anything else; `LazyTokens`, tokens
written only when read."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Final

import msgspec

from providers.models import Lazy
from providers.paging.position import EPOCH, MICROSECOND, BadPosition, Position

__all__ = [
    "MAX_CURSOR_CHARS",
    "MAX_POSITION_CHARS",
    "LazyTokens",
    "decode_cursor",
    "decode_positions",
    "encode_cursor",
    "encode_positions",
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
#: The last microsecond a position may name: before the year 9999, so `at` + 1 us is a datetime.
_LAST_MICROS: Final = (dt.datetime(9999, 1, 1, tzinfo=dt.UTC) - EPOCH) // MICROSECOND - 1


def _write(position: Position) -> list[object]:
    at = None if position.at is None else (position.at - EPOCH) // MICROSECOND
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
        at = EPOCH + micros * MICROSECOND
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
