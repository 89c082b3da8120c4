"""Pure mapping: Xendit wire models -> domain objects, and drafts -> create bodies."""

from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal
from typing import Any

import pytest

from providers.errors import ProviderBadResponse, ProviderRejected
from providers.http import exact_json
from providers.models import (
    InvoiceDraft,
    InvoiceFilter,
    InvoiceStatus,
    LineItemDraft,
    Money,
    PaymentPageOptions,
    PaymentStatus,
)
from providers.records import decode_object
from providers.xendit import wire
from providers.xendit.customers import to_customer
from providers.xendit.drafts import external_id_for, to_create_request
from providers.xendit.listing import list_params, xendit_statuses
from providers.xendit.mapping import STATUS_TABLE, to_invoice

from .conftest import fixture, fixture_text

S, P = InvoiceStatus, PaymentStatus
NOW = dt.datetime(2024, 3, 1, 12, 0, 0, tzinfo=dt.UTC)


def parse_invoice(text: str) -> wire.Invoice:
    """As the client parses a body: exact numbers for the model, default types for `raw`."""
    return decode_object(wire.Invoice, text.encode())


def invoice_with(**changes: Any) -> wire.Invoice:
    return parse_invoice(json.dumps({**fixture("invoice_paid"), **changes}))


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")


# -- statuses -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "status", "payment"),
    [
        ("PENDING", S.OPEN, P.UNPAID),
        ("PAID", S.PAID, P.PAID),
        ("SETTLED", S.PAID, P.SETTLED),
        ("EXPIRED", S.EXPIRED, P.UNPAID),
    ],
)
def test_status_table(raw: str, status: InvoiceStatus, payment: PaymentStatus) -> None:
    result = to_invoice(invoice_with(status=raw))
    assert (result.status, result.payment_status, result.provider_status) == (status, payment, raw)


def test_the_table_covers_every_documented_status() -> None:
    assert set(STATUS_TABLE) == set(wire.INVOICE_STATUSES)


def test_an_unknown_status_is_unknown_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        first = to_invoice(invoice_with(status="REFUNDED_SOMEHOW"))
        to_invoice(invoice_with(status="REFUNDED_SOMEHOW"))
    assert (first.status, first.payment_status) == (S.UNKNOWN, P.UNKNOWN)
    assert first.provider_status == "REFUNDED_SOMEHOW"
    assert len([r for r in caplog.records if "REFUNDED_SOMEHOW" in r.getMessage()]) == 1


# -- invoices -----------------------------------------------------------------------------------


def test_paid_invoice_fields() -> None:
    result = to_invoice(parse_invoice(fixture_text("invoice_paid")))

    assert result.provider == "xendit"
    assert result.id == "65f1a2b3c4d5e6f708192a3b"
    assert result.number == "order-1001"
    assert result.currency == "USD"
    assert result.total == usd("10.1")
    assert result.amount_due == usd("10.1")
    assert result.amount_paid == usd("10.1")
    assert result.amount_remaining == usd("0")
    assert result.subtotal == usd("9.9")  # 3 x 3.3, exactly: never 9.899999...
    assert result.tax is None
    assert result.discount is None
    assert result.description == "Three widgets"
    assert result.payment_url == "https://checkout.xendit.co/web/65f1a2b3c4d5e6f708192a3b"
    assert result.pdf_url is None
    assert result.created_at == dt.datetime(2024, 3, 13, 10, 0, 0, 123000, tzinfo=dt.UTC)
    assert result.issued_at == result.created_at
    assert result.due_at == dt.datetime(2024, 3, 14, 10, 0, tzinfo=dt.UTC)
    assert result.paid_at == dt.datetime(2024, 3, 13, 10, 5, 0, 456000, tzinfo=dt.UTC)
    assert result.voided_at is None


def test_money_is_exact_decimal_and_raw_keeps_json_types() -> None:
    result = to_invoice(parse_invoice(fixture_text("invoice_paid")))
    assert result.total is not None
    assert type(result.total.amount) is Decimal
    assert result.total.amount.as_tuple() == Decimal("10.1").as_tuple()  # no float artefacts
    assert result.raw == fixture("invoice_paid")
    json.dumps(result.raw)  # serialisable as is
    assert result.customer is not None
    json.dumps(result.customer.raw)


def test_line_items() -> None:
    (line,) = to_invoice(parse_invoice(fixture_text("invoice_paid"))).line_items
    assert line.id == "sku-1"
    assert line.description == "Widget"
    assert line.quantity == Decimal(3)
    assert line.unit_amount == usd("3.3")
    assert line.amount == usd("9.9")
    assert line.metadata == {"category": "Hardware", "url": "https://example.com/w"}


def test_embedded_customer() -> None:
    result = to_invoice(parse_invoice(fixture_text("invoice_paid")))
    customer = result.customer
    assert customer is not None
    assert result.customer_id == customer.id == "cust-0b6b5c6e-4d4a-4e0e-9a37-2f1f2a9f8c11"
    assert customer.external_id == "CUS-42"
    assert customer.name == "Budi Santoso"
    assert customer.email == "budi@example.com"
    assert customer.address is not None
    assert (customer.address.line1, customer.address.state) == ("Jl. Merdeka 1", "DKI Jakarta")
    assert customer.raw == fixture("invoice_paid")["customer"]


def test_metadata_values_are_text_deterministically() -> None:
    result = to_invoice(parse_invoice(fixture_text("invoice_paid")))
    assert result.metadata == {
        "order": "A-1",
        "weight": "1.5",
        "gift": "true",
        "tags": '{"a":[2,"x"],"b":1}',
    }


def test_pending_invoice_without_customer_id_or_items() -> None:
    result = to_invoice(parse_invoice(fixture_text("invoice_pending")))
    idr = Money(amount=Decimal(50000), currency="IDR")
    assert (result.status, result.payment_status) == (S.OPEN, P.UNPAID)
    assert result.total == result.amount_due == result.amount_remaining == idr
    assert result.amount_paid == Money(amount=Decimal(0), currency="IDR")
    assert result.subtotal is None
    assert result.line_items == ()
    assert result.customer is None
    assert result.customer_id is None
    assert result.metadata == {}
    assert result.description is None
    assert result.raw["items"] is None  # nulls stay in raw


def test_expired_invoice_has_nothing_left_to_pay() -> None:
    result = to_invoice(invoice_with(status="EXPIRED", paid_amount=None, paid_at=None))
    assert result.amount_paid == usd("0")
    assert result.amount_remaining == usd("0")


def test_paid_without_paid_amount_counts_the_amount() -> None:
    result = to_invoice(invoice_with(paid_amount=None))
    assert result.amount_paid == usd("10.1")


@pytest.mark.parametrize("missing", ["id", "created"])
def test_an_invoice_without_id_or_created_is_a_bad_response(missing: str) -> None:
    with pytest.raises(ProviderBadResponse):
        to_invoice(invoice_with(**{missing: None}))


# -- customers ----------------------------------------------------------------------------------


def test_customer_api_record() -> None:
    text = fixture_text("customer")
    customer = to_customer(decode_object(wire.Customer, text.encode()))
    assert customer.id == "cust-0b6b5c6e-4d4a-4e0e-9a37-2f1f2a9f8c11"
    assert customer.external_id == "CUS-42"
    assert customer.name == "PT Maju Jaya"  # a BUSINESS is named by its business name
    assert customer.email == "finance@majujaya.example"
    assert customer.address is not None
    assert customer.address.line1 == "Jl. Merdeka 1"  # the primary address, not the first
    assert customer.address.line2 == "Lt. 3"
    assert customer.metadata == {"tier": "gold", "seats": "12"}
    assert customer.created_at == dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)
    assert customer.raw == fixture("customer")


def test_individual_customer_with_one_detail_only() -> None:
    data = {**fixture("customer"), "type": "INDIVIDUAL"}
    del data["business_detail"]
    customer = to_customer(decode_object(wire.Customer, json.dumps(data).encode()))
    assert customer.name == "Budi Santoso"


# -- creation -----------------------------------------------------------------------------------


def draft(currency: str = "USD", **changes: Any) -> InvoiceDraft:
    lines = (
        LineItemDraft(description="Widget", quantity=Decimal(3), unit_amount=Decimal("3.3")),
        LineItemDraft(description="Setup", quantity=Decimal(1), unit_amount=Decimal("0.2")),
    )
    values: dict[str, Any] = {
        "customer_id": "cust-1",
        "currency": currency,
        "line_items": lines,
        **changes,
    }
    return InvoiceDraft(**values)


def test_external_id_is_derived_from_the_key() -> None:
    assert external_id_for("order-7:attempt.1_a") == "gw-order-7:attempt.1_a"
    hashed = external_id_for("key with spaces/and slashes")
    assert hashed.startswith("gwh-")
    assert len(hashed) == 4 + 64
    assert hashed == external_id_for("key with spaces/and slashes")
    assert external_id_for("x" * 201).startswith("gwh-")


def test_create_body_is_exact() -> None:
    customer = decode_object(wire.Customer, fixture_text("customer").encode())
    request = to_create_request(
        draft(
            "usd",
            description="Order 7",
            metadata={"order": "7"},
            due_at=NOW + dt.timedelta(hours=1, microseconds=1),
        ),
        idempotency_key="k-1",
        customer=customer,
        now=NOW,
    )
    body = request.body()
    assert body["external_id"] == "gw-k-1"
    assert body["currency"] == "USD"
    assert body["invoice_duration"] == 3601  # rounded up: payable until at least due_at
    assert body["metadata"] == {"order": "7"}
    assert body["description"] == "Order 7"
    assert body["customer"]["id"] == customer.id
    assert body["customer"]["given_names"] == "Budi"
    # JSON text with exactly the draft's digits: 9.9 + 0.2 is 10.1, not 10.100000000000001.
    text = exact_json(body).decode()
    assert '"amount":10.1' in text
    assert '"price":3.3' in text
    assert '"quantity":3,' in text
    assert json.loads(text, parse_float=Decimal)["amount"] == Decimal("10.1")
    assert json.loads(text, parse_float=Decimal)["amount"] == Decimal("10.1")


def test_create_body_leaves_out_what_is_unset() -> None:
    body = to_create_request(
        draft(
            "IDR",
            line_items=(
                LineItemDraft(description="A", quantity=Decimal(2), unit_amount=Decimal(25000)),
            ),
        ),
        idempotency_key="k",
        customer=None,
        now=NOW,
    ).body()
    assert body == {
        "external_id": "gw-k",
        "amount": 50000,
        "currency": "IDR",
        "items": [{"name": "A", "quantity": 2, "price": 25000}],
    }


def test_idr_amounts_must_be_whole() -> None:
    with pytest.raises(ProviderRejected) as caught:
        to_create_request(draft("IDR"), idempotency_key="k", customer=None, now=NOW)
    assert caught.value.field == "line_items.0.unit_amount"
    assert "IDR" in caught.value.message


@pytest.mark.parametrize("due_at", [NOW, NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=366)])
def test_due_date_must_be_within_a_year(due_at: dt.datetime) -> None:
    with pytest.raises(ProviderRejected) as caught:
        to_create_request(draft(due_at=due_at), idempotency_key="k", customer=None, now=NOW)
    assert caught.value.field == "due_at"


def test_too_many_metadata_keys() -> None:
    metadata = {f"k{n}": "v" for n in range(51)}
    with pytest.raises(ProviderRejected) as caught:
        to_create_request(draft(metadata=metadata), idempotency_key="k", customer=None, now=NOW)
    assert caught.value.field == "metadata"


def test_an_amount_with_many_digits_reaches_the_wire_exactly() -> None:
    lines = (
        LineItemDraft(
            description="A", quantity=Decimal(1), unit_amount=Decimal("0.12345678901234567")
        ),
    )
    request = to_create_request(
        draft(line_items=lines), idempotency_key="k", customer=None, now=NOW
    )
    assert '"amount":0.12345678901234567' in exact_json(request.body()).decode()


# -- listing filters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (InvoiceFilter(), None),
        (InvoiceFilter(statuses=(S.OPEN,)), ("PENDING",)),
        (InvoiceFilter(statuses=(S.PAID,)), ("PAID", "SETTLED")),
        (InvoiceFilter(statuses=(S.EXPIRED, S.OPEN)), ("PENDING", "EXPIRED")),
        (InvoiceFilter(statuses=(S.DRAFT, S.VOID, S.UNKNOWN)), ()),
        (InvoiceFilter(statuses=(S.DRAFT, S.OPEN)), ("PENDING",)),
        (InvoiceFilter(payment_statuses=(P.SETTLED,)), ("SETTLED",)),
        (InvoiceFilter(payment_statuses=(P.UNPAID,)), ("PENDING", "EXPIRED")),
        (InvoiceFilter(payment_statuses=(P.REFUNDED,)), ()),
        (InvoiceFilter(statuses=(S.PAID,), payment_statuses=(P.UNPAID,)), ()),
        (InvoiceFilter(statuses=(S.PAID,), payment_statuses=(P.SETTLED,)), ("SETTLED",)),
    ],
)
def test_status_filters(filters: InvoiceFilter, expected: tuple[str, ...] | None) -> None:
    assert xendit_statuses(filters) == expected


def test_created_bounds_are_widened_to_whole_milliseconds() -> None:
    filters = InvoiceFilter(
        created_after=dt.datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=dt.UTC),
        created_before=dt.datetime(2024, 2, 1, 0, 0, 0, 999001, tzinfo=dt.UTC),
    )
    params = list_params(filters, statuses=["PAID"], limit=5, last_invoice="inv-9")
    assert params == {
        "limit": "5",
        "statuses": ["PAID"],
        "created_after": "2024-01-01T00:00:00.123+00:00",
        "created_before": "2024-02-01T00:00:01.000+00:00",
        "last_invoice": "inv-9",
    }


def test_payment_page_options() -> None:
    page = PaymentPageOptions(
        payer_email="payer@example.com",
        success_redirect_url="https://shop.example.com/ok",
        failure_redirect_url="https://shop.example.com/no",
        payment_methods=("BCA", "OVO"),
        duration=dt.timedelta(seconds=3600, microseconds=1),
    )
    body = to_create_request(
        draft(payment_page=page, due_at=NOW + dt.timedelta(days=3)),
        idempotency_key="k",
        customer=None,
        now=NOW,
    ).body()
    assert body["payer_email"] == "payer@example.com"
    assert body["success_redirect_url"] == "https://shop.example.com/ok"
    assert body["failure_redirect_url"] == "https://shop.example.com/no"
    assert body["payment_methods"] == ["BCA", "OVO"]
    assert body["invoice_duration"] == 3601  # the page's duration wins over the due date


def test_an_empty_payment_page_sends_nothing_more() -> None:
    body = to_create_request(
        draft(payment_page=PaymentPageOptions()), idempotency_key="k", customer=None, now=NOW
    ).body()
    assert set(body) == {"external_id", "amount", "currency", "items"}


@pytest.mark.parametrize("seconds", [0, 366 * 24 * 3600])
def test_a_payment_page_duration_out_of_bounds(seconds: int) -> None:
    page = PaymentPageOptions(duration=dt.timedelta(seconds=seconds))
    with pytest.raises(ProviderRejected) as caught:
        to_create_request(draft(payment_page=page), idempotency_key="k", customer=None, now=NOW)
    assert caught.value.field == "payment_page.duration"
