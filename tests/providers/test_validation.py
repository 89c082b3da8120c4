"""The domain's rules (`providers.validation`): each broken rule named by its domain field, never
by a GraphQL name, and the drafts they build."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest

from providers import validation
from providers.errors import InvalidInput, Violation
from providers.models import PaymentStatus

#: A GraphQL-style name (`unitAmount`, `paymentPage`) in a rule's words.
CAMEL = re.compile(r"\b[a-z]+[A-Z][A-Za-z]*\b")


def values(**changes: Any) -> dict[str, Any]:
    return {
        "customer_id": "cust_1",
        "currency": "usd",
        "line_items": [{"description": " Seats ", "quantity": "3", "unit_amount": "12.50"}],
        **changes,
    }


def refused(**changes: Any) -> tuple[Violation, ...]:
    with pytest.raises(InvalidInput) as caught:
        validation.invoice_draft(values(**changes))
    assert caught.value.provider == ""
    for violation in caught.value.violations:
        assert not CAMEL.search(violation.rule), violation
    return caught.value.violations


def test_a_valid_draft_is_built_normalised() -> None:
    draft = validation.invoice_draft(
        values(
            description="Cafe\u0301",  # decomposed: kept in NFC
            metadata=[{"key": "order", "value": "7"}],
            payment_page={"payer_email": "a@example.com", "duration": dt.timedelta(hours=1)},
        )
    )
    assert draft.currency == "USD"
    assert draft.line_items[0].description == "Seats"
    assert draft.line_items[0].unit_amount == Decimal("12.50")
    assert draft.description == "Caf\u00e9"
    assert draft.metadata == {"order": "7"}
    assert draft.payment_page is not None
    assert draft.payment_page.duration == dt.timedelta(hours=1)


def test_every_broken_rule_is_named_by_its_domain_field() -> None:
    violations = refused(
        currency="dollars",
        line_items=[
            {"description": "x", "quantity": "0", "unit_amount": "-1"},
            {"description": "", "quantity": "1", "unit_amount": "1"},
        ],
        metadata=[{"key": "a", "value": "1"}, {"key": "a", "value": "2"}],
        payment_page={"payment_methods": ["bca"], "duration": dt.timedelta(0)},
    )
    fields = {v.field: v.rule for v in violations}
    assert "ISO 4217" in fields[("currency",)]
    assert "greater than 0" in fields[("line_items", "0", "quantity")]
    assert "greater than or equal to 0" in fields[("line_items", "0", "unit_amount")]
    assert "at least 1 character" in fields[("line_items", "1", "description")]
    assert "unique" in fields[("metadata",)]
    assert ("payment_page", "payment_methods", "0") in fields
    assert "one year" in fields[("payment_page", "duration")]


def test_a_line_finer_than_the_currencys_minor_unit_is_named() -> None:
    [violation] = refused(
        line_items=[
            {"description": "a", "quantity": "1", "unit_amount": "1"},
            {"description": "b", "quantity": "1234", "unit_amount": "0.001"},
        ]
    )
    assert violation.field == ("line_items", "1")
    assert "= 1.234 has more decimals than USD allows (2)" in violation.rule


@pytest.mark.parametrize("huge", ["1e19", "1e999999", "0.0000000000001"])
def test_every_provider_bounds_a_number_before_any_arithmetic(huge: str) -> None:
    [violation] = refused(line_items=[{"description": "a", "quantity": "1", "unit_amount": huge}])
    assert violation.field == ("line_items", "0", "unit_amount")


def test_more_than_a_million_is_no_rule_of_the_domain() -> None:
    """Amounts a provider may refuse (FlexPrice past 10^12) are its own limit, not the domain's."""
    draft = validation.invoice_draft(
        values(line_items=[{"description": "a", "quantity": "2", "unit_amount": "6e14"}])
    )
    assert draft.subtotal == Decimal("1.2e15")


def test_an_amount_goes_only_with_unpaid() -> None:
    with pytest.raises(InvalidInput) as caught:
        validation.payment_status_update({"status": PaymentStatus.PAID, "amount": "5"})
    [violation] = caught.value.violations
    assert violation.field == ("amount",)
    assert not CAMEL.search(violation.rule)
    update = validation.payment_status_update({"status": PaymentStatus.UNPAID, "amount": "5"})
    assert update.amount == Decimal(5)


def test_an_update_and_a_void_name_their_fields() -> None:
    with pytest.raises(InvalidInput) as caught:
        validation.invoice_update({"pdf_url": "http://example.com/a.pdf"})
    assert [v.field for v in caught.value.violations] == [("pdf_url",)]
    with pytest.raises(InvalidInput) as caught:
        validation.void_metadata([{"key": "", "value": "x"}])
    assert [v.field for v in caught.value.violations] == [("metadata", "0", "key")]
    assert validation.void_metadata(None) is None


def test_an_idempotency_key_is_1_to_255_characters() -> None:
    assert validation.idempotency_key(" order-1 ") == "order-1"
    with pytest.raises(InvalidInput) as caught:
        validation.idempotency_key("k" * 256)
    assert [v.field for v in caught.value.violations] == [("idempotency_key",)]


def test_the_customer_id_is_the_providers_own_and_kept_as_is() -> None:
    draft = validation.invoice_draft(values(customer_id=" cust 1 "))
    assert draft.customer_id == " cust 1 "
