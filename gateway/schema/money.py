"""Money and currencies as the schema shows them (formatting is presentation: the gateway's)."""

from __future__ import annotations

import functools
from decimal import Decimal

import strawberry
from babel import Locale
from babel.numbers import format_currency, get_currency_precision, list_currencies

from providers import models

__all__ = ["ISO_CURRENCIES", "Money", "currency_precision", "padded"]

#: Every ISO 4217 code Babel (CLDR) knows, upper-case.
ISO_CURRENCIES = frozenset(code.upper() for code in list_currencies())


@functools.lru_cache(maxsize=64)
def _locale(name: str) -> Locale:
    # format_currency parses a locale name on every call: a quarter of its time.
    return Locale.parse(name)


def currency_precision(currency: str) -> int:
    """Minor-unit digits of `currency` (2 for USD, 0 for JPY, 3 for BHD)."""
    return int(get_currency_precision(currency))


def padded(amount: Decimal, currency: str) -> Decimal:
    digits = currency_precision(currency)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -digits:
        return amount.quantize(Decimal(1).scaleb(-digits))  # adds zeros only
    return amount


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
        # decimal_quantization=False: never round an exact amount for display, only pad it.
        return str(
            format_currency(
                self.amount,
                self.currency,
                locale=_locale(self.locale),
                decimal_quantization=False,
            )
        )

    @classmethod
    def of(cls, money: models.Money | None, locale: str) -> Money | None:
        """The schema's Money: the amount padded to the currency's minor units (120.5 USD reads
        120.50, whichever provider sent it), never rounded (0.125 USD stays 0.125)."""
        if money is None:
            return None
        return cls(
            amount=padded(money.amount, money.currency), currency=money.currency, locale=locale
        )
