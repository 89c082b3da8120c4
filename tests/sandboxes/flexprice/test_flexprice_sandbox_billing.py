"""Preview, recalculation, communication, PDF and the customer summary."""

from __future__ import annotations

import io
from decimal import Decimal

import httpx
import pypdf

from sandboxes.flexprice import FlexPriceSandbox

from .flexprice_sandbox_helpers import NOW, find_invoice

# -- preview --------------------------------------------------------------------------------


async def test_preview_is_computed_and_not_stored(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    sub = next(s for s in sandbox.subscriptions.values() if s.subscription_status == "active")
    count = len(sandbox.invoices)
    response = await client.post("/v1/invoices/preview", json={"subscription_id": sub.id})
    assert response.status_code == 200
    body = response.json()
    assert body["invoice_type"] == "SUBSCRIPTION"
    assert body["invoice_status"] == "DRAFT"
    assert body["subscription_id"] == sub.id
    assert body["customer"]["id"] == sub.customer_id
    assert body["period_start"] == sub.current_period_start.strftime("%Y-%m-%dT%H:%M:%SZ")
    total = sum(Decimal(li["amount"]) for li in body["line_items"])
    assert Decimal(body["amount_due"]) == total
    assert body["id"] not in sandbox.invoices
    assert len(sandbox.invoices) == count


async def test_preview_with_a_period_and_unknown_subscription(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    sub = next(iter(sandbox.subscriptions.values()))
    custom = await client.post(
        "/v1/invoices/preview",
        json={
            "subscription_id": sub.id,
            "period_start": "2025-01-01T00:00:00Z",
            "period_end": "2025-02-01T00:00:00Z",
            "hide_zero_charges_line_items": True,
        },
    )
    assert custom.json()["period_end"] == "2025-02-01T00:00:00Z"
    assert all(Decimal(li["amount"]) != 0 for li in custom.json()["line_items"])
    missing = await client.post("/v1/invoices/preview", json={"subscription_id": "subs_x"})
    assert missing.status_code == 404


# -- recalculate (voided subscription invoice) ----------------------------------------------


async def test_recalculate_creates_a_linked_replacement(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    voided = find_invoice(sandbox, invoice_status="VOIDED", invoice_type="SUBSCRIPTION")
    response = await client.post(f"/v1/invoices/{voided.id}/recalculate")
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"message", "run_id", "workflow_id"}
    assert body["message"] == "recalculate invoice workflow started"
    assert voided.recalculated_invoice_id is not None
    replacement = sandbox.invoices[voided.recalculated_invoice_id]
    assert replacement.invoice_status == "FINALIZED"
    assert replacement.subscription_id == voided.subscription_id
    assert (replacement.period_start, replacement.period_end) == (
        voided.period_start,
        voided.period_end,
    )
    assert replacement.amount_due == sum((li.amount for li in replacement.line_items), Decimal(0))
    shown = (await client.get(f"/v1/invoices/{voided.id}")).json()
    assert shown["recalculated_invoice_id"] == replacement.id
    again = await client.post(f"/v1/invoices/{voided.id}/recalculate")
    assert again.status_code == 400


async def test_recalculate_refuses_other_invoices(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    live = find_invoice(sandbox, invoice_status="FINALIZED", invoice_type="SUBSCRIPTION")
    one_off = find_invoice(sandbox, invoice_status="VOIDED", invoice_type="ONE_OFF")
    for inv in (live, one_off):
        response = await client.post(f"/v1/invoices/{inv.id}/recalculate")
        assert response.status_code == 400
        assert response.json()["code"] == "validation_error"
        assert inv.recalculated_invoice_id is None


# -- recalculate-v2 (draft subscription invoice, in place) --------------------------------


async def test_recalculate_v2_recomputes_and_finalizes_by_default(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    draft = find_invoice(sandbox, invoice_status="DRAFT", invoice_type="SUBSCRIPTION")
    amount = draft.amount_due
    response = await client.post(f"/v1/invoices/{draft.id}/recalculate-v2")
    assert response.status_code == 200
    assert response.json()["id"] == draft.id
    assert response.json()["invoice_status"] == "FINALIZED"
    assert draft.amount_due == amount  # same plan, same usage for the same billing period
    assert draft.last_computed_at == NOW


async def test_recalculate_v2_can_leave_it_draft(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    draft = find_invoice(sandbox, invoice_status="DRAFT", invoice_type="SUBSCRIPTION")
    response = await client.post(
        f"/v1/invoices/{draft.id}/recalculate-v2", params={"finalize": "false"}
    )
    assert response.json()["invoice_status"] == "DRAFT"
    assert draft.invoice_number is None


async def test_recalculate_v2_needs_a_subscription_draft(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    finalized = find_invoice(sandbox, invoice_status="FINALIZED", invoice_type="SUBSCRIPTION")
    one_off = find_invoice(sandbox, invoice_status="DRAFT", invoice_type="ONE_OFF")
    first = await client.post(f"/v1/invoices/{finalized.id}/recalculate-v2")
    second = await client.post(f"/v1/invoices/{one_off.id}/recalculate-v2")
    assert first.json()["message"] == "Only draft invoices can be recalculated"
    assert second.json()["message"] == "Only subscription invoices can be recalculated"
    assert one_off.invoice_status == "DRAFT"


# -- comms -----------------------------------------------------------------------------------


async def test_comms_trigger(client: httpx.AsyncClient, sandbox: FlexPriceSandbox) -> None:
    inv = find_invoice(sandbox, invoice_status="FINALIZED")
    response = await client.post(f"/v1/invoices/{inv.id}/comms/trigger")
    assert response.status_code == 200
    assert response.json() == {"message": "communication triggered successfully"}


# -- PDF -------------------------------------------------------------------------------------


async def test_pdf_is_a_real_pdf_with_number_customer_and_total(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    inv = find_invoice(sandbox, invoice_status="FINALIZED", where=lambda i: len(i.line_items) > 1)
    response = await client.get(f"/v1/invoices/{inv.id}/pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.content), strict=True)
    text = reader.pages[0].extract_text()
    assert inv.invoice_number is not None
    assert inv.invoice_number in text
    assert sandbox.customers[inv.customer_id].name in text
    assert all(line.display_name in text for line in inv.line_items if line.display_name)
    assert f"Total: {inv.total.normalize():f}" in text


async def test_pdf_url_points_at_the_same_bytes_without_auth(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    inv = find_invoice(sandbox, invoice_status="DRAFT")
    direct = await client.get(f"/v1/invoices/{inv.id}/pdf")
    linked = await client.get(f"/v1/invoices/{inv.id}/pdf", params={"url": "true"})
    url = linked.json()["presigned_url"]
    assert url == f"http://flexprice.sandbox/_sandbox/files/{inv.id}.pdf"
    fetched = await anonymous.get(url)
    assert fetched.status_code == 200
    assert fetched.content == direct.content
    assert (await anonymous.get("/_sandbox/files/inv_missing.pdf")).status_code == 404


async def test_pdf_url_prefers_a_stored_invoice_pdf_url(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    inv = find_invoice(sandbox, where=lambda i: i.invoice_pdf_url is not None)
    linked = await client.get(f"/v1/invoices/{inv.id}/pdf", params={"url": "true"})
    assert linked.json() == {"presigned_url": inv.invoice_pdf_url}


# -- customer invoice summary ------------------------------------------------------------


async def test_summary_per_subscription_currency(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    sub = next(s for s in sandbox.subscriptions.values() if s.subscription_status == "active")
    response = await client.get(f"/v1/customers/{sub.customer_id}/invoices/summary")
    assert response.status_code == 200
    body = response.json()
    assert body["customer_id"] == sub.customer_id
    assert body["default_currency"] == sub.currency
    [row] = [r for r in body["summaries"] if r["currency"] == sub.currency]
    counted = [
        i
        for i in sandbox.invoices.values()
        if i.currency == sub.currency
        and i.invoice_status in ("DRAFT", "FINALIZED")
        and sub.customer_id in (i.customer_id, i.subscription_customer_id)
    ]
    unpaid = [i for i in counted if i.payment_status != "SUCCEEDED"]
    overdue = [i for i in unpaid if i.due_date is not None and i.due_date < NOW]
    assert row["total_invoice_count"] == len(counted)
    assert row["unpaid_invoice_count"] == len(unpaid)
    assert row["overdue_invoice_count"] == len(overdue)
    assert Decimal(row["total_revenue_amount"]) == sum((i.amount_due for i in counted), Decimal(0))
    assert Decimal(row["total_unpaid_amount"]) == sum(
        (i.amount_remaining for i in unpaid), Decimal(0)
    )
    split = Decimal(row["unpaid_usage_charges"]) + Decimal(row["unpaid_fixed_charges"])
    assert split == sum((li.amount for i in unpaid for li in i.line_items), Decimal(0))


async def test_summary_without_subscriptions_is_empty(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    subscribed = {s.customer_id for s in sandbox.subscriptions.values()}
    customer = next(c for c in sandbox.customers.values() if c.id not in subscribed)
    for customer_id in (customer.id, "cust_unknown"):
        response = await client.get(f"/v1/customers/{customer_id}/invoices/summary")
        assert response.status_code == 200
        assert response.json() == {
            "customer_id": customer_id,
            "default_currency": "",
            "summaries": [],
        }


async def test_a_preview_bills_the_period_it_is_asked_for(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    sub = next(
        s
        for s in sandbox.subscriptions.values()
        if s.subscription_status == "active" and any(c.price_type == "USAGE" for c in s.charges)
    )
    year = sub.start_date.year + 1

    async def total(month: int) -> Decimal:
        response = await client.post(
            "/v1/invoices/preview",
            json={
                "subscription_id": sub.id,
                "period_start": f"{year}-{month:02d}-01T00:00:00Z",
                "period_end": f"{year}-{month + 1:02d}-01T00:00:00Z",
            },
        )
        assert response.status_code == 200, response.text
        return Decimal(response.json()["amount_due"])

    june, november = await total(6), await total(11)
    assert june != november  # each period's own usage (they were the same)
    assert await total(6) == june  # and the same period always bills the same
