"""Xendit's invoice currencies, their precision and the amount limits the sandbox enforces.

The currency list is the SDK's ``InvoiceCurrency``. IDR decimals are truncated as Xendit
documents; VND (no minor unit either) is treated the same way. The per-currency minimum and
maximum are the sandbox's choice (the SDK gives none): a lower amount is 400
``API_VALIDATION_ERROR``, a higher one 400 ``MAXIMUM_TRANSFER_AMOUNT_ERROR``.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

CURRENCIES = ("IDR", "USD", "THB", "VND", "PHP", "MYR")
DEFAULT_CURRENCY = "IDR"

_PRECISION = {"IDR": 0, "VND": 0, "USD": 2, "THB": 2, "PHP": 2, "MYR": 2}
#: (minimum, maximum) invoice amount per currency, in major units.
LIMITS: dict[str, tuple[Decimal, Decimal]] = {
    "IDR": (Decimal(1), Decimal(1_000_000_000)),
    "VND": (Decimal(1000), Decimal(1_000_000_000)),
    "PHP": (Decimal(1), Decimal(10_000_000)),
    "USD": (Decimal("0.01"), Decimal(100_000)),
    "THB": (Decimal(1), Decimal(3_000_000)),
    "MYR": (Decimal(1), Decimal(500_000)),
}


def precision(currency: str) -> int:
    """Decimal places an amount in ``currency`` may carry."""
    return _PRECISION[currency]


def truncates(currency: str) -> bool:
    """True when extra decimals are cut off (IDR, VND) rather than refused."""
    return _PRECISION[currency] == 0


def truncate(amount: Decimal, currency: str) -> Decimal:
    """``amount`` cut toward zero to the currency's precision (IDR 4550.50 -> 4550)."""
    return amount.quantize(Decimal(1).scaleb(-precision(currency)), rounding=ROUND_DOWN)


def has_excess_decimals(amount: Decimal, currency: str) -> bool:
    """True when ``amount`` has more decimal places than the currency allows."""
    return truncate(amount, currency) != amount
