"""Money and currencies as the schema shows them (formatting is presentation: the gateway's)."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from babel.numbers import format_currency, get_currency_precision, list_currencies

from providers import models

__all__ = ["ISO_CURRENCIES", "Money", "currency_precision"]

#: Every ISO 4217 code Babel (CLDR) knows, upper-case.
ISO_CURRENCIES = frozenset(code.upper() for code in list_currencies())


def currency_precision(currency: str) -> int:
    """Minor-unit digits of `currency` (2 for USD, 0 for JPY, 3 for BHD)."""
    return int(get_currency_precision(currency))


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
                self.amount, self.currency, locale=self.locale, decimal_quantization=False
            )
        )

    @classmethod
    def of(cls, money: models.Money | None, locale: str) -> Money | None:
        if money is None:
            return None
        return cls(amount=money.amount, currency=money.currency, locale=locale)
