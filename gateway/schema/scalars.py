"""The schema's own `Decimal` scalar: exact in, exact out, never exponent notation."""

from __future__ import annotations

import re
from decimal import Decimal

from strawberry.types.scalar import ScalarDefinition

__all__ = ["DECIMAL"]


def _serialize(value: object) -> str:
    # str(Decimal("2.0E+2")) is "2.0E+2": a product or quotient can come out like that.
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return format(value, "f")


_PLAIN = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?", re.ASCII)


def _parse(value: object) -> Decimal:
    # A JSON float has already lost exactness (0.1 + 0.2), so only strings and integers count;
    # and only plain notation, as the output uses: no exponents, no "1_000", no other digits.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError('a Decimal must be a string such as "12.50", or an integer')
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 64 or not _PLAIN.fullmatch(text):
            raise ValueError(f"{value[:64]!r} is not a plain decimal number such as 12.50")
        number = Decimal(text)
    else:
        number = Decimal(value)
    return number.copy_abs() if number.is_zero() else number  # no "-0"


DECIMAL = ScalarDefinition(
    name="Decimal",
    description='An exact decimal number as a string, e.g. "1234.50": plain notation (digits, '
    "an optional sign and decimal point; never exponents), major units for money. Input takes "
    "such a string or an integer, never a float.",
    specified_by_url=None,
    serialize=_serialize,
    parse_value=_parse,
    parse_literal=None,
    origin=Decimal,
)
