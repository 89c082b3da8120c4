"""``POST /v2/invoices/``: what the client gets back, what is stored, and every refusal."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandboxes.xendit import XenditSandbox
from sandboxes.xendit.store import MASTER_USER_ID

from .xendit_sandbox_helpers import NOW, SUB_ACCOUNT_ID, invoice_body

REQUIRED = {
    "external_id",
    "user_id",
    "status",
    "merchant_name",
    "merchant_profile_picture_url",
    "amount",
    "expiry_date",
    "invoice_url",
    "available_banks",
    "available_retail_outlets",
    "available_ewallets",
    "available_qr_codes",
    "available_direct_debits",
    "available_paylaters",
    "should_send_email",
    "created",
    "updated",
}


@pytest.mark.parametrize("path", ["/v2/invoices/", "/v2/invoices"])
async def test_create_returns_a_pending_invoice_and_stores_it(
    client: httpx.AsyncClient, sandbox: XenditSandbox, path: str
) -> None:
    response = await client.post(path, json=invoice_body())
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= REQUIRED
    assert body["status"] == "PENDING"
    assert body["amount"] == 150000
    assert body["currency"] == "IDR"
    assert body["user_id"] == MASTER_USER_ID
    assert body["created"] == "2025-06-15T12:00:00.000Z"
    assert body["expiry_date"] == "2025-06-15T13:00:00.000Z"
    assert body["invoice_url"].endswith(body["id"])
    assert len(body["id"]) == 24
    assert {b["bank_code"] for b in body["available_banks"]} >= {"BCA", "MANDIRI"}
    assert body["available_qr_codes"] == [{"qr_code_type": "QRIS"}]
    assert body["customer"]["given_names"] == "Budi"
    assert body["items"][1] == {"name": "Socks", "price": 10000, "quantity": 2}
    assert body["fees"] == [{"type": "Shipping", "value": 10000}]
    stored = sandbox.invoices[body["id"]]
    assert stored.status == "PENDING"
    assert stored.amount == Decimal(150000)
    assert stored.created == NOW
    assert stored.expiry_date == NOW + timedelta(hours=1)
    assert stored.items is not None
    assert stored.items[1].quantity == Decimal(2)
    assert stored.customer is not None
    assert stored.customer.surname == "Santoso"
    assert stored.metadata == {"order": "0001"}


async def test_minimal_create_defaults(client: httpx.AsyncClient, sandbox: XenditSandbox) -> None:
    response = await client.post("/v2/invoices/", json={"external_id": "o-1", "amount": 50000})
    body = response.json()
    assert response.status_code == 200
    assert body["currency"] == "IDR"
    assert body["expiry_date"] == "2025-06-16T12:00:00.000Z"  # 24 hours
    assert body["should_send_email"] is False
    assert "items" not in body
    assert sandbox.invoices[body["id"]].payment_methods[-1] == "CREDIT_CARD"


async def test_created_times_are_strictly_increasing(client: httpx.AsyncClient) -> None:
    first = (await client.post("/v2/invoices/", json=invoice_body())).json()
    second = (await client.post("/v2/invoices/", json=invoice_body())).json()
    assert first["created"] == "2025-06-15T12:00:00.000Z"
    assert second["created"] == "2025-06-15T12:00:00.001Z"
    assert first["external_id"] == second["external_id"]  # not unique, as on Xendit
    assert first["id"] != second["id"]


async def test_idr_decimals_are_truncated(
    client: httpx.AsyncClient, sandbox: XenditSandbox
) -> None:
    response = await client.post("/v2/invoices/", json=invoice_body(amount=4550.99))
    assert response.status_code == 200
    assert b'"amount":4550,' in response.content
    assert sandbox.invoices[response.json()["id"]].amount == Decimal(4550)


async def test_php_keeps_two_decimals(client: httpx.AsyncClient, sandbox: XenditSandbox) -> None:
    body = invoice_body(amount=1499.5, currency="PHP", payment_methods=["GCASH", "7ELEVEN"])
    response = await client.post("/v2/invoices/", json=body)
    assert response.status_code == 200
    data = response.json()
    assert data["amount"] == 1499.5
    assert data["available_banks"] == []
    assert data["available_ewallets"] == [{"ewallet_type": "GCASH"}]
    assert data["available_retail_outlets"][0]["retail_outlet_name"] == "7ELEVEN"
    assert data["should_exclude_credit_card"] is True
    assert sandbox.invoices[data["id"]].payment_methods == ["7ELEVEN", "GCASH"]


async def test_usd_offers_cards_only(client: httpx.AsyncClient) -> None:
    data = (
        await client.post("/v2/invoices/", json=invoice_body(amount=25.0, currency="USD"))
    ).json()
    assert data["currency"] == "USD"
    for key in ("banks", "retail_outlets", "ewallets", "qr_codes", "direct_debits", "paylaters"):
        assert data[f"available_{key}"] == []


async def test_create_in_a_sub_account(client: httpx.AsyncClient, sandbox: XenditSandbox) -> None:
    response = await client.post(
        "/v2/invoices/", json=invoice_body(), headers={"for-user-id": SUB_ACCOUNT_ID}
    )
    body = response.json()
    assert body["user_id"] == SUB_ACCOUNT_ID
    assert body["merchant_name"] == sandbox.accounts[SUB_ACCOUNT_ID].merchant_name
    assert (await client.get(f"/v2/invoices/{body['id']}")).status_code == 404


async def test_reminder_sets_reminder_date(client: httpx.AsyncClient) -> None:
    body = invoice_body(invoice_duration=172800, reminder_time=1, reminder_time_unit="days")
    data = (await client.post("/v2/invoices/", json=body)).json()
    assert data["reminder_date"] == "2025-06-16T12:00:00.000Z"


INVALID: list[tuple[str, dict[str, Any], int, str]] = [
    ("no external_id", {"external_id": None}, 400, "API_VALIDATION_ERROR"),
    ("empty external_id", {"external_id": " "}, 400, "API_VALIDATION_ERROR"),
    ("no amount", {"amount": None}, 400, "API_VALIDATION_ERROR"),
    ("amount as string", {"amount": "50000"}, 400, "API_VALIDATION_ERROR"),
    ("amount zero", {"amount": 0}, 400, "API_VALIDATION_ERROR"),
    ("idr below 1 after truncation", {"amount": 0.9}, 400, "API_VALIDATION_ERROR"),
    ("idr over the maximum", {"amount": 1_000_000_001}, 400, "MAXIMUM_TRANSFER_AMOUNT_ERROR"),
    (
        "usd over the maximum",
        {"amount": 100_000.01, "currency": "USD"},
        400,
        "MAXIMUM_TRANSFER_AMOUNT_ERROR",
    ),
    ("usd three decimals", {"amount": 1.005, "currency": "USD"}, 400, "API_VALIDATION_ERROR"),
    ("unknown currency", {"currency": "EUR"}, 400, "UNSUPPORTED_CURRENCY"),
    ("lower-case currency", {"currency": "idr"}, 400, "UNSUPPORTED_CURRENCY"),
    ("payer email", {"payer_email": "not-an-email"}, 400, "EMAIL_FORMAT_ERROR"),
    (
        "customer email",
        {"customer": {"given_names": "A", "email": "a@b"}},
        400,
        "EMAIL_FORMAT_ERROR",
    ),
    ("duration zero", {"invoice_duration": 0}, 400, "API_VALIDATION_ERROR"),
    ("duration over a year", {"invoice_duration": 31_536_001}, 400, "API_VALIDATION_ERROR"),
    ("item without name", {"items": [{"price": 1, "quantity": 1}]}, 400, "API_VALIDATION_ERROR"),
    (
        "item negative quantity",
        {"items": [{"name": "a", "price": 1, "quantity": -1}]},
        400,
        "API_VALIDATION_ERROR",
    ),
    ("fee without value", {"fees": [{"type": "Shipping"}]}, 400, "API_VALIDATION_ERROR"),
    ("items not a list", {"items": {"name": "a"}}, 400, "API_VALIDATION_ERROR"),
    (
        "unknown channel",
        {"payment_methods": ["BITCOIN"]},
        400,
        "UNAVAILABLE_PAYMENT_METHOD_ERROR",
    ),
    ("other currency's channel", {"payment_methods": ["GCASH"]}, 400, "MISMATCH_CURRENCY_ERROR"),
    ("no channels", {"payment_methods": []}, 400, "NO_COLLECTION_METHODS_ERROR"),
    (
        "reminder unit",
        {"reminder_time": 1, "reminder_time_unit": "weeks"},
        400,
        "INVALID_REMINDER_TIME",
    ),
    (
        "reminder after expiry",
        {"reminder_time": 2, "reminder_time_unit": "hours"},
        400,
        "INVALID_REMINDER_TIME",
    ),
    (
        "too much metadata",
        {"metadata": {str(i): i for i in range(51)}},
        400,
        "API_VALIDATION_ERROR",
    ),
    (
        "fixed virtual account",
        {"callback_virtual_account_id": "va-1"},
        404,
        "CALLBACK_VIRTUAL_ACCOUNT_NOT_FOUND_ERROR",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "status", "code"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
async def test_invalid_create_is_refused_and_stores_nothing(
    client: httpx.AsyncClient,
    sandbox: XenditSandbox,
    overrides: dict[str, Any],
    status: int,
    code: str,
) -> None:
    before = len(sandbox.invoices)
    body = {k: v for k, v in invoice_body(**overrides).items() if v is not None}
    response = await client.post("/v2/invoices/", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error_code"] == code
    assert response.json()["message"]
    assert len(sandbox.invoices) == before


async def test_body_must_be_an_object(client: httpx.AsyncClient) -> None:
    response = await client.post("/v2/invoices/", json=[1, 2])
    assert response.status_code == 400
    assert response.json()["error_code"] == "API_VALIDATION_ERROR"
