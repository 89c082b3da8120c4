"""The ``/_sandbox`` control routes and the request hook (counts, latency)."""

from __future__ import annotations

import httpx

from sandboxes.xendit import DEFAULT_API_KEY, XenditSandbox, create_sandbox_app

from .xendit_sandbox_helpers import BASE_URL, FakeClock, find_invoice, invoice_body


async def test_stats_count_api_requests_by_route_template(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, sandbox: XenditSandbox
) -> None:
    inv = find_invoice(sandbox, status="PENDING")
    await client.get("/v2/invoices")
    await client.get("/v2/invoices", params={"limit": "10.0"})
    await client.get(f"/v2/invoices/{inv.id}")
    await client.get("/v2/invoices/missing")
    await client.post("/v2/invoices/", json=invoice_body())
    await client.post("/v2/invoices", json=invoice_body())
    await client.post(f"/invoices/{inv.id}/expire!")
    await client.get("/customers", params={"reference_id": "x"})
    await client.get("/customers/cust-x")
    await client.patch("/customers/cust-x", json={})
    await client.post("/customers", json={"reference_id": "r-1"})
    await anonymous.get("/v2/invoices")  # unauthorized requests still reached the route
    await client.get("/v3/unknown")  # no route: not counted
    await anonymous.post(f"/_sandbox/invoices/{inv.id}/pay")  # control routes: not counted
    stats = (await anonymous.get("/_sandbox/stats")).json()
    assert stats == {
        "requests_total": 12,
        "requests": {
            "GET /v2/invoices": 3,
            "GET /v2/invoices/{invoice_id}": 2,
            "POST /v2/invoices/": 1,
            "POST /v2/invoices": 1,
            "POST /invoices/{invoice_id}/expire!": 1,
            "GET /customers": 1,
            "GET /customers/{id}": 1,
            "PATCH /customers/{id}": 1,
            "POST /customers": 1,
        },
    }


async def test_delete_stats_zeroes_them(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    await client.get("/v2/invoices")
    cleared = await anonymous.delete("/_sandbox/stats")
    assert cleared.status_code == 200
    assert cleared.json() == {"requests_total": 0, "requests": {}}
    assert (await anonymous.get("/_sandbox/stats")).json()["requests_total"] == 0


async def test_reset_restores_the_seed_and_zeroes_stats(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, sandbox: XenditSandbox
) -> None:
    pending = find_invoice(sandbox, status="PENDING")
    seeded_ids = set(sandbox.invoices)
    await client.post(f"/invoices/{pending.id}/expire!")
    created = (await client.post("/v2/invoices/", json=invoice_body())).json()
    assert sandbox.invoices[pending.id].status == "EXPIRED"
    response = await anonymous.post("/_sandbox/reset")
    assert response.status_code == 200
    assert response.json() == {
        "seed": 0,
        "customers": len(sandbox.customers),
        "invoices": len(sandbox.invoices),
    }
    assert set(sandbox.invoices) == seeded_ids
    assert sandbox.invoices[pending.id].status == "PENDING"
    assert created["id"] not in sandbox.invoices
    assert (await anonymous.get("/_sandbox/stats")).json()["requests_total"] == 0


async def test_latency_is_applied_before_every_api_handler() -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    app = create_sandbox_app(latency_ms=250, clock=FakeClock())
    app.state.controls.sleep = fake_sleep
    transport = httpx.ASGITransport(app=app)
    auth = httpx.BasicAuth(DEFAULT_API_KEY, "")
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, auth=auth) as http:
        await http.get("/v2/invoices")
        await http.get("/customers/cust-x")
        await http.get("/_sandbox/stats")
    assert waits == [0.25, 0.25]


async def test_no_latency_by_default(app: object, client: httpx.AsyncClient) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    app.state.controls.sleep = fake_sleep  # type: ignore[attr-defined]
    await client.get("/v2/invoices")
    assert waits == []
