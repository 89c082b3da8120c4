"""``/_sandbox/faults`` as only the FlexPrice sandbox answers them: its error body, its own
control routes never faulted, a malformed create. The kit's faults, the same in every sandbox,
are tested once for all in ``tests/sandboxes/test_kit_faults.py``."""

from __future__ import annotations

import json

import httpx
import pytest

from sandboxes.flexprice import FlexPriceSandbox

from .flexprice_sandbox_helpers import find_customer, one_off_body


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (503, "service_unavailable"),
        (429, "too_many_requests"),
        (500, "internal_error"),
        (502, "internal_error"),
        (404, "not_found"),
    ],
)
async def test_error_rate_one_answers_the_status_with_flexprice_error_body(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox, status: int, code: str
) -> None:
    await client.put("/_sandbox/faults", json={"error_rate": 1, "status": status})
    before = len(sandbox.invoices)
    response = await client.post("/v1/invoices", json=one_off_body(find_customer(sandbox).id))
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code
    assert body["http_status_code"] == status
    assert "DELETE /_sandbox/faults" in body["message"]
    assert "retry-after" not in response.headers
    assert len(sandbox.invoices) == before  # the handler did not run


async def test_sandbox_routes_are_never_faulted(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    faults = {"error_rate": 1, "reset_rate": 1, "malformed_rate": 1, "latency_ms": 1}
    await client.put("/_sandbox/faults", json=faults)
    invoice_id = next(iter(sandbox.invoices))
    assert (await client.get("/_sandbox/stats")).json()["requests_total"] == 0
    assert (await client.get("/_sandbox/faults")).json()["error_rate"] == 1
    assert (await client.delete("/_sandbox/stats")).status_code == 200
    pdf = await client.get(f"/_sandbox/files/{invoice_id}.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert (await client.get("/v1/unknown")).status_code == 404  # no route, no fault


async def test_malformed_answers_200_with_a_cut_body_after_the_change(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    await client.put("/_sandbox/faults", json={"malformed_rate": 1})
    body = one_off_body(find_customer(sandbox).id, idempotency_key="malformed-1")
    response = await client.post("/v1/invoices", json=body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert response.content  # truncated, not empty
    created = [i for i in sandbox.invoices.values() if i.idempotency_key == "malformed-1"]
    assert len(created) == 1  # the create happened; only its answer was spoiled
