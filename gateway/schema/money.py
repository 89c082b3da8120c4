"""Money and currencies as the schema shows them (formatting is presentation: the gateway's)."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from decimal import Decimal

import strawberry
from babel import Locale

from providers import models
from providers.currencies import minor_units

__all__ = ["Money", "padded"]


def padded(amount: Decimal, currency: str) -> Decimal:
    """`amount` with trailing zeros up to the ISO 4217 minor units of `currency` (never fewer
    digits: nothing is rounded); as it is when the currency is not an ISO 4217 code."""
    digits = minor_units(currency)
    exponent = amount.as_tuple().exponent
    if digits is not None and isinstance(exponent, int) and exponent > -digits:
        return amount.quantize(Decimal(1).scaleb(-digits))  # adds zeros only
    return amount


@functools.lru_cache(maxsize=256)
def _formatter(locale_name: str, currency: str) -> Callable[[Decimal], str]:
    """Babel's currency pattern of the locale, compiled once, showing the ISO 4217 minor units
    (CLDR's own digits are a display habit that changes between releases: IDR lost its two)."""
    locale = Locale.parse(locale_name)
    pattern = copy.copy(locale.currency_formats["standard"])
    digits = minor_units(currency) or 0
    pattern.frac_prec = (digits, digits)

    def format_amount(amount: Decimal) -> str:
        # decimal_quantization=False: never round an exact amount for display, only pad it.
        return str(
            pattern.apply(
                amount, locale, currency=currency, currency_digits=False, decimal_quantization=False
            )
        )

    return format_amount


@strawberry.type(description="An exact amount of money in one currency.")
class Money:
    amount: Decimal = strawberry.field(
        description="The amount in major units (dollars, not cents), exact, as a decimal string."
    )
    currency: str = strawberry.field(description="ISO 4217 currency code, upper-case (e.g. USD).")
    locale: strawberry.Private[str]

    @strawberry.field(
        description="The amount formatted for display in the gateway's locale, e.g. $1,234.50. "
        "Never round-trip it: use `amount`."
    )
    def formatted(self) -> str:
        return _formatter(self.locale, self.currency)(self.amount)

    @classmethod
    def of(cls, money: models.Money | None, locale: str) -> Money | None:
        """The schema's Money: the amount padded to the currency's minor units (120.5 USD reads
        120.50, whichever provider sent it), never rounded (0.125 USD stays 0.125)."""
        if money is None:
            return None
        return cls(
            amount=padded(money.amount, money.currency), currency=money.currency, locale=locale
        )
