"""Minor units come from ISO 4217 (the table in `providers.currencies`), not from locale data."""

from __future__ import annotations

import pytest

from providers.currencies import CURRENCIES, MINOR_UNITS, minor_units


@pytest.mark.parametrize(
    ("code", "digits"),
    [
        ("USD", 2),
        ("EUR", 2),
        ("IDR", 2),  # CLDR 47 (Babel 2.19) shows none; ISO 4217 has two
        ("VND", 0),
        ("JPY", 0),
        ("KRW", 0),
        ("BHD", 3),
        ("KWD", 3),
        ("CLF", 4),
        ("UYW", 4),
    ],
)
def test_minor_units_are_iso_4217s(code: str, digits: int) -> None:
    assert minor_units(code) == digits


@pytest.mark.parametrize("code", ["XAU", "XDR", "XTS", "XXX", "DEM", "usd", "US", ""])
def test_a_code_without_minor_units_in_list_one_is_not_a_currency(code: str) -> None:
    assert minor_units(code) is None
    assert code not in CURRENCIES


def test_the_table_holds_only_upper_case_three_letter_codes_with_sane_digits() -> None:
    assert len(MINOR_UNITS) > 150
    for code, digits in MINOR_UNITS.items():
        assert len(code) == 3, code
        assert code.isascii(), code
        assert code.isupper(), code
        assert digits in {0, 2, 3, 4}, (code, digits)
