"""The schema's own scalars: `Decimal` (exact in, exact out, never exponent notation) and
`DateTime` (ISO 8601; read as UTC without an offset, and only within what providers can store)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from strawberry.types.scalar import ScalarDefinition

__all__ = ["DATETIME", "DECIMAL"]


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


#: The instants a DateTime input may name. Outside them a conversion to UTC can overflow (year 1
#: with an offset east of UTC, year 9999 west of it) and no invoice date makes sense.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


def _parse_datetime(value: object) -> dt.datetime:
    # Every provider adapter gets an aware value: "no offset means UTC" is decided here, once.
    example = "such as 2026-11-30T12:00:00Z"
    if not isinstance(value, str):
        raise ValueError(f"a DateTime must be an ISO 8601 string {example}")
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value[:64]!r} is not an ISO 8601 date and time {example}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        in_range = EARLIEST <= moment.astimezone(dt.UTC) < LATEST
    except OverflowError:
        in_range = False
    if not in_range:
        raise ValueError(f"{value[:64]!r} is out of range: from 1970 to 9998 (UTC)")
    return moment


DATETIME = ScalarDefinition(
    name="DateTime",
    description="A date and time in ISO 8601, e.g. 2026-11-30T12:00:00Z. Input without an offset "
    "is UTC, and must fall in the years 1970 to 9998 (UTC).",
    specified_by_url=None,
    serialize=lambda value: value.isoformat(),
    parse_value=_parse_datetime,
    parse_literal=None,
    origin=dt.datetime,
)
