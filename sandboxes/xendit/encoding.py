"""JSON in and out with exact money: ``Decimal`` is read from and written as a JSON number.

``dumps`` writes a ``Decimal`` as its own digits (never through ``float``), so ``4550.5``
stays ``4550.5`` and ``50000`` stays ``50000``. ``loads_object`` reads every number with a
fraction as ``Decimal`` and refuses anything but a JSON object.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal

import msgspec

JSONObject = dict[str, object]


class MalformedBody(Exception):
    """The request body is not a JSON object."""


def number_text(value: Decimal) -> str:
    """A finite ``Decimal`` as JSON number text without exponent or trailing zeros."""
    if not value.is_finite():
        raise ValueError(f"cannot encode {value} as a JSON number")
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def _exact(value: object) -> object:
    """`value` with every `Decimal` as the raw digits of a JSON number (`number_text`) and
    every other mapping and sequence as a dict and a list, for msgspec to write; a float, or
    any type JSON has no word for, refused (a float here would be a money bug)."""
    # The common types first, by exact type (an ABC's isinstance costs ten times more).
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None or kind is msgspec.Raw:
        return value  # a Raw is JSON written already
    if kind is dict:
        return {key: _exact(item) for key, item in value.items()}  # type: ignore[attr-defined]
    if kind is list:
        return [_exact(item) for item in value]  # type: ignore[attr-defined]
    if isinstance(value, Decimal):
        return msgspec.Raw(number_text(value).encode())
    if isinstance(value, str | int):
        return value
    if isinstance(value, Mapping):
        return {str(key): _exact(item) for key, item in value.items()}
    if isinstance(value, Sequence):
        return [_exact(item) for item in value]
    raise TypeError(f"cannot encode {type(value).__name__} as sandbox JSON")


def dumps(value: object) -> bytes:
    """Compact UTF-8 JSON; ``Decimal`` as an exact number, ``float`` refused. Written by
    msgspec (strings escaped as ``json.dumps(..., ensure_ascii=False)`` does)."""
    return msgspec.json.encode(_exact(value))


def _reject_constant(name: str) -> object:
    raise ValueError(f"invalid JSON constant {name}")


def loads_object(raw: bytes) -> JSONObject:
    """The body as a JSON object, numbers with a fraction as ``Decimal``.

    Raises :class:`MalformedBody` for an empty body, invalid JSON or a non-object.
    """
    if not raw.strip():
        raise MalformedBody("empty body")
    try:
        value = json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedBody("malformed JSON") from exc
    if not isinstance(value, dict):
        raise MalformedBody("body is not a JSON object")
    return value
