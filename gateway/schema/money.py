"""Money and currencies as the schema shows them (formatting is presentation: the gateway's)."""

from __future__ import annotations

import copy
import decimal
import functools
from collections.abc import Callable
from decimal import Decimal

import strawberry
from babel import Locale
from babel.numbers import (
    NumberPattern,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
)

from providers import models
from providers.currencies import minor_units

__all__ = ["Money", "padded"]

#: Wide enough for any amount a provider or an input holds (Babel computes in the current context).
_WIDE = decimal.Context(prec=100)


def padded(amount: Decimal, currency: str) -> Decimal:
    """`amount` with trailing zeros up to the ISO 4217 minor units of `currency` (never fewer
    digits: nothing is rounded); as it is when the currency is not an ISO 4217 code."""
    digits = minor_units(currency)
    exponent = amount.as_tuple().exponent
    if digits is not None and isinstance(exponent, int) and exponent > -digits:
        # Zeros only, in a context wider than the default's 28 digits (which raise
        # InvalidOperation for a longer amount); one past even that is shown as it came.
        try:
            return amount.quantize(Decimal(1).scaleb(-digits), context=_WIDE)
        except decimal.InvalidOperation:
            return amount
    return amount


@functools.lru_cache(maxsize=256)
def _formatter(locale_name: str, currency: str) -> Callable[[Decimal], str]:
    """Babel's currency pattern of the locale, showing the ISO 4217 minor units (CLDR's own
    digits are a display habit that changes between releases: IDR lost its two), made once per
    (locale, currency): compiled to a few string operations where `_compile` can, else Babel's
    own `apply`. Both give the same text (tests/gateway/test_money.py compares them)."""
    locale = Locale.parse(locale_name)
    pattern = copy.copy(locale.currency_formats["standard"])
    digits = minor_units(currency) or 0
    pattern.frac_prec = (digits, digits)

    def babel(amount: Decimal) -> str:
        # decimal_quantization=False: never round an exact amount for display, only pad it;
        # and room for every digit an amount can have (the default context rounds past 28).
        with decimal.localcontext(_WIDE):
            return str(
                pattern.apply(
                    amount,
                    locale,
                    currency=currency,
                    currency_digits=False,
                    decimal_quantization=False,
                )
            )

    compiled = _compile(pattern, locale, currency, digits)
    if compiled is None:
        return babel

    def format_amount(amount: Decimal) -> str:
        try:
            return compiled(amount)
        except (ArithmeticError, ValueError):  # not finite, too many digits: Babel's own word
            return babel(amount)

    return format_amount


def _compile(
    pattern: NumberPattern, locale: Locale, currency: str, digits: int
) -> Callable[[Decimal], str] | None:
    """What `NumberPattern.apply(amount, locale, currency=currency, currency_digits=False,
    decimal_quantization=False)` does for a plain currency pattern, with the locale's symbols,
    the currency's sign and the affixes worked out once: Babel looks them all up again (and the
    currency's plural names, used or not) for every amount. None for what it does not cover
    (scientific or significant-digit patterns, a scale, a plural currency name, quotes)."""
    if pattern.scale or pattern.exp_prec or "@" in pattern.pattern or not pattern.number_pattern:
        return None
    decimal_symbol, group_symbol = get_decimal_symbol(locale), get_group_symbol(locale)
    affixes = []
    for text in (*pattern.prefix, *pattern.suffix):
        if "¤¤¤" in text:
            return None  # the currency's name, in the plural form the amount needs
        text = text.replace("¤¤", currency.upper()).replace(
            "¤", get_currency_symbol(currency, locale)
        )
        affixes.append(text)
    # Babel strips quotes from the whole text, number included: only compile without any.
    if any("'" in text or "¤" in text for text in (*affixes, decimal_symbol, group_symbol)):
        return None
    prefix, suffix = affixes[:2], affixes[2:]
    int_min = pattern.int_prec[0]
    first_group, other_groups = pattern.grouping

    def group(integer: str) -> str:
        if len(integer) < int_min:
            integer = "0" * (int_min - len(integer)) + integer
        size, out = first_group, ""
        while len(integer) > size:
            out = group_symbol + integer[-size:] + out
            integer = integer[:-size]
            size = other_groups
        return integer + out

    def compiled(amount: Decimal) -> str:
        if not amount.is_finite():
            raise ValueError("not finite")
        negative = int(amount.is_signed())
        # Plain notation, exact: then the decimals the amount needs, padded to the currency's.
        whole, _, fraction = format(amount.copy_abs(), "f").partition(".")
        fraction = fraction.rstrip("0")
        if len(fraction) < digits:
            fraction += "0" * (digits - len(fraction))
        if fraction:
            fraction = decimal_symbol + fraction
        return prefix[negative] + group(whole) + fraction + suffix[negative]

    return compiled


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
