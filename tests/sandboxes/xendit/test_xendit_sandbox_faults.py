"""``/_sandbox/faults`` as only the Xendit sandbox answers them: its error body, its own
control routes never faulted, a malformed create. The kit's faults, the same in every sandbox,
are tested once for all in ``tests/sandboxes/test_kit_faults.py``."""

from __future__ import annotations

import json

import httpx
import pytest

from sandboxes.xendit import XenditSandbox

from .xendit_sandbox_helpers import invoice_body


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (503, "SERVICE_UNAVAILABLE"),
        (429, "RATE_LIMIT_EXCEEDED"),
        (500, "SERVER_ERROR"),
        (502, "SERVER_ERROR"),
        (404, "NOT_FOUND"),
        (418, "API_VALIDATION_ERROR"),
    ],
)
async def test_error_rate_one_answers_the_status_with_xendit_error_body(
    client: httpx.AsyncClient, sandbox: XenditSandbox, status: int, code: str
) -> None:
    await client.put("/_sandbox/faults", json={"error_rate": 1, "status": status})
    before = len(sandbox.invoices)
    response = await client.post("/v2/invoices", json=invoice_body())
    assert response.status_code == status
    body = response.json()
    assert body.keys() == {"error_code", "message"}
    assert body["error_code"] == code
    assert "DELETE /_sandbox/faults" in body["message"]
    assert "retry-after" not in response.headers
    assert len(sandbox.invoices) == before  # the handler did not run


async def test_sandbox_routes_are_never_faulted(
    client: httpx.AsyncClient, sandbox: XenditSandbox
) -> None:
    faults = {"error_rate": 1, "reset_rate": 1, "malformed_rate": 1, "latency_ms": 1}
    await client.put("/_sandbox/faults", json=faults)
    pending = next(i for i in sandbox.invoices.values() if i.status == "PENDING")
    assert (await client.get("/_sandbox/stats")).json()["requests_total"] == 0
    assert (await client.get("/_sandbox/faults")).json()["error_rate"] == 1
    assert (await client.delete("/_sandbox/stats")).status_code == 200
    paid = await client.post(f"/_sandbox/invoices/{pending.id}/pay", json={})
    assert paid.status_code == 200
    assert paid.json()["status"] == "PAID"
    settled = await client.post(f"/_sandbox/invoices/{pending.id}/settle")
    assert settled.json()["status"] == "SETTLED"
    assert (await client.get("/v9/unknown")).status_code == 404  # no route, no fault


async def test_malformed_answers_200_with_a_cut_body_after_the_change(
    client: httpx.AsyncClient, sandbox: XenditSandbox
) -> None:
    await client.put("/_sandbox/faults", json={"malformed_rate": 1})
    response = await client.post("/v2/invoices", json=invoice_body(external_id="malformed-1"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert response.content  # truncated, not empty
    created = [i for i in sandbox.invoices.values() if i.external_id == "malformed-1"]
    assert len(created) == 1  # the create happened; only its answer was spoiled
