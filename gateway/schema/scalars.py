"""The schema's own `Decimal` scalar: exact in, exact out, never exponent notation."""

from __future__ import annotations

import decimal
from decimal import Decimal

from strawberry.types.scalar import ScalarDefinition

__all__ = ["DECIMAL"]


def _serialize(value: object) -> str:
    # str(Decimal("2.0E+2")) is "2.0E+2": a product or quotient can come out like that.
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return format(value, "f")


def _parse(value: object) -> Decimal:
    # A JSON float has already lost exactness (0.1 + 0.2), so only strings and integers count.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError('a Decimal must be a string such as "12.50", or an integer')
    try:
        return Decimal(value.strip() if isinstance(value, str) else value)
    except decimal.InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number such as 12.50") from None


DECIMAL = ScalarDefinition(
    name="Decimal",
    description='An exact decimal number as a string, e.g. "1234.50": plain notation (never '
    "exponents), major units for money. Input takes a string or an integer, never a float.",
    specified_by_url=None,
    serialize=_serialize,
    parse_value=_parse,
    parse_literal=None,
    origin=Decimal,
)
