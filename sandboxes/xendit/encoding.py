"""JSON in and out with exact money: ``Decimal`` is read from and written as a JSON number.

``dumps`` writes a ``Decimal`` as its own digits (never through ``float``), so ``4550.5``
stays ``4550.5`` and ``50000`` stays ``50000``. ``loads_object`` reads every number with a
fraction as ``Decimal`` and refuses anything but a JSON object.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Mapping, Sequence
from decimal import Decimal

JSONObject = dict[str, object]

#: What `json.dumps(text, ensure_ascii=False)` writes for a string, without its set-up.
_escape = json.encoder.encode_basestring


class MalformedBody(Exception):
    """The request body is not a JSON object."""


def number_text(value: Decimal) -> str:
    """A finite ``Decimal`` as JSON number text without exponent or trailing zeros."""
    if not value.is_finite():
        raise ValueError(f"cannot encode {value} as a JSON number")
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def _encode(value: object, out: list[str]) -> None:
    # The common types first, by exact type (an ABC's isinstance costs ten times more), each
    # string through the C escaper `json.dumps(..., ensure_ascii=False)` itself uses.
    kind = type(value)
    if kind is str:
        out.append(_escape(value))  # type: ignore[arg-type]
    elif kind is dict:
        _encode_object(value, out)  # type: ignore[arg-type]
    elif kind is list:
        _encode_array(value, out)  # type: ignore[arg-type]
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, Decimal):
        out.append(number_text(value))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, str):
        out.append(_escape(value))
    elif isinstance(value, Mapping):
        _encode_object(value, out)
    elif isinstance(value, Sequence):
        _encode_array(value, out)
    else:
        # A float here would be a money bug: refuse it rather than round silently.
        raise TypeError(f"cannot encode {type(value).__name__} as sandbox JSON")


def _encode_object(value: Mapping[object, object], out: list[str]) -> None:
    out.append("{")
    first = True
    for key, item in value.items():
        if not first:
            out.append(",")
        first = False
        out.append(_escape(str(key)))
        out.append(":")
        _encode(item, out)
    out.append("}")


def _encode_array(value: Sequence[object], out: list[str]) -> None:
    out.append("[")
    first = True
    for item in value:
        if not first:
            out.append(",")
        first = False
        _encode(item, out)
    out.append("]")


def dumps(value: object) -> bytes:
    """Compact UTF-8 JSON; ``Decimal`` as an exact number, ``float`` refused."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out).encode()


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
