"""The Xendit sandbox writes JSON as `json.dumps` would (compact, UTF-8 as is), except that a
`Decimal` is an exact JSON number and a float is refused."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandboxes.xendit.encoding import dumps, number_text

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(_JSON)
def test_plain_json_is_json_dumps(value: object) -> None:
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    assert dumps(value) == expected


@settings(max_examples=200, derandomize=True, deadline=None)
# Up to 28 significant digits, the decimal context's precision (far beyond any amount).
@given(
    st.decimals(allow_nan=False, allow_infinity=False).filter(
        lambda d: len(d.as_tuple().digits) <= 28
    )
)
def test_decimals_are_exact_numbers(value: Decimal) -> None:
    text = dumps({"amount": value, "items": [value]}).decode()
    assert text == f'{{"amount":{number_text(value)},"items":[{number_text(value)}]}}'
    assert "e" not in number_text(value).lower()
    assert Decimal(json.loads(text, parse_float=Decimal)["amount"]) == value


def test_tuples_are_arrays_and_floats_are_refused() -> None:
    assert dumps({"t": ("a", 1)}) == b'{"t":["a",1]}'
    with pytest.raises(TypeError, match="float"):
        dumps({"amount": 1.5})
