"""`Money` as the schema shows it: amounts padded to ISO 4217 minor units, never rounded, and a
`formatted` text that shows the same digits whatever the locale library's own habits."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from babel import Locale
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.schema.money import Money, _formatter, padded
from providers import models
from providers.currencies import minor_units


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("75000", "IDR", "75000.00"),
        ("4550.5", "IDR", "4550.50"),
        ("120.5", "USD", "120.50"),
        ("0.125", "USD", "0.125"),  # never rounded
        ("1000", "JPY", "1000"),
        ("1.2", "BHD", "1.200"),
        ("7", "XYZ", "7"),  # not ISO 4217: as the provider sent it
        # Past the default context's 28 digits (which raised InvalidOperation), and past even
        # the wide context's 100: padded, then as it came.
        ("1" * 30 + ".5", "USD", "1" * 30 + ".50"),
        ("9" * 120, "USD", "9" * 120),
    ],
)
def test_amounts_are_padded_to_iso_minor_units_only(
    amount: str, currency: str, expected: str
) -> None:
    assert str(padded(Decimal(amount), currency)) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "digits"),
    [
        ("75000", "IDR", "en_US", "75,000.00"),
        ("4550.5", "IDR", "en_US", "4,550.50"),
        ("4550.5", "IDR", "id_ID", "4.550,50"),
        ("1234.5", "USD", "en_US", "1,234.50"),
        ("1234.5", "EUR", "de_DE", "1.234,50"),
        ("1000", "JPY", "en_US", "1,000"),
        ("1.234", "BHD", "en_US", "1.234"),
        ("0.125", "USD", "en_US", "0.125"),
    ],
)
def test_formatted_shows_the_amounts_digits_in_the_locales_notation(
    amount: str, currency: str, locale: str, digits: str
) -> None:
    # Only the digits are asserted: symbols and their placement are CLDR's, and may change.
    money = Money.of(models.Money(amount=Decimal(amount), currency=currency), locale)
    assert money is not None
    text = money.formatted()
    assert digits in text
    assert text.replace(digits, "", 1).strip("\xa0 ") != "", "a currency sign or code is shown"
    assert not any(ch.isdigit() for ch in text.replace(digits, "", 1)), text


# -- the compiled formatter gives Babel's own text ------------------------------------------

LOCALES = ["en_US", "en", "de_DE", "de_CH", "fr_FR", "id_ID", "hi_IN", "en_IN", "ja_JP", "es_ES"]
CURRENCIES = ["USD", "IDR", "JPY", "BHD", "EUR", "CLF", "INR", "CHF", "XXX", "PHP"]


def _babel_text(amount: Decimal, locale_name: str, currency: str) -> str:
    """What Babel's own `apply` makes of the amount, the pattern set up as `_formatter` does."""
    locale = Locale.parse(locale_name)
    pattern = copy.copy(locale.currency_formats["standard"])
    digits = minor_units(currency) or 0
    pattern.frac_prec = (digits, digits)
    return str(
        pattern.apply(
            amount, locale, currency=currency, currency_digits=False, decimal_quantization=False
        )
    )


@settings(max_examples=600, derandomize=True, deadline=None)
@given(
    amount=st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
        # Babel's own text is exact up to 28 digits (the default context's): past them it rounds.
        lambda d: abs(d.adjusted()) < 20 and len(d.as_tuple().digits) <= 28
    ),
    locale_name=st.sampled_from(LOCALES),
    currency=st.sampled_from(CURRENCIES),
)
def test_compiled_formatter_is_babels_apply(
    amount: Decimal, locale_name: str, currency: str
) -> None:
    assert _formatter(locale_name, currency)(amount) == _babel_text(amount, locale_name, currency)


@pytest.mark.parametrize("amount", ["0", "-0", "0.00", "-0.001", "1E+3", "123456789.5", "-42.10"])
@pytest.mark.parametrize("locale_name", LOCALES)
def test_compiled_formatter_edges(amount: str, locale_name: str) -> None:
    for currency in ("USD", "JPY", "BHD"):
        value = Decimal(amount)
        assert _formatter(locale_name, currency)(value) == _babel_text(value, locale_name, currency)


@pytest.mark.parametrize("locale_name", LOCALES)
def test_the_largest_amount_an_input_takes_is_formatted_whole(locale_name: str) -> None:
    # 18 digits before the point and 12 after: more than Babel's 28-digit context can quantize
    # (its apply raises InvalidOperation), every digit shown, none rounded.
    amount = Decimal("123456789012345678.123456789012")
    text = _formatter(locale_name, "USD")(amount)
    digits = "".join(ch for ch in text if ch.isdigit())
    assert digits == "123456789012345678123456789012"
