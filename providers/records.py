"""Provider responses decoded once, from bytes to typed records, in C (msgspec).

A provider's `wire.py` declares its responses as `Record`s: every field optional (`X | None =
None`, so `null` and absence read the same), unknown fields ignored (they stay in `raw`), money
`Decimal` straight from the JSON text (a string or a number, never through a float), timestamps
`datetime` (pass them through `utc` before they reach the domain: a value sent without an offset
is read as UTC). Nothing calls back into Python while a body is decoded.

Each record knows where its JSON object is in the body it came from (`source`, a `Source`: the
body, shared, and a path into it); the object's bytes are cut out of the body only when `raw` is
read (one pass over the body per list, kept for the other items), and decoded with Python's
`json` (default types: what `raw` always served). Decoding a body is one call into msgspec and
no pass more: `decode_object` and `decode_list` only set `source` on the records they return and
on the nested records their `nested` names (an invoice's embedded customer); other nested
records have none.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import msgspec

from providers.errors import ProviderBadResponse

__all__ = [
    "Body",
    "Record",
    "Source",
    "decode_list",
    "decode_object",
    "finite",
    "plain_json",
    "utc",
]

R = TypeVar("R", bound="Record")

#: The JSON name of `Record.source`: a field no API sends (and one `decode_*` overwrites).
_SOURCE = "(invoice-gateway: source)"


Step = str | int


class Body:
    """One response body, shared by the `Source`s of the records decoded from it. Cuts out the
    bytes of the JSON value at a path when first asked, keeping the spans it cut on the way (a
    list is split once for all its items)."""

    __slots__ = ("_spans", "data")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._spans: dict[tuple[Step, ...], Any] = {}

    def __repr__(self) -> str:
        return f"Body({len(self.data)} bytes)"

    def cut_spans(self) -> int:
        """How many values were cut out of the body so far (a list split counts once)."""
        return len(self._spans)

    def cut(self, path: tuple[Step, ...]) -> msgspec.Raw | None:
        """The JSON value at `path` (object keys and list indexes), None where there is none."""
        if not path:
            return msgspec.Raw(self.data)
        spans = self._spans
        parent_path = path[:-1]
        step = path[-1]
        if isinstance(step, int):
            items = spans.get(parent_path)
            if items is None:
                parent = self.cut(parent_path)
                items = spans[parent_path] = [] if parent is None else _ARRAY.decode(parent)
            found: msgspec.Raw | None = items[step] if 0 <= step < len(items) else None
            return found
        if path in spans:
            value: msgspec.Raw | None = spans[path]
            return value
        parent = self.cut(parent_path)
        value = None if parent is None else getattr(_member(step).decode(parent), "value", None)
        spans[path] = value
        return value


class Source(msgspec.Struct, frozen=True, gc=False):
    """Where a record's JSON object is: `path` in `body`. Its bytes are cut when first read."""

    body: Body
    path: tuple[Step, ...] = ()

    def json_bytes(self) -> bytes | None:
        """The JSON object's own bytes (None when the body holds no value at the path)."""
        span = self.body.cut(self.path)
        return None if span is None else bytes(span)

    # Two sources are equal when they hold the same JSON, wherever it was read (as the bytes
    # they replace were): the same invoice listed and fetched by id is the same invoice.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Source):
            return NotImplemented
        if self.body is other.body and self.path == other.path:
            return True
        return self.json_bytes() == other.json_bytes()

    def __hash__(self) -> int:
        return hash(self.json_bytes())


#: The JSON name of `Record.source`: a field no API sends (and one `decode_*` overwrites).
_SOURCE = "(invoice-gateway: source)"


class Record(msgspec.Struct, kw_only=True, gc=False):
    """A provider's JSON object as a typed record (no cycles, so the collector never tracks it)."""

    #: Where the JSON object is in its body, set by `decode_object` / `decode_list`.
    source: Any = msgspec.field(default=None, name=_SOURCE)

    #: Fields holding nested records whose `source` is filled too (e.g. `("customer",)`).
    nested: ClassVar[tuple[str, ...]] = ()

    @property
    def origin(self) -> Source | None:
        """`source`, for a domain object's `raw_source` (None for a record built in code)."""
        source = self.source
        return source if isinstance(source, Source) else None

    @property
    def raw(self) -> dict[str, Any]:
        """The JSON object as received (nulls and unknown fields included), default JSON types;
        `{}` for a record built in code or nested where its place was not kept."""
        origin = self.origin
        return plain_json(None if origin is None else origin.json_bytes())


def plain_json(source: msgspec.Raw | bytes | None) -> dict[str, Any]:
    """`source` decoded with Python's `json` (the types `raw` has always had), `{}` for none."""
    if source is None:
        return {}
    value = json.loads(bytes(source))
    return value if isinstance(value, dict) else {}


def finite(provider: str, value: Decimal) -> Decimal:
    """`value`, or `ProviderBadResponse` when it is NaN or infinite (a `Decimal` read from a
    JSON string can be, and no amount is)."""
    if not value.is_finite():
        raise ProviderBadResponse(provider, f"{provider} sent an amount that is not a number")
    return value


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """`value` in UTC; a value sent without an offset is read as UTC."""
    if value is None or value.tzinfo is dt.UTC:
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


_decoders: dict[type[Any], msgspec.json.Decoder[Any]] = {}
_lists: dict[type[Any], msgspec.json.Decoder[Any]] = {}
_members: dict[str, msgspec.json.Decoder[Any]] = {}
_ARRAY: msgspec.json.Decoder[list[msgspec.Raw]] = msgspec.json.Decoder(list[msgspec.Raw])


def _decoder(model: type[R]) -> msgspec.json.Decoder[R]:
    found = _decoders.get(model)
    if found is None:
        # strict=False: numbers and booleans sent as strings are read, as a lenient reader must.
        found = _decoders[model] = msgspec.json.Decoder(model, strict=False)
    return found


def _member(name: str) -> msgspec.json.Decoder[Any]:
    """A decoder that only cuts out the bytes of member `name` of an object (decodes nothing)."""
    found = _members.get(name)
    if found is None:
        shape = msgspec.defstruct(
            "Member", [("value", msgspec.Raw, None)], rename={"value": name}, gc=False
        )
        found = _members[name] = msgspec.json.Decoder(shape)
    return found


def _attach(record: Record, body: Body, path: tuple[Step, ...]) -> None:
    # Only where each record is: nothing is cut or decoded until `raw` is read.
    record.source = Source(body, path)
    for name in record.nested:
        child = getattr(record, name)
        if isinstance(child, Record):
            _attach(child, body, (*path, name))
        elif isinstance(child, list):
            for index, item in enumerate(child):
                if isinstance(item, Record):
                    _attach(item, body, (*path, name, index))


def decode_object(model: type[R], body: bytes) -> R:
    """`body`, one JSON object, as a `model`. Raises `msgspec.DecodeError` (not JSON) or
    `msgspec.ValidationError` (not a `model`); both are `ValueError`s."""
    record = _decoder(model).decode(body)
    _attach(record, Body(body), ())
    return record


def decode_list(model: type[R], body: bytes) -> list[R]:
    """`body`, a JSON array of objects, as `model`s, each knowing its place in it. Raises as
    `decode_object` does (an element that is not an object is a `ValidationError`)."""
    found = _lists.get(model)
    if found is None:
        found = _lists[model] = msgspec.json.Decoder(list[model], strict=False)  # type: ignore[valid-type]
    records: list[R] = found.decode(body)
    shared = Body(body)
    for index, record in enumerate(records):
        _attach(record, shared, (index,))
    return records
