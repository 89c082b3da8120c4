"""ISO 4217 currencies the sandbox accepts, and their minor-unit precision.

The real server only checks that a currency code has three characters; the sandbox also
requires a known ISO 4217 code (the same 400 ``validation_error``). The codes and their minor
units are the gateway's own ISO 4217 table (`providers.currencies`).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from providers.currencies import CURRENCIES, MINOR_UNITS


def is_known(code: str) -> bool:
    """True for a known ISO 4217 code in any letter case."""
    return code.upper() in CURRENCIES


def precision(code: str) -> int:
    """Number of minor-unit digits of ``code`` (2 when unknown)."""
    return MINOR_UNITS.get(code.upper(), 2)


def round_amount(amount: Decimal, code: str) -> Decimal:
    """``amount`` rounded half-up to the currency's precision."""
    return amount.quantize(Decimal(1).scaleb(-precision(code)), rounding=ROUND_HALF_UP)
