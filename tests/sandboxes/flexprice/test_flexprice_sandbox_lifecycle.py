"""Finalize, void, manual payment status, wallet payment and update."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from sandboxes.flexprice import FlexPriceSandbox
from sandboxes.flexprice.records import PAYMENT_STATUSES

from .flexprice_sandbox_helpers import NOW, find_invoice

NOT_FOUND = ("POST", "/v1/invoices/inv_missing/{}")

# -- finalize ------------------------------------------------------------------------------


async def test_finalize_a_draft(client: httpx.AsyncClient, sandbox: FlexPriceSandbox) -> None:
    draft = find_invoice(sandbox, invoice_status="DRAFT", invoice_type="ONE_OFF")
    response = await client.post(f"/v1/invoices/{draft.id}/finalize")
    assert response.status_code == 200
    assert response.json() == {"message": "invoice finalized successfully"}
    assert draft.invoice_status == "FINALIZED"
    assert draft.finalized_at == NOW
    assert draft.invoice_number is not None
    assert draft.invoice_number.startswith("INV-202506-")


async def test_finalize_a_subscription_draft_recomputes_totals(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    draft = find_invoice(sandbox, invoice_status="DRAFT", invoice_type="SUBSCRIPTION")
    await client.post(f"/v1/invoices/{draft.id}/finalize")
    assert draft.invoice_status == "FINALIZED"
    assert draft.total == draft.amount_due == draft.subtotal
    assert draft.amount_remaining == draft.amount_due - draft.amount_paid


async def test_finalize_a_skipped_invoice_is_a_no_op(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    skipped = find_invoice(sandbox, invoice_status="SKIPPED")
    updated = skipped.updated_at
    response = await client.post(f"/v1/invoices/{skipped.id}/finalize")
    assert response.status_code == 200
    assert skipped.invoice_status == "SKIPPED"
    assert skipped.invoice_number is None
    assert skipped.updated_at == updated


@pytest.mark.parametrize("status", ["FINALIZED", "VOIDED"])
async def test_finalize_other_statuses_is_400(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox, status: str
) -> None:
    inv = find_invoice(sandbox, invoice_status=status)
    response = await client.post(f"/v1/invoices/{inv.id}/finalize")
    assert response.status_code == 400
    assert response.json() == {
        "code": "validation_error",
        "message": "invoice must be in draft status to be finalized",
        "http_status_code": 400,
    }
    assert inv.invoice_status == status


async def test_finalize_with_auto_completed_metadata_marks_it_paid(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    draft = find_invoice(sandbox, invoice_status="DRAFT", invoice_type="ONE_OFF")
    draft.metadata = {"auto_completed": "true"}
    await client.post(f"/v1/invoices/{draft.id}/finalize")
    assert draft.payment_status == "SUCCEEDED"
    assert draft.amount_paid == draft.amount_due
    assert draft.amount_remaining == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "finalize"),
        ("POST", "void"),
        ("POST", "payment/attempt"),
        ("POST", "recalculate"),
        ("POST", "recalculate-v2"),
        ("POST", "comms/trigger"),
        ("GET", "pdf"),
    ],
)
async def test_unknown_invoice_is_404(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, f"/v1/invoices/inv_missing/{path}")
    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "message": "Invoice with ID inv_missing was not found",
        "http_status_code": 404,
        "details": {"invoice_id": "inv_missing"},
    }


# -- void ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["DRAFT", "FINALIZED", "SKIPPED"])
async def test_void_allowed_statuses(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox, status: str
) -> None:
    inv = find_invoice(sandbox, invoice_status=status, payment_status="PENDING")
    response = await client.post(f"/v1/invoices/{inv.id}/void")
    assert response.status_code == 200
    assert response.json() == {"message": "invoice voided successfully"}
    assert inv.invoice_status == "VOIDED"
    assert inv.voided_at == NOW
    assert inv.payment_status == "PENDING"


async def test_void_twice_is_400(client: httpx.AsyncClient, sandbox: FlexPriceSandbox) -> None:
    inv = find_invoice(sandbox, invoice_status="VOIDED")
    response = await client.post(f"/v1/invoices/{inv.id}/void")
    assert response.status_code == 400
    assert response.json()["message"] == "invoice status - VOIDED is not allowed"


@pytest.mark.parametrize(
    ("payment", "allowed"),
    [
        (p, p in {"PENDING", "FAILED", "SUCCEEDED", "PARTIALLY_REFUNDED", "OVERPAID"})
        for p in PAYMENT_STATUSES
    ],
)
async def test_void_depends_on_payment_status(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox, payment: str, allowed: bool
) -> None:
    inv = find_invoice(sandbox, invoice_status="FINALIZED", payment_status=payment)
    response = await client.post(f"/v1/invoices/{inv.id}/void")
    if allowed:
        assert response.status_code == 200
        assert inv.invoice_status == "VOIDED"
    else:
        assert response.status_code == 400
        assert response.json()["message"] == f"invoice payment status - {payment} is not allowed"
        assert inv.invoice_status == "FINALIZED"


async def test_void_merges_metadata_and_credits_the_wallet(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    inv = find_invoice(
        sandbox,
        invoice_status="FINALIZED",
        payment_status="SUCCEEDED",
        where=lambda i: bool(i.metadata),
    )
    before = sandbox.wallet_balance(inv.customer_id, inv.currency)
    old_metadata = dict(inv.metadata or {})
    response = await client.post(
        f"/v1/invoices/{inv.id}/void", json={"metadata": {"reason": "dup"}}
    )
    assert response.status_code == 200
    assert inv.metadata == {**old_metadata, "reason": "dup"}
    assert sandbox.wallets[inv.customer_id][inv.currency] == before + inv.amount_paid


async def test_void_of_a_partially_refunded_invoice_credits_the_unrefunded_part(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    inv = find_invoice(sandbox, invoice_status="FINALIZED", payment_status="PARTIALLY_REFUNDED")
    before = sandbox.wallet_balance(inv.customer_id, inv.currency)
    await client.post(f"/v1/invoices/{inv.id}/void")
    expected = inv.amount_paid - inv.refunded_amount
    assert sandbox.wallet_balance(inv.customer_id, inv.currency) == before + expected


async def test_void_of_an_unpaid_invoice_leaves_the_wallet(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    inv = find_invoice(
        sandbox,
        invoice_status="FINALIZED",
        payment_status="FAILED",
        where=lambda i: not i.amount_paid,
    )
    before = sandbox.wallet_balance(inv.customer_id, inv.currency)
    await client.post(f"/v1/invoices/{inv.id}/void")
    assert sandbox.wallet_balance(inv.customer_id, inv.currency) == before


# -- manual payment status -----------------------------------------------------------------

TRANSITIONS = {
    "PENDING": {"PENDING", "SUCCEEDED", "OVERPAID", "FAILED"},
    "SUCCEEDED": {"SUCCEEDED", "OVERPAID"},
    "OVERPAID": {"OVERPAID"},
    "FAILED": {"PENDING", "FAILED", "SUCCEEDED", "OVERPAID"},
}


@pytest.mark.parametrize("source", sorted(TRANSITIONS))
@pytest.mark.parametrize("target", ["PENDING", "SUCCEEDED", "FAILED"])
async def test_payment_status_table(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox, source: str, target: str
) -> None:
    inv = find_invoice(sandbox, invoice_status="FINALIZED", payment_status=source)
    response = await client.put(f"/v1/invoices/{inv.id}/payment", json={"payment_status": target})
    if target in TRANSITIONS[source]:
        assert response.status_code == 200
        assert response.json()["payment_status"] == target
        assert inv.payment_status == target
    else:
        assert response.status_code == 400
        assert response.json()["message"] == (
            f"invalid payment status transition from {source} to {target}"
        )
        assert inv.payment_status == source


@pytest.mark.parametrize(
    "source", ["INITIATED", "PROCESSING", "REFUNDED", "VOIDED", "PARTIALLY_REFUNDED"]
)
async def test_payment_status_without_a_row_cannot_change(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox, source: str
) -> None:
    inv = find_invoice(sandbox, invoice_status="FINALIZED", payment_status=source)
    response = await client.put(
        f"/v1/invoices/{inv.id}/payment", json={"payment_status": "SUCCEEDED"}
    )
    assert response.status_code == 400
    assert response.json()["message"] == f"invalid current payment status: {source}"


async def test_payment_succeeded_pays_in_full(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    inv = find_invoice(sandbox, invoice_status="FINALIZED", payment_status="PENDING")
    response = await client.put(
        f"/v1/invoices/{inv.id}/payment", json={"payment_status": "SUCCEEDED"}
    )
    body = response.json()
    assert Decimal(body["amount_paid"]) == inv.amount_due
    assert body["amount_remaining"] == "0"
    assert body["paid_at"] == "2025-06-15T12:00:00Z"
    assert body["customer"]["id"] == inv.customer_id  # re-read invoice: customer embedded
    assert inv.paid_at == NOW


async def test_payment_pending_with_amount_is_partial(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    inv = find_invoice(
        sandbox,
        invoice_status="FINALIZED",
        payment_status="PENDING",
        where=lambda i: i.amount_due > 10,
    )
    response = await client.put(
        f"/v1/invoices/{inv.id}/payment", json={"payment_status": "PENDING", "amount": "10"}
    )
    assert response.status_code == 200
    assert inv.amount_paid == Decimal(10)
    assert inv.amount_remaining == inv.amount_due - 10


async def test_payment_pending_without_amount_changes_nothing(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    inv = find_invoice(sandbox, invoice_status="FINALIZED", payment_status="FAILED")
    await client.put(f"/v1/invoices/{inv.id}/payment", json={"payment_status": "PENDING"})
    assert inv.payment_status == "PENDING"
    assert inv.amount_paid == 0
    assert inv.amount_remaining == inv.amount_due


async def test_payment_failed_resets_amounts(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    inv = find_invoice(
        sandbox,
        invoice_status="FINALIZED",
        payment_status="PENDING",
        where=lambda i: i.amount_paid > 0,
    )
    await client.put(f"/v1/invoices/{inv.id}/payment", json={"payment_status": "FAILED"})
    assert inv.amount_paid == 0
    assert inv.amount_remaining == inv.amount_due
    assert inv.paid_at is None


async def test_payment_overpaid_needs_nothing_remaining(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    pending = find_invoice(sandbox, invoice_status="FINALIZED", payment_status="PENDING")
    paid = find_invoice(sandbox, invoice_status="FINALIZED", payment_status="SUCCEEDED")
    refused = await client.put(
        f"/v1/invoices/{pending.id}/payment", json={"payment_status": "OVERPAID"}
    )
    accepted = await client.put(
        f"/v1/invoices/{paid.id}/payment", json={"payment_status": "OVERPAID"}
    )
    assert refused.status_code == 400
    assert pending.payment_status == "PENDING"
    assert accepted.status_code == 200
    assert paid.payment_status == "OVERPAID"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"payment_status": "PENDING", "amount": "-1"}, "amount must be non-negative"),
        ({"payment_status": "PENDING", "amount": "1000000000"}, None),
    ],
)
async def test_payment_amount_rules(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox, body: dict[str, str], message: str | None
) -> None:
    inv = find_invoice(sandbox, invoice_status="FINALIZED", payment_status="PENDING")
    response = await client.put(f"/v1/invoices/{inv.id}/payment", json=body)
    assert response.status_code == 400
    if message:
        assert response.json()["message"] == message
    assert inv.payment_status == "PENDING"


@pytest.mark.parametrize("status", ["VOIDED", "SKIPPED"])
async def test_payment_needs_draft_or_finalized(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox, status: str
) -> None:
    inv = find_invoice(sandbox, invoice_status=status, payment_status="PENDING")
    response = await client.put(
        f"/v1/invoices/{inv.id}/payment", json={"payment_status": "SUCCEEDED"}
    )
    assert response.status_code == 400
    assert response.json()["message"] == f"invoice status - {status} is not allowed"


async def test_payment_on_unknown_invoice_is_404(client: httpx.AsyncClient) -> None:
    response = await client.put(
        "/v1/invoices/inv_missing/payment", json={"payment_status": "PENDING"}
    )
    assert response.status_code == 404


# -- wallet payment attempt --------------------------------------------------------------


async def test_attempt_pays_from_the_wallet(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    inv = find_invoice(sandbox, invoice_status="FINALIZED", payment_status="PENDING")
    sandbox.wallets[inv.customer_id] = {inv.currency: inv.amount_remaining + 5}
    response = await client.post(f"/v1/invoices/{inv.id}/payment/attempt")
    assert response.status_code == 200
    assert response.json() == {"message": "payment processed successfully"}
    assert inv.payment_status == "SUCCEEDED"
    assert inv.amount_remaining == 0
    assert inv.paid_at == NOW
    assert sandbox.wallets[inv.customer_id][inv.currency] == 5
    # A wallet payment is a payment record: manual status updates are now refused.
    manual = await client.put(
        f"/v1/invoices/{inv.id}/payment", json={"payment_status": "SUCCEEDED"}
    )
    assert manual.status_code == 400
    assert manual.json()["code"] == "invalid_operation"


async def test_attempt_with_a_short_wallet_pays_part(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    inv = find_invoice(
        sandbox,
        invoice_status="FINALIZED",
        payment_status="PENDING",
        where=lambda i: i.amount_paid == 0,
    )
    sandbox.wallets[inv.customer_id] = {inv.currency: Decimal(1)}
    response = await client.post(f"/v1/invoices/{inv.id}/payment/attempt")
    assert response.status_code == 200
    assert inv.amount_paid == 1
    assert inv.payment_status == "PENDING"
    assert sandbox.wallets[inv.customer_id][inv.currency] == 0


async def test_attempt_with_an_empty_wallet_changes_nothing(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    inv = find_invoice(sandbox, invoice_status="FINALIZED", payment_status="FAILED")
    sandbox.wallets.pop(inv.customer_id, None)
    response = await client.post(f"/v1/invoices/{inv.id}/payment/attempt")
    assert response.status_code == 200
    assert inv.payment_status == "FAILED"
    assert not inv.payments


@pytest.mark.parametrize(
    ("invoice_status", "payment_status", "code", "message"),
    [
        (
            "DRAFT",
            "PENDING",
            "validation_error",
            "Invoice must be finalized before attempting payment",
        ),
        (
            "VOIDED",
            "PENDING",
            "validation_error",
            "Invoice must be finalized before attempting payment",
        ),
        ("FINALIZED", "SUCCEEDED", "invalid_operation", "Invoice is already paid"),
        ("FINALIZED", "REFUNDED", "validation_error", "Invoice has no remaining amount to pay"),
    ],
)
async def test_attempt_refusals(
    client: httpx.AsyncClient,
    sandbox: FlexPriceSandbox,
    invoice_status: str,
    payment_status: str,
    code: str,
    message: str,
) -> None:
    inv = find_invoice(sandbox, invoice_status=invoice_status, payment_status=payment_status)
    response = await client.post(f"/v1/invoices/{inv.id}/payment/attempt")
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["message"] == message


async def test_attempt_on_skipped_is_a_no_op(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    inv = find_invoice(sandbox, invoice_status="SKIPPED")
    response = await client.post(f"/v1/invoices/{inv.id}/payment/attempt")
    assert response.status_code == 200
    assert inv.payment_status == "PENDING"


# -- update --------------------------------------------------------------------------------


async def test_update_due_date_pdf_url_and_metadata(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    inv = find_invoice(sandbox, invoice_status="FINALIZED", where=lambda i: bool(i.metadata))
    version = inv.version
    response = await client.put(
        f"/v1/invoices/{inv.id}",
        json={
            "due_date": "2025-08-01T00:00:00Z",
            "invoice_pdf_url": "https://files.example.com/x.pdf",
            "metadata": {"po": "PO-1"},
        },
    )
    assert response.status_code == 200
    assert response.json()["due_date"] == "2025-08-01T00:00:00Z"
    assert response.json()["metadata"] == {"po": "PO-1"}
    assert inv.metadata == {"po": "PO-1"}  # replaced, not merged
    assert inv.invoice_pdf_url == "https://files.example.com/x.pdf"
    assert inv.version == version + 1


@pytest.mark.parametrize("status", ["VOIDED", "SKIPPED"])
async def test_update_needs_draft_or_finalized(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox, status: str
) -> None:
    inv = find_invoice(sandbox, invoice_status=status)
    response = await client.put(f"/v1/invoices/{inv.id}", json={"metadata": {"a": "b"}})
    assert response.status_code == 400
    assert response.json()["message"] == (
        "Invoice can only be updated when in draft or finalized status"
    )


async def test_update_rejects_plain_http_pdf_url(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    inv = find_invoice(sandbox, invoice_status="DRAFT")
    response = await client.put(f"/v1/invoices/{inv.id}", json={"invoice_pdf_url": "http://x/y"})
    assert response.status_code == 400
    assert inv.invoice_pdf_url is None


async def test_update_unknown_invoice_is_404(client: httpx.AsyncClient) -> None:
    response = await client.put("/v1/invoices/inv_missing", json={})
    assert response.status_code == 404
