"""``GET /v2/invoices``: bare array, newest first, filters, ``limit`` and the cursor."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from sandboxes.xendit import XenditSandbox

from .xendit_sandbox_helpers import SUB_ACCOUNT_ID, find_invoice, master_invoices


async def test_list_is_a_bare_array_newest_first_with_ten_by_default(
    client: httpx.AsyncClient, sandbox: XenditSandbox
) -> None:
    response = await client.get("/v2/invoices")
    assert response.status_code == 200
    rows = response.json()
    assert isinstance(rows, list)
    assert [r["id"] for r in rows] == [i.id for i in master_invoices(sandbox)[:10]]


@pytest.mark.parametrize(("limit", "count"), [("10.0", 10), ("3", 3), ("250", 100)])
async def test_limit_accepts_floats_and_is_capped(
    client: httpx.AsyncClient, limit: str, count: int
) -> None:
    rows = (await client.get("/v2/invoices", params={"limit": limit})).json()
    assert len(rows) == count


@pytest.mark.parametrize("limit", ["0", "2.5", "ten", "-1"])
async def test_bad_limit_is_a_validation_error(client: httpx.AsyncClient, limit: str) -> None:
    response = await client.get("/v2/invoices", params={"limit": limit})
    assert response.status_code == 400
    assert response.json()["error_code"] == "API_VALIDATION_ERROR"


@pytest.mark.parametrize("cursor_name", ["last_invoice", "last_invoice_id"])
async def test_walking_every_page_returns_each_invoice_once_newest_first(
    client: httpx.AsyncClient, sandbox: XenditSandbox, cursor_name: str
) -> None:
    seen: list[str] = []
    params: dict[str, str] = {"limit": "100.0"}
    while True:
        page = (await client.get("/v2/invoices", params=params)).json()
        if not page:
            break
        seen.extend(row["id"] for row in page)
        params[cursor_name] = page[-1]["id"]
    assert seen == [i.id for i in master_invoices(sandbox)]
    assert len(seen) == len(set(seen)) >= 400


async def test_cursor_combines_with_filters(
    client: httpx.AsyncClient, sandbox: XenditSandbox
) -> None:
    expected = [i.id for i in master_invoices(sandbox) if i.status == "SETTLED"]
    first = (await client.get("/v2/invoices?statuses=SETTLED&limit=5")).json()
    rest = (
        await client.get(f"/v2/invoices?statuses=SETTLED&limit=100&last_invoice={first[-1]['id']}")
    ).json()
    assert [r["id"] for r in first + rest] == expected[: 5 + len(rest)]


async def test_unknown_cursor_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/invoices", params={"last_invoice": "ffffffffffffffffffffffff"})
    assert response.status_code == 400
    assert response.json()["error_code"] == "API_VALIDATION_ERROR"


async def test_another_accounts_invoice_is_no_cursor(
    client: httpx.AsyncClient, sandbox: XenditSandbox
) -> None:
    theirs = find_invoice(sandbox, user_id=SUB_ACCOUNT_ID)
    response = await client.get("/v2/invoices", params={"last_invoice": theirs.id})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "statuses=PAID&statuses=EXPIRED",
        "statuses[]=PAID&statuses[]=EXPIRED",
        'statuses=["PAID","EXPIRED"]',
    ],
    ids=["repeated", "brackets", "json-array"],
)
async def test_statuses_in_every_wire_form(
    client: httpx.AsyncClient, sandbox: XenditSandbox, query: str
) -> None:
    rows = (await client.get(f"/v2/invoices?{query}&limit=100")).json()
    expected = [i.id for i in master_invoices(sandbox) if i.status in ("PAID", "EXPIRED")]
    assert [r["id"] for r in rows] == expected[:100]


async def test_unknown_status_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/invoices", params={"statuses": "VOIDED"})
    assert response.status_code == 400
    assert response.json()["error_code"] == "API_VALIDATION_ERROR"


async def test_external_id_returns_every_match(
    client: httpx.AsyncClient, sandbox: XenditSandbox
) -> None:
    counts: dict[str, int] = {}
    for inv in master_invoices(sandbox):
        counts[inv.external_id] = counts.get(inv.external_id, 0) + 1
    repeated = next(e for e, n in counts.items() if n > 1)
    rows = (await client.get("/v2/invoices", params={"external_id": repeated})).json()
    assert len(rows) == counts[repeated]
    assert {r["external_id"] for r in rows} == {repeated}
    assert (await client.get("/v2/invoices", params={"external_id": "nope"})).json() == []


async def test_created_range_with_offsets_is_inclusive(
    client: httpx.AsyncClient, sandbox: XenditSandbox
) -> None:
    invoices = master_invoices(sandbox)
    newest, older = invoices[3], invoices[7]
    params = {
        "created_after": older.created.isoformat(),  # +00:00, as the SDK sends it
        "created_before": newest.created.isoformat(),
        "limit": "100.0",
    }
    rows = (await client.get("/v2/invoices", params=params)).json()
    assert [r["id"] for r in rows] == [i.id for i in invoices[3:8]]


async def test_paid_range_matches_paid_invoices_only(
    client: httpx.AsyncClient, sandbox: XenditSandbox
) -> None:
    paid = [i for i in master_invoices(sandbox) if i.paid_at is not None]
    start = min(i.paid_at for i in paid[:20] if i.paid_at)
    params = {"paid_after": start.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "limit": 100}
    rows = (await client.get("/v2/invoices", params=params)).json()
    expected = [i.id for i in paid if i.paid_at and i.paid_at >= start]
    assert [r["id"] for r in rows] == expected
    assert all(r["status"] in ("PAID", "SETTLED") for r in rows)


async def test_expired_range(client: httpx.AsyncClient, sandbox: XenditSandbox) -> None:
    expired = [i for i in master_invoices(sandbox) if i.expired_at is not None]
    first = min(i.expired_at for i in expired if i.expired_at)
    params = {
        "expired_after": first.isoformat(),
        "expired_before": (first + timedelta(days=20)).isoformat(),
        "limit": 100,
    }
    rows = (await client.get("/v2/invoices", params=params)).json()
    assert rows
    assert all(r["status"] == "EXPIRED" for r in rows)


async def test_bad_date_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/invoices", params={"created_after": "yesterday"})
    assert response.status_code == 400


async def test_client_types_and_payment_channels(
    client: httpx.AsyncClient, sandbox: XenditSandbox
) -> None:
    rows = (await client.get("/v2/invoices?client_types=DASHBOARD&limit=100")).json()
    expected = [i.id for i in master_invoices(sandbox) if i.client_type == "DASHBOARD"]
    assert [r["id"] for r in rows] == expected[:100]
    rows = (
        await client.get("/v2/invoices?payment_channels=BCA&payment_channels=OVO&limit=100")
    ).json()
    assert rows
    assert {r["payment_channel"] for r in rows} <= {"BCA", "OVO"}
    bad = await client.get("/v2/invoices", params={"client_types": "FAX"})
    assert bad.status_code == 400


async def test_recurring_payment_id_filter(
    client: httpx.AsyncClient, sandbox: XenditSandbox
) -> None:
    recurring = find_invoice(sandbox, where=lambda i: i.recurring_payment_id is not None)
    rows = (
        await client.get(
            "/v2/invoices", params={"recurring_payment_id": recurring.recurring_payment_id}
        )
    ).json()
    assert [r["id"] for r in rows] == [recurring.id]
