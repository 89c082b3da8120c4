"""The ``filters`` DSL and ``sort`` conditions shared by invoice and customer searches.

A condition whose operator has no matching value (wrong value key, empty ``array``, the
unimplemented ``gte``, an unknown operator) is silently dropped, widening the result as the
server does. A ``field`` that is not a column is a 400.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from . import errors
from .binding import (
    BindError,
    JSONObject,
    opt_bool,
    opt_decimal,
    opt_objects,
    opt_str,
    opt_str_list,
    opt_time,
)

Scalar = str | Decimal | int | bool | datetime | None
Columns = Mapping[str, Callable[[object], Scalar]]


@dataclass(frozen=True)
class Condition:
    field: str
    operator: str
    string: str | None
    number: Decimal | None
    boolean: bool | None
    date: datetime | None
    array: list[str] | None


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool


def bind_conditions(body: JSONObject) -> list[Condition]:
    """``filters``: each entry's value object typed; unknown keys are ignored."""
    out = []
    for entry in opt_objects(body, "filters") or []:
        value = entry.get("value") or {}
        if not isinstance(value, dict):
            raise BindError("filter value must be an object")
        out.append(
            Condition(
                field=opt_str(entry, "field") or "",
                operator=opt_str(entry, "operator") or "",
                string=opt_str(value, "string"),
                number=opt_decimal(value, "number"),
                boolean=opt_bool(value, "boolean"),
                date=opt_time(value, "date"),
                array=opt_str_list(value, "array"),
            )
        )
        opt_str(entry, "data_type")
    return out


def bind_sort(body: JSONObject) -> list[tuple[str, str]]:
    """``sort``: (field, direction) pairs, checked later against the entity's columns."""
    return [
        (opt_str(entry, "field") or "", opt_str(entry, "direction") or "asc")
        for entry in opt_objects(body, "sort") or []
    ]


def check_fields(
    entity: str, columns: Columns, conditions: list[Condition], sort: list[tuple[str, str]]
) -> list[SortKey]:
    """400 for a field that is not a column; the sort keys, validated."""
    for name in [c.field for c in conditions] + [name for name, _ in sort]:
        if name not in columns:
            raise errors.validation(f"unknown field name '{name}' in {entity} query")
    keys = []
    for name, direction in sort:
        if direction not in ("asc", "desc"):
            raise errors.validation("invalid filter parameters", details={"direction": direction})
        keys.append(SortKey(name, direction == "desc"))
    return keys


def _coerce(raw: object, like: Scalar) -> Scalar:
    """The filter value converted to the column's kind, for comparison."""
    try:
        if isinstance(like, bool):
            return raw if isinstance(raw, bool) else str(raw).lower() == "true"
        if isinstance(like, Decimal | int):
            return Decimal(str(raw))
    except ArithmeticError as exc:
        raise errors.validation(f"invalid filter value {raw!r}") from exc
    if isinstance(like, datetime):
        if isinstance(raw, datetime):
            return raw
        raise errors.validation(f"invalid filter value {raw!r} for a time column")
    return str(raw)


def _compare(column: Scalar, raw: object, op: str) -> bool:
    if column is None:
        return False  # SQL: NULL matches no comparison
    value = _coerce(raw, column)
    left: object = (
        Decimal(column) if isinstance(column, int) and not isinstance(column, bool) else column
    )
    # After _coerce both sides are of the column's kind, so they compare.
    try:
        if op == "eq":
            return left == value
        if op == "gt":
            return left > value  # type: ignore[operator]
        if op == "lt":
            return left < value  # type: ignore[operator]
    except TypeError as exc:
        raise errors.validation("filter value does not match the column type") from exc
    raise AssertionError(op)


def _matches(cond: Condition, column: Scalar) -> bool | None:
    """The condition's verdict on one value, or None when the condition is dropped."""
    op = cond.operator
    if op == "eq":
        for raw in (cond.string, cond.number, cond.boolean, cond.date):
            if raw is not None:
                return _compare(column, raw, "eq")
        if cond.array:
            return column is not None and str(column) in cond.array
        return None
    if op in ("contains", "not_contains"):
        if cond.string is None:
            return None
        if column is None:
            return False
        found = cond.string.lower() in str(column).lower()
        return found if op == "contains" else not found
    if op in ("gt", "lt"):
        return None if cond.number is None else _compare(column, cond.number, op)
    if op in ("in", "not_in"):
        if not cond.array:
            return None
        if column is None:
            return False
        values = {_coerce(v, column) for v in cond.array}
        inside = _coerce(column, column) in values
        return inside if op == "in" else not inside
    if op in ("before", "after"):
        if cond.date is None:
            return None
        return _compare(column, cond.date, "lt" if op == "before" else "gt")
    return None  # gte and unknown operators: dropped


def apply(records: list[object], columns: Columns, conditions: list[Condition]) -> list[object]:
    """The records every non-dropped condition accepts (conditions are ANDed)."""
    out = []
    for record in records:
        verdicts = (_matches(c, columns[c.field](record)) for c in conditions)
        if all(v is not False for v in verdicts):
            out.append(record)
    return out


def order(records: list[object], columns: Columns, keys: list[SortKey]) -> list[object]:
    """Sorted by ``keys`` then by id; NULLs last ascending and first descending (PostgreSQL)."""
    ordered = sorted(records, key=lambda r: str(columns["id"](r)), reverse=keys[-1].descending)
    for key in reversed(keys):
        getter = columns[key.field]
        present = [r for r in ordered if getter(r) is not None]
        missing = [r for r in ordered if getter(r) is None]
        # One column holds one comparable kind (text, number, time or flag).
        present.sort(key=lambda r, g=getter: g(r), reverse=key.descending)  # type: ignore[misc]
        ordered = missing + present if key.descending else present + missing
    return ordered
