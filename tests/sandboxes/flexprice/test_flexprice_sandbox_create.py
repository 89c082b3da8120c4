"""``POST /v1/invoices``: the draft-compute-finalize flow, validation, idempotency."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandboxes.flexprice import FlexPriceSandbox

from .flexprice_sandbox_helpers import NOW, FakeClock, find_customer, find_invoice, one_off_body


async def test_one_off_invoice_comes_back_finalized(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    customer = find_customer(sandbox)
    response = await client.post("/v1/invoices", json=one_off_body(customer.id))
    assert response.status_code == 201
    body = response.json()
    assert body["invoice_status"] == "FINALIZED"
    assert body["payment_status"] == "PENDING"
    assert body["currency"] == "usd"
    assert body["amount_due"] == "150.5"
    assert body["amount_remaining"] == "150.5"
    assert body["amount_paid"] == "0"
    assert body["invoice_number"].startswith(f"INV-{NOW:%Y%m}-")
    assert body["idempotency_key"] == "order-42"
    assert body["finalized_at"] == "2025-06-15T12:00:00Z"
    assert body["metadata"] == {"order_id": "42"}
    assert [li["amount"] for li in body["line_items"]] == ["100.5", "50"]
    assert all(li["id"].startswith("inv_line_") for li in body["line_items"])
    assert "customer" not in body  # create answers the stored invoice, without embeds
    assert "billing_sequence" not in body  # null on one-off invoices: omitted

    stored = sandbox.invoices[body["id"]]
    assert stored.invoice_status == "FINALIZED"
    assert stored.amount_due == Decimal("150.50")
    assert stored.customer_id == customer.id
    assert stored.last_computed_at == NOW
    assert len(stored.line_items) == 2


async def test_invoice_numbers_follow_the_month(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox, clock: FakeClock
) -> None:
    customer = find_customer(sandbox)
    first = await client.post("/v1/invoices", json=one_off_body(customer.id))
    second = await client.post(
        "/v1/invoices", json=one_off_body(customer.id, idempotency_key="order-43")
    )
    clock.advance(days=30)
    third = await client.post(
        "/v1/invoices", json=one_off_body(customer.id, idempotency_key="order-44")
    )
    seeded_this_month = sum(
        1 for i in sandbox.invoices.values() if (i.invoice_number or "").startswith("INV-202506-")
    )
    assert first.json()["invoice_number"] == f"INV-202506-{seeded_this_month - 1:05d}"
    assert second.json()["invoice_number"] == f"INV-202506-{seeded_this_month:05d}"
    assert third.json()["invoice_number"] == "INV-202507-00001"


async def test_credit_invoice_is_finalized_and_zero_total_is_paid(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    customer = find_customer(sandbox)
    zero = one_off_body(
        customer.id,
        invoice_type="CREDIT",
        amount_due="0",
        subtotal="0",
        total="0",
        line_items=[{"amount": "0", "quantity": "1"}],
    )
    response = await client.post("/v1/invoices", json=zero)
    assert response.status_code == 201
    assert response.json()["invoice_status"] == "FINALIZED"
    assert response.json()["payment_status"] == "SUCCEEDED"


async def test_subscription_invoice_stays_draft_and_zero_one_is_skipped(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    sub = next(iter(sandbox.subscriptions.values()))
    base: dict[str, Any] = {
        "customer_id": sub.customer_id,
        "currency": sub.currency,
        "invoice_type": "SUBSCRIPTION",
        "subscription_id": sub.id,
        "billing_period": "MONTHLY",
        "billing_reason": "SUBSCRIPTION_CYCLE",
        "period_start": "2025-07-01T00:00:00Z",
        "period_end": "2025-08-01T00:00:00Z",
        "amount_due": "10",
        "subtotal": "10",
        "total": "10",
    }
    draft = await client.post("/v1/invoices", json=base)
    assert draft.status_code == 201
    assert draft.json()["invoice_status"] == "DRAFT"
    assert "invoice_number" not in draft.json()
    assert draft.json()["billing_sequence"] >= 1

    skipped_body = {**base, "period_start": "2025-08-01T00:00:00Z"}
    skipped_body.update(period_end="2025-09-01T00:00:00Z", amount_due="0", subtotal="0", total="0")
    skipped = await client.post("/v1/invoices", json=skipped_body)
    assert skipped.status_code == 201
    assert skipped.json()["invoice_status"] == "SKIPPED"
    assert sandbox.invoices[skipped.json()["id"]].invoice_status == "SKIPPED"

    finalized_body = {**base, "period_start": "2025-09-01T00:00:00Z"}
    finalized_body.update(period_end="2025-10-01T00:00:00Z", invoice_status="FINALIZED")
    finalized = await client.post("/v1/invoices", json=finalized_body)
    assert finalized.json()["invoice_status"] == "FINALIZED"


def _details_keys(response: httpx.Response) -> set[str]:
    return set(response.json().get("details", {}))


@pytest.mark.parametrize(
    ("overrides", "message", "detail"),
    [
        ({"invoice_type": None}, "Request validation failed", "InvoiceType"),
        ({"customer_id": ""}, "Request validation failed", "CustomerID"),
        ({"currency": None}, "Request validation failed", "Currency"),
        ({"amount_due": None}, "Request validation failed", "AmountDue"),
        ({"invoice_type": "RECURRING"}, "invalid invoice_type: RECURRING", None),
        ({"currency": "US"}, "invalid currency code: must be a 3-letter ISO 4217 code", None),
        ({"currency": "usdx"}, "invalid currency code: must be a 3-letter ISO 4217 code", None),
        ({"currency": "ABC"}, "invalid currency code: must be a 3-letter ISO 4217 code", None),
        ({"billing_reason": "BECAUSE"}, "invalid billing_reason: BECAUSE", None),
        (
            {"amount_due": "150.49"},
            "sum of line item amounts must equal invoice amount_due",
            None,
        ),
        ({"invoice_pdf_url": "http://files.example.com/a.pdf"}, None, None),
        ({"line_items": [{"amount": "150.50"}]}, "Request validation failed", None),
        (
            {"invoice_type": "SUBSCRIPTION"},
            "subscription_id is required for subscription invoice",
            None,
        ),
        (
            {
                "amount_due": "-5",
                "subtotal": "-5",
                "total": "-5",
                "line_items": [{"amount": "-5", "quantity": "1"}],
            },
            "amount due is negative",
            None,
        ),
    ],
)
async def test_create_validation_errors(
    client: httpx.AsyncClient,
    sandbox: FlexPriceSandbox,
    overrides: dict[str, Any],
    message: str | None,
    detail: str | None,
) -> None:
    before = len(sandbox.invoices)
    body = {k: v for k, v in {**one_off_body("x"), **overrides}.items() if v is not None}
    body["customer_id"] = overrides.get("customer_id", find_customer(sandbox).id)
    response = await client.post("/v1/invoices", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert response.json()["http_status_code"] == 400
    if message is not None:
        assert response.json()["message"] == message
    if detail is not None:
        assert detail in _details_keys(response)
    assert len(sandbox.invoices) == before


async def test_line_items_sum_uses_currency_precision(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    customer = find_customer(sandbox)
    body = one_off_body(
        customer.id,
        amount_due="150.5",
        line_items=[
            {"amount": "100.504", "quantity": "1"},
            {"amount": "49.999", "quantity": "1"},
        ],
    )
    response = await client.post("/v1/invoices", json=body)
    assert response.status_code == 201


async def test_unknown_customer_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/invoices", json=one_off_body("cust_missing"))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_unknown_tax_rate_is_404(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    body = one_off_body(find_customer(sandbox).id, tax_rates=["taxrate_missing"])
    response = await client.post("/v1/invoices", json=body)
    assert response.status_code == 404


async def test_decimal_fields_accept_json_numbers(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    body = one_off_body(
        find_customer(sandbox).id,
        amount_due=12.5,
        subtotal=12.5,
        total=12.5,
        line_items=[{"amount": 12.5, "quantity": 1}],
    )
    response = await client.post("/v1/invoices", json=body)
    assert response.status_code == 201
    assert sandbox.invoices[response.json()["id"]].amount_due == Decimal("12.5")


@pytest.mark.parametrize(
    "amount",
    [
        "1e30",  # past 28 digits: rounding it to cents used to fail with a 500
        "123456789012345678901234567",
        "1e999999999",
        "-1e999999999",
        "1e12",  # numeric(20,8) holds at most 12 integer digits
        1e30,  # a JSON number, as shopspring also accepts
    ],
)
async def test_unrepresentable_amounts_are_validation_errors(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox, amount: str | float
) -> None:
    before = len(sandbox.invoices)
    body = one_off_body(
        find_customer(sandbox).id,
        amount_due=amount,
        subtotal=amount,
        total=amount,
        line_items=[{"amount": amount, "quantity": "1"}],
    )
    response = await client.post("/v1/invoices", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert len(sandbox.invoices) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [("quantity", "1e30"), ("amount", "-1e30")],
)
async def test_unrepresentable_line_values_are_validation_errors(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox, field: str, value: str
) -> None:
    line = {"display_name": "Setup", "amount": "150.50", "quantity": "1", field: value}
    body = one_off_body(find_customer(sandbox).id, line_items=[line])
    response = await client.post("/v1/invoices", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


async def test_the_largest_storable_amount_is_accepted(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    amount = "999999999999.99"
    body = one_off_body(
        find_customer(sandbox).id,
        amount_due=amount,
        subtotal=amount,
        total=amount,
        line_items=[{"amount": amount, "quantity": "1"}],
    )
    response = await client.post("/v1/invoices", json=body)
    assert response.status_code == 201
    assert response.json()["amount_due"] == amount


# -- idempotency ---------------------------------------------------------------------------


async def test_same_key_after_finalization_is_409_without_the_original(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    body = one_off_body(find_customer(sandbox).id)
    first = await client.post("/v1/invoices", json=body)
    again = await client.post("/v1/invoices", json={**body, "description": "another body"})
    assert first.status_code == 201
    assert again.status_code == 409
    assert again.json() == {
        "code": "already_exists",
        "message": "invoice already exists",
        "http_status_code": 409,
    }
    matching = [i for i in sandbox.invoices.values() if i.idempotency_key == "order-42"]
    assert len(matching) == 1


async def test_same_key_on_a_draft_reuses_and_finishes_it(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    draft = find_invoice(sandbox, invoice_status="DRAFT", invoice_type="ONE_OFF")
    body = one_off_body(draft.customer_id, idempotency_key=draft.idempotency_key)
    response = await client.post("/v1/invoices", json=body)
    assert response.status_code == 201
    assert response.json()["id"] == draft.id
    assert draft.invoice_status == "FINALIZED"
    assert draft.amount_due == Decimal("150.50")
    assert len(sandbox.invoices) == len({i.id for i in sandbox.invoices.values()})


async def test_same_key_on_a_skipped_invoice_reuses_it(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    skipped = find_invoice(sandbox, invoice_status="SKIPPED")
    body = one_off_body(skipped.customer_id, idempotency_key=skipped.idempotency_key)
    count = len(sandbox.invoices)
    response = await client.post("/v1/invoices", json=body)
    assert response.status_code == 201
    assert response.json()["id"] == skipped.id
    assert len(sandbox.invoices) == count


async def test_void_frees_the_key(client: httpx.AsyncClient, sandbox: FlexPriceSandbox) -> None:
    body = one_off_body(find_customer(sandbox).id)
    first = (await client.post("/v1/invoices", json=body)).json()
    voided = await client.post(f"/v1/invoices/{first['id']}/void")
    again = await client.post("/v1/invoices", json=body)
    assert voided.status_code == 200
    assert again.status_code == 201
    assert again.json()["id"] != first["id"]
    assert sandbox.invoices[first["id"]].invoice_status == "VOIDED"


async def test_without_a_key_one_off_retries_create_twice(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    body = one_off_body(find_customer(sandbox).id)
    del body["idempotency_key"]
    first = (await client.post("/v1/invoices", json=body)).json()
    second = (await client.post("/v1/invoices", json=body)).json()
    assert first["id"] != second["id"]
    assert first["idempotency_key"].startswith("one_off_invoice-")
    assert first["idempotency_key"] != second["idempotency_key"]


async def test_subscription_period_is_unique(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    sub = next(iter(sandbox.subscriptions.values()))
    body = {
        "customer_id": sub.customer_id,
        "currency": sub.currency,
        "invoice_type": "SUBSCRIPTION",
        "subscription_id": sub.id,
        "billing_period": "MONTHLY",
        "billing_reason": "SUBSCRIPTION_CYCLE",
        "period_start": "2025-07-01T00:00:00Z",
        "period_end": "2025-08-01T00:00:00Z",
        "amount_due": "10",
        "subtotal": "10",
        "total": "10",
        "invoice_status": "FINALIZED",
    }
    first = await client.post("/v1/invoices", json=body)
    second = await client.post("/v1/invoices", json=body)
    assert first.status_code == 201
    assert first.json()["idempotency_key"].startswith("subscription_invoice-")
    assert second.status_code == 409
