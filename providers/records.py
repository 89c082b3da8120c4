"""Provider responses decoded once, from bytes to typed records, in C (msgspec).

A provider's `wire.py` declares its responses as `Record`s: every field optional (`X | None =
None`, so `null` and absence read the same), unknown fields ignored (they stay in `raw`), money
`Decimal` straight from the JSON text (a string or a number, never through a float), timestamps
`datetime` (pass them through `utc` before they reach the domain: a value sent without an offset
is read as UTC). Nothing calls back into Python while a body is decoded.

Each record keeps the bytes of the JSON object it was read from (`source`), and decodes them
with Python's `json` (default types: what `raw` always served) only when `raw` is asked for.
`decode_object` and `decode_list` fill `source` for the records they return and for the nested
records their `nested` names (an invoice's embedded customer); other nested records have none.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import msgspec

from providers.errors import ProviderBadResponse

__all__ = ["Record", "decode_list", "decode_object", "finite", "plain_json", "utc"]

R = TypeVar("R", bound="Record")

#: The JSON name of `Record.source`: a field no API sends (and one `decode_*` overwrites).
_SOURCE = "(invoice-gateway: source)"


class Record(msgspec.Struct, kw_only=True, gc=False):
    """A provider's JSON object as a typed record (no cycles, so the collector never tracks it)."""

    #: The JSON object's own bytes, set by `decode_object` / `decode_list`.
    source: msgspec.Raw | None = msgspec.field(default=None, name=_SOURCE)

    #: Fields holding nested records whose `source` is filled too (e.g. `("customer",)`).
    nested: ClassVar[tuple[str, ...]] = ()

    @property
    def source_bytes(self) -> bytes | None:
        """`source` as `bytes` of its own (for a domain object's `raw_json`)."""
        return None if self.source is None else bytes(self.source)

    @property
    def raw(self) -> dict[str, Any]:
        """The JSON object as received (nulls and unknown fields included), default JSON types;
        `{}` for a record built in code or nested where its bytes were not kept."""
        return plain_json(self.source)


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
_span_decoders: dict[type[Any], msgspec.json.Decoder[Any]] = {}
_ARRAY: msgspec.json.Decoder[list[msgspec.Raw]] = msgspec.json.Decoder(list[msgspec.Raw])


def _decoder(model: type[R]) -> msgspec.json.Decoder[R]:
    found = _decoders.get(model)
    if found is None:
        # strict=False: numbers and booleans sent as strings are read, as a lenient reader must.
        found = _decoders[model] = msgspec.json.Decoder(model, strict=False)
    return found


def _spans(model: type[Record]) -> msgspec.json.Decoder[Any]:
    """A decoder that only cuts out the bytes of `model.nested`'s values (decodes nothing)."""
    found = _span_decoders.get(model)
    if found is None:
        shape = msgspec.defstruct(
            f"{model.__name__}Spans",
            [(name, msgspec.Raw, None) for name in model.nested],
            gc=False,
        )
        found = _span_decoders[model] = msgspec.json.Decoder(shape)
    return found


def _attach(record: Record, source: msgspec.Raw) -> None:
    record.source = source
    if not record.nested:
        return
    spans = _spans(type(record)).decode(source)
    for name in record.nested:
        child, span = getattr(record, name), getattr(spans, name)
        if span is None:
            continue
        if isinstance(child, Record):
            _attach(child, span)
        elif isinstance(child, list):
            for item, item_span in zip(child, _ARRAY.decode(span), strict=True):
                if isinstance(item, Record):
                    _attach(item, item_span)


def decode_object(model: type[R], body: bytes) -> R:
    """`body`, one JSON object, as a `model`. Raises `msgspec.DecodeError` (not JSON) or
    `msgspec.ValidationError` (not a `model`); both are `ValueError`s."""
    record = _decoder(model).decode(body)
    _attach(record, msgspec.Raw(body))
    return record


def decode_list(model: type[R], body: bytes | msgspec.Raw) -> list[R]:
    """`body`, a JSON array of objects, as `model`s, each keeping its own bytes. Raises as
    `decode_object` does (an element that is not an object is a `ValidationError`)."""
    decoder = _decoder(model)
    records: list[R] = []
    for span in _ARRAY.decode(body):
        record = decoder.decode(span)
        _attach(record, span)
        records.append(record)
    return records
