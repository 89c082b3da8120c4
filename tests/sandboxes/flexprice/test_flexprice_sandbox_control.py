"""The ``/_sandbox`` control routes and the request hook (counts, latency)."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from sandboxes.flexprice import (
    DEFAULT_API_KEY,
    FlexPriceSandbox,
    create_sandbox_app,
)

from .flexprice_sandbox_helpers import BASE_URL, FakeClock, find_invoice


async def test_stats_count_v1_requests_by_route_template(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    inv = find_invoice(sandbox, invoice_status="FINALIZED")
    await client.post("/v1/invoices/search", json={})
    await client.post("/v1/invoices/search", json={"limit": 1})
    await client.get(f"/v1/invoices/{inv.id}")
    await client.get("/v1/invoices/inv_missing")
    await anonymous.get("/v1/customers")  # unauthorized requests still reached the route
    await client.get("/v1/unknown")  # no route: not counted
    await client.get("/_sandbox/stats")  # control routes: not counted
    stats = (await anonymous.get("/_sandbox/stats")).json()
    assert stats == {
        "requests_total": 5,
        "requests": {
            "POST /v1/invoices/search": 2,
            "GET /v1/invoices/{id}": 2,
            "GET /v1/customers": 1,
        },
    }


async def test_delete_stats_zeroes_them(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    await client.get("/v1/customers")
    cleared = await anonymous.delete("/_sandbox/stats")
    assert cleared.status_code == 200
    assert cleared.json() == {"requests_total": 0, "requests": {}}
    assert (await anonymous.get("/_sandbox/stats")).json()["requests_total"] == 0


async def test_reset_restores_the_seed_and_zeroes_stats(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    draft = find_invoice(sandbox, invoice_status="DRAFT")
    await client.post(f"/v1/invoices/{draft.id}/finalize")
    created = await client.post("/v1/customers", json={"external_id": "tmp", "name": "Tmp"})
    assert sandbox.invoices[draft.id].invoice_status == "FINALIZED"
    response = await anonymous.post("/_sandbox/reset")
    assert response.status_code == 200
    assert response.json()["invoices"] == len(sandbox.invoices)
    assert sandbox.invoices[draft.id].invoice_status == "DRAFT"
    assert created.json()["id"] not in sandbox.customers
    assert (await anonymous.get("/_sandbox/stats")).json()["requests_total"] == 0


async def test_latency_is_applied_before_every_v1_handler() -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    app = create_sandbox_app(latency_ms=250, clock=FakeClock())
    app.state.controls.sleep = fake_sleep
    transport = httpx.ASGITransport(app=app)
    headers = {"x-api-key": DEFAULT_API_KEY}
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers) as http:
        await http.get("/v1/customers")
        await http.post("/v1/invoices/search", json={})
        await http.get("/_sandbox/stats")
    assert waits == [0.25, 0.25]


async def test_no_latency_by_default(app: Starlette, client: httpx.AsyncClient) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    app.state.controls.sleep = fake_sleep
    await client.get("/v1/customers")
    assert waits == []
