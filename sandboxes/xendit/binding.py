"""Reading request fields: each helper returns the typed value or raises 400
``API_VALIDATION_ERROR`` naming the field, as Xendit's validator does. ``null`` reads as
absent. Numbers arrive as ``int`` or ``Decimal`` (see ``encoding.loads_object``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

from . import errors

JSONObject = dict[str, object]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_email(text: str) -> bool:
    """A plausible e-mail address (one ``@``, a dot in the domain, no spaces)."""
    return _EMAIL.match(text) is not None


def opt_str(obj: Mapping[str, object], key: str, *, max_length: int | None = None) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise errors.validation(f'"{key}" must be a string')
    if max_length is not None and len(value) > max_length:
        raise errors.validation(
            f'"{key}" length must be less than or equal to {max_length} characters long'
        )
    return value


def req_str(obj: Mapping[str, object], key: str, *, max_length: int | None = None) -> str:
    value = opt_str(obj, key, max_length=max_length)
    if value is None:
        raise errors.validation(f'"{key}" is required')
    if not value.strip():
        raise errors.validation(f'"{key}" is not allowed to be empty')
    return value


def opt_bool(obj: Mapping[str, object], key: str) -> bool | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise errors.validation(f'"{key}" must be a boolean')
    return value


def to_number(value: object, key: str) -> Decimal:
    """A JSON number as an exact ``Decimal`` (``50000`` and ``50000.0`` alike)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise errors.validation(f'"{key}" must be a number')
    number = Decimal(value)
    if not number.is_finite():
        raise errors.validation(f'"{key}" must be a number')
    return number


def opt_number(obj: Mapping[str, object], key: str) -> Decimal | None:
    value = obj.get(key)
    return None if value is None else to_number(value, key)


def req_number(obj: Mapping[str, object], key: str) -> Decimal:
    value = obj.get(key)
    if value is None:
        raise errors.validation(f'"{key}" is required')
    return to_number(value, key)


def opt_object(obj: Mapping[str, object], key: str) -> JSONObject | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise errors.validation(f'"{key}" must be an object')
    return value


def opt_objects(obj: Mapping[str, object], key: str) -> list[JSONObject] | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise errors.validation(f'"{key}" must be an array of objects')
    return [v for v in value if isinstance(v, dict)]


def opt_str_list(obj: Mapping[str, object], key: str) -> list[str] | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise errors.validation(f'"{key}" must be an array of strings')
    return [str(v) for v in value]


def parse_time(text: str, key: str) -> datetime:
    """An ISO 8601 timestamp (``Z`` or an offset; naive reads as UTC) as aware UTC."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise errors.validation(f'"{key}" must be a valid ISO 8601 date') from exc
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
