"""Reading JSON bodies and query strings the way gin binds them into Go structs.

A body that is not JSON, or a field of the wrong JSON type (an unparsable decimal or time
included), raises :class:`BindError`; each route turns it into its own 400 message. Unknown
fields are ignored and ``null`` reads as "absent", as Go's ``encoding/json`` does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from starlette.datastructures import QueryParams

JSONObject = dict[str, object]

_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$"
)


class BindError(Exception):
    """The request could not be bound (malformed JSON or a wrongly typed field)."""


def _reject_constant(name: str) -> object:
    raise ValueError(f"invalid JSON constant {name}")


def parse_object(raw: bytes, *, empty_ok: bool = False) -> JSONObject:
    """The body as a JSON object (numbers with a fraction as ``Decimal``).

    An empty body is ``{}`` when ``empty_ok``, else a :class:`BindError` (gin's EOF).
    """
    if not raw.strip():
        if empty_ok:
            return {}
        raise BindError("empty body")
    try:
        value = json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BindError("malformed JSON") from exc
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BindError("body is not a JSON object")
    return value


def parse_time(text: str) -> datetime:
    """An RFC 3339 timestamp as an aware UTC datetime (fraction truncated to microseconds)."""
    match = _RFC3339.match(text)
    if match is None:
        raise BindError(f"invalid time {text!r}")
    date, clock, fraction, zone = match.groups()
    micro = (fraction or "")[:6].ljust(6, "0")
    zone = "+00:00" if zone in ("Z", "z") else zone
    try:
        parsed = datetime.fromisoformat(f"{date}T{clock}.{micro}{zone}")
    except ValueError as exc:
        raise BindError(f"invalid time {text!r}") from exc
    return parsed.astimezone(UTC)


#: Every decimal FlexPrice stores is a Postgres ``numeric(20,8)``: at most 12 integer digits.
#: Larger values cannot be stored, and past 28 digits ``Decimal.quantize`` fails outright.
DECIMAL_LIMIT = Decimal(10) ** 12


def to_decimal(value: object) -> Decimal:
    """A JSON string or number as a finite ``Decimal`` (shopspring accepts both forms).

    A value of ``DECIMAL_LIMIT`` or more in magnitude raises :class:`BindError`, as an
    unparsable one does, so every route answers it with 400 ``validation_error``.
    """
    if isinstance(value, bool):
        raise BindError("boolean is not a decimal")
    if isinstance(value, int | Decimal):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation as exc:
            raise BindError(f"invalid decimal {value!r}") from exc
    else:
        raise BindError("not a decimal")
    if not result.is_finite():
        raise BindError("decimal is not finite")
    if result.copy_abs() >= DECIMAL_LIMIT:  # copy_abs: exact, unlike abs()
        raise BindError("decimal out of range")
    return result


def opt_str(obj: Mapping[str, object], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BindError(f"{key} must be a string")
    return value


def opt_bool(obj: Mapping[str, object], key: str) -> bool | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise BindError(f"{key} must be a boolean")
    return value


def opt_int(obj: Mapping[str, object], key: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BindError(f"{key} must be an integer")
    return value


def opt_decimal(obj: Mapping[str, object], key: str) -> Decimal | None:
    value = obj.get(key)
    return None if value is None else to_decimal(value)


def opt_time(obj: Mapping[str, object], key: str) -> datetime | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BindError(f"{key} must be an RFC 3339 string")
    return parse_time(value)


def opt_str_list(obj: Mapping[str, object], key: str) -> list[str] | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BindError(f"{key} must be an array of strings")
    return [str(v) for v in value]


def opt_metadata(obj: Mapping[str, object], key: str) -> dict[str, str] | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise BindError(f"{key} must be an object of strings")
    return {str(k): str(v) for k, v in value.items()}


def opt_objects(obj: Mapping[str, object], key: str) -> list[JSONObject] | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        raise BindError(f"{key} must be an array")
    out: list[JSONObject] = []
    for item in value:
        if item is None:
            out.append({})
        elif isinstance(item, dict):
            out.append(item)
        else:
            raise BindError(f"{key} must be an array of objects")
    return out


def query_bool(text: str) -> bool:
    """A query-string boolean as Go's ``strconv.ParseBool`` reads it."""
    lowered = text.strip()
    if lowered in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if lowered in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    raise BindError(f"invalid boolean {text!r}")


def query_int(text: str) -> int:
    """A query-string integer (base 10)."""
    try:
        return int(text.strip(), 10)
    except ValueError as exc:
        raise BindError(f"invalid integer {text!r}") from exc


# The list filters' fields by kind, for query-string binding.
_LISTS = {"invoice_ids", "subscription_customer_id", "invoice_status", "payment_status"}
_LISTS |= {"customer_ids", "external_ids"}
_INTS = {"limit", "offset"}
_BOOLS = {"skip_line_items"}
_NUMBERS = {"amount_due_gt", "amount_remaining_gt"}
# Structured fields cannot come from a query string; form binding leaves them empty.
_UNBINDABLE = {"filters", "sort", "metadata"}


def query_to_body(params: QueryParams) -> JSONObject:
    """A list filter's query string as the JSON body gin's form binding would produce.

    Array fields come as repeated keys, numbers and booleans are parsed, empty values skipped.

    ``limit=0`` means "default", as the list handler treats it.
    """
    body: JSONObject = {}
    for key in params:
        values = params.getlist(key)
        if key in _UNBINDABLE:
            continue
        if key in _LISTS:
            body[key] = [v for v in values if v != ""]
        elif key in _INTS:
            number = query_int(values[0])
            if not (key == "limit" and number == 0):
                body[key] = number
        elif key in _BOOLS:
            body[key] = query_bool(values[0])
        elif key in _NUMBERS:
            body[key] = to_decimal(values[0])
        elif values[0] != "":
            body[key] = values[0]
    return body
