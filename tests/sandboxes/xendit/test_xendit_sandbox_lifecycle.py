"""Reading one invoice, expiry by the clock, ``expire!``, and the sandbox's pay and settle."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from sandboxes.xendit import XenditSandbox

from .xendit_sandbox_helpers import NOW, FakeClock, find_invoice, invoice_body


async def _create(client: httpx.AsyncClient, **overrides: object) -> str:
    response = await client.post("/v2/invoices/", json=invoice_body(**overrides))
    assert response.status_code == 200
    invoice_id: str = response.json()["id"]
    return invoice_id


async def test_get_returns_the_invoice(client: httpx.AsyncClient, sandbox: XenditSandbox) -> None:
    inv = find_invoice(sandbox, status="SETTLED")
    body = (await client.get(f"/v2/invoices/{inv.id}")).json()
    assert body["id"] == inv.id
    assert body["status"] == "SETTLED"
    assert body["paid_amount"] == body["amount"]
    for key in ("paid_at", "payment_channel", "payment_method", "payment_destination"):
        assert body[key]


async def test_get_unknown_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/invoices/000000000000000000000000")
    assert response.status_code == 404
    assert response.json()["error_code"] == "INVOICE_NOT_FOUND_ERROR"


async def test_pending_past_expiry_reads_expired(
    client: httpx.AsyncClient, sandbox: XenditSandbox, clock: FakeClock
) -> None:
    invoice_id = await _create(client, invoice_duration=60)
    clock.advance(seconds=59)
    assert (await client.get(f"/v2/invoices/{invoice_id}")).json()["status"] == "PENDING"
    clock.advance(seconds=1)
    body = (await client.get(f"/v2/invoices/{invoice_id}")).json()
    assert body["status"] == "EXPIRED"
    assert body["updated"] == "2025-06-15T12:01:00.000Z"
    stored = sandbox.invoices[invoice_id]
    assert stored.status == "EXPIRED"
    assert stored.expired_at == NOW + timedelta(minutes=1)
    listed = (await client.get("/v2/invoices", params={"statuses": "PENDING", "limit": 100})).json()
    assert invoice_id not in {row["id"] for row in listed}


@pytest.mark.parametrize("path", ["/invoices/{id}/expire!", "/invoices/{id}/expire%21"])
async def test_expire_a_pending_invoice(
    client: httpx.AsyncClient, sandbox: XenditSandbox, clock: FakeClock, path: str
) -> None:
    invoice_id = await _create(client)
    clock.advance(minutes=5)
    response = await client.post(path.format(id=invoice_id))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "EXPIRED"
    assert body["updated"] == "2025-06-15T12:05:00.000Z"
    assert sandbox.invoices[invoice_id].status == "EXPIRED"
    assert sandbox.invoices[invoice_id].expired_at == NOW + timedelta(minutes=5)


async def test_expire_again_is_idempotent(
    client: httpx.AsyncClient, sandbox: XenditSandbox
) -> None:
    invoice_id = await _create(client)
    first = (await client.post(f"/invoices/{invoice_id}/expire!")).json()
    second = await client.post(f"/invoices/{invoice_id}/expire!")
    assert second.status_code == 200
    assert second.json() == first


@pytest.mark.parametrize("status", ["PAID", "SETTLED"])
async def test_expire_a_paid_invoice_is_refused(
    client: httpx.AsyncClient, sandbox: XenditSandbox, status: str
) -> None:
    inv = find_invoice(sandbox, status=status)
    updated = inv.updated
    response = await client.post(f"/invoices/{inv.id}/expire!")
    assert response.status_code == 404
    assert response.json()["error_code"] == "INVOICE_NOT_FOUND_ERROR"
    assert inv.status == status
    assert inv.updated == updated


async def test_expire_unknown_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/invoices/000000000000000000000000/expire!")
    assert response.status_code == 404
    assert response.json()["error_code"] == "INVOICE_NOT_FOUND_ERROR"


async def test_v2_expire_does_not_exist(client: httpx.AsyncClient) -> None:
    assert (await client.post("/v2/invoices/abc/expire!")).status_code == 404


async def test_pay_then_settle(
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    sandbox: XenditSandbox,
    clock: FakeClock,
) -> None:
    invoice_id = await _create(client)
    clock.advance(minutes=10)
    paid = await anonymous.post(
        f"/_sandbox/invoices/{invoice_id}/pay",
        json={"payment_channel": "OVO", "payment_method": "EWALLET"},
    )
    assert paid.status_code == 200
    body = paid.json()
    assert body["status"] == "PAID"
    assert body["paid_at"] == "2025-06-15T12:10:00.000Z"
    assert body["paid_amount"] == 150000
    assert body["payment_channel"] == "OVO"
    assert body["payment_method"] == "EWALLET"
    assert body["payment_destination"]
    stored = sandbox.invoices[invoice_id]
    assert stored.paid_amount == Decimal(150000)
    assert (await client.get(f"/v2/invoices/{invoice_id}")).json() == body
    clock.advance(days=1)
    settled = await anonymous.post(f"/_sandbox/invoices/{invoice_id}/settle")
    assert settled.status_code == 200
    assert settled.json()["status"] == "SETTLED"
    assert stored.settled_at == NOW + timedelta(days=1, minutes=10)
    # A paid invoice never expires, however late it is read.
    clock.advance(days=400)
    assert (await client.get(f"/v2/invoices/{invoice_id}")).json()["status"] == "SETTLED"


async def test_pay_defaults_to_the_first_channel(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    invoice_id = await _create(client)
    body = (await anonymous.post(f"/_sandbox/invoices/{invoice_id}/pay")).json()
    assert body["payment_channel"] == "BCA"
    assert body["payment_method"] == "BANK_TRANSFER"
    assert body["bank_code"] == "BCA"
    assert body["payment_destination"].startswith("8808")


async def test_paid_invoices_are_listed_by_channel(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    invoice_id = await _create(client)
    await anonymous.post(f"/_sandbox/invoices/{invoice_id}/pay", json={"payment_channel": "QRIS"})
    rows = (await client.get("/v2/invoices", params={"payment_channels": "QRIS"})).json()
    assert rows[0]["id"] == invoice_id
    assert rows[0]["payment_method"] == "QR_CODE"


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("PAID", "INVOICE_ALREADY_PAID_ERROR"),
        ("SETTLED", "INVOICE_ALREADY_PAID_ERROR"),
        ("EXPIRED", "INVOICE_EXPIRED_ERROR"),
    ],
)
async def test_pay_is_refused_unless_pending(
    anonymous: httpx.AsyncClient, sandbox: XenditSandbox, status: str, code: str
) -> None:
    inv = find_invoice(sandbox, status=status)
    response = await anonymous.post(f"/_sandbox/invoices/{inv.id}/pay")
    assert response.status_code == 400
    assert response.json()["error_code"] == code
    assert inv.status == status


async def test_pay_refuses_a_channel_the_invoice_lacks(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, sandbox: XenditSandbox
) -> None:
    invoice_id = await _create(client)
    for body, code in (
        ({"payment_channel": "GCASH"}, "UNAVAILABLE_PAYMENT_METHOD_ERROR"),
        ({"payment_method": "CASH"}, "API_VALIDATION_ERROR"),
        ({"payment_channel": 5}, "API_VALIDATION_ERROR"),
    ):
        response = await anonymous.post(f"/_sandbox/invoices/{invoice_id}/pay", json=body)
        assert response.status_code == 400
        assert response.json()["error_code"] == code
    bad_json = await anonymous.post(f"/_sandbox/invoices/{invoice_id}/pay", content=b"[")
    assert bad_json.status_code == 400
    assert sandbox.invoices[invoice_id].status == "PENDING"


async def test_pay_after_expiry_is_refused(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, clock: FakeClock
) -> None:
    invoice_id = await _create(client, invoice_duration=60)
    clock.advance(minutes=2)
    response = await anonymous.post(f"/_sandbox/invoices/{invoice_id}/pay")
    assert response.json()["error_code"] == "INVOICE_EXPIRED_ERROR"


async def test_settle_requires_paid(anonymous: httpx.AsyncClient, sandbox: XenditSandbox) -> None:
    inv = find_invoice(sandbox, status="PENDING")
    response = await anonymous.post(f"/_sandbox/invoices/{inv.id}/settle")
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVOICE_NOT_PAID_ERROR"
    missing = await anonymous.post("/_sandbox/invoices/nope/settle")
    assert missing.status_code == 404
    assert (await anonymous.post("/_sandbox/invoices/nope/pay")).status_code == 404
