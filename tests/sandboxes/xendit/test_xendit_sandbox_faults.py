"""``/_sandbox/faults``: the settings, their validation, and the faults answered in process."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from sandboxes.xendit import DEFAULT_API_KEY, XenditSandbox, create_sandbox_app

from .xendit_sandbox_helpers import BASE_URL, FakeClock, invoice_body

DEFAULTS = {
    "latency_ms": 0,
    "error_rate": 0.0,
    "status": 503,
    "retry_after": None,
    "reset_rate": 0.0,
    "malformed_rate": 0.0,
    "hang": False,
}


def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=BASE_URL,
        auth=httpx.BasicAuth(DEFAULT_API_KEY, ""),
    )


async def _statuses(client: httpx.AsyncClient, count: int) -> list[int]:
    return [(await client.get("/v2/invoices")).status_code for _ in range(count)]


async def test_get_returns_the_defaults_then_what_put_set(client: httpx.AsyncClient) -> None:
    assert (await client.get("/_sandbox/faults")).json() == DEFAULTS
    wanted = {
        "latency_ms": 20,
        "error_rate": 0.25,
        "status": 429,
        "retry_after": 1.5,
        "reset_rate": 0.1,
        "malformed_rate": 0.05,
        "hang": False,
    }
    put = await client.put("/_sandbox/faults", json=wanted)
    assert put.status_code == 200
    assert put.json() == wanted
    assert (await client.get("/_sandbox/faults")).json() == wanted


async def test_put_replaces_and_delete_restores_the_start_up_latency() -> None:
    async with _client(create_sandbox_app(latency_ms=250, clock=FakeClock())) as client:
        assert (await client.get("/_sandbox/faults")).json()["latency_ms"] == 250
        await client.put("/_sandbox/faults", json={"latency_ms": 5, "error_rate": 1})
        replaced = await client.put("/_sandbox/faults", json={"reset_rate": 0.5})
        assert replaced.json() == {**DEFAULTS, "latency_ms": 250, "reset_rate": 0.5}
        await client.put("/_sandbox/faults", json={"latency_ms": 0})
        cleared = await client.delete("/_sandbox/faults")
        assert cleared.status_code == 200
        assert cleared.json() == {**DEFAULTS, "latency_ms": 250}
        assert (await client.get("/_sandbox/faults")).json() == cleared.json()


async def test_an_empty_put_and_nulls_mean_the_defaults(client: httpx.AsyncClient) -> None:
    await client.put("/_sandbox/faults", json={"error_rate": 1})
    assert (await client.put("/_sandbox/faults", content=b"")).json() == DEFAULTS
    nulls = dict.fromkeys(DEFAULTS)
    assert (await client.put("/_sandbox/faults", json=nulls)).json() == DEFAULTS


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"error_rate": 1.5}, "error_rate"),
        ({"error_rate": -0.1}, "error_rate"),
        ({"reset_rate": "0.5"}, "reset_rate"),
        ({"malformed_rate": True}, "malformed_rate"),
        ({"status": 399}, "status"),
        ({"status": 600}, "status"),
        ({"status": 503.0}, "status"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"latency_ms": 600_001}, "latency_ms"),
        ({"latency_ms": 1.5}, "latency_ms"),
        ({"retry_after": -1}, "retry_after"),
        ({"retry_after": "2"}, "retry_after"),
        ({"retry_after": 86_401}, "retry_after"),
        ({"retry_after": 10**400}, "retry_after"),
        ({"error_rate": 10**400}, "error_rate"),
        ({"hang": "yes"}, "hang"),
        ({"hang": 1}, "hang"),
        ({"error-rate": 0.5}, "error-rate"),
        ([], None),
        ("0.5", None),
    ],
)
async def test_a_bad_body_is_a_400_naming_the_field(
    client: httpx.AsyncClient, body: Any, field: str | None
) -> None:
    await client.put("/_sandbox/faults", json={"error_rate": 0.5})
    response = await client.put("/_sandbox/faults", json=body)
    assert response.status_code == 400
    refusal = response.json()
    assert refusal["error"] == "invalid_faults"
    assert refusal["field"] == field
    if field is not None:
        assert field in refusal["message"]
    # A refused PUT changes nothing.
    assert (await client.get("/_sandbox/faults")).json() == {**DEFAULTS, "error_rate": 0.5}


@pytest.mark.parametrize(
    "raw", [b"{not json", b'{"error_rate": NaN}', b'{"retry_after": Infinity}', b"\xff"]
)
async def test_a_body_that_is_not_json_is_a_400(client: httpx.AsyncClient, raw: bytes) -> None:
    response = await client.put("/_sandbox/faults", content=raw)
    assert response.status_code == 400
    assert response.json()["field"] is None


async def test_the_bounds_themselves_are_accepted(client: httpx.AsyncClient) -> None:
    body = {"latency_ms": 600_000, "error_rate": 0, "status": 599, "retry_after": 86_400}
    response = await client.put("/_sandbox/faults", json={**body, "reset_rate": 1})
    assert response.status_code == 200
    assert (await client.put("/_sandbox/faults", json={"status": 400})).status_code == 200


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


async def test_the_default_status_is_503(client: httpx.AsyncClient) -> None:
    await client.put("/_sandbox/faults", json={"error_rate": 1})
    assert await _statuses(client, 3) == [503, 503, 503]


async def test_an_error_fault_comes_even_without_credentials(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    await client.put("/_sandbox/faults", json={"error_rate": 1})
    assert (await anonymous.get("/v2/invoices")).status_code == 503


@pytest.mark.parametrize(
    ("seconds", "header"), [(2, "2"), (0.5, "0.5"), (0, "0"), (30.25, "30.25")]
)
async def test_retry_after_is_sent_with_injected_errors(
    client: httpx.AsyncClient, seconds: float, header: str
) -> None:
    body = {"error_rate": 1, "status": 429, "retry_after": seconds}
    await client.put("/_sandbox/faults", json=body)
    response = await client.get("/v2/invoices")
    assert response.status_code == 429
    assert response.headers["retry-after"] == header


async def test_rates_at_zero_never_fire(client: httpx.AsyncClient) -> None:
    await client.put("/_sandbox/faults", json={"retry_after": 3, "status": 500})
    for _ in range(20):
        response = await client.get("/v2/invoices")
        assert response.status_code == 200
        assert "retry-after" not in response.headers
        assert isinstance(response.json(), list)


async def test_a_rate_between_is_reproducible_from_the_seed(client: httpx.AsyncClient) -> None:
    await client.put("/_sandbox/faults", json={"error_rate": 0.5})
    first = await _statuses(client, 24)
    assert set(first) == {200, 503}
    await client.put("/_sandbox/faults", json={"error_rate": 0.5})  # re-seeds the draws
    assert await _statuses(client, 24) == first
    async with _client(create_sandbox_app(seed=0, clock=FakeClock())) as twin:
        await twin.put("/_sandbox/faults", json={"error_rate": 0.5})
        assert await _statuses(twin, 24) == first
    async with _client(create_sandbox_app(seed=7, clock=FakeClock())) as other:
        await other.put("/_sandbox/faults", json={"error_rate": 0.5})
        assert await _statuses(other, 24) != first


async def test_faulted_requests_are_counted(client: httpx.AsyncClient) -> None:
    await client.put("/_sandbox/faults", json={"error_rate": 1})
    await _statuses(client, 2)
    await client.put("/_sandbox/faults", json={"malformed_rate": 1})
    await client.get("/v2/invoices")
    stats = (await client.get("/_sandbox/stats")).json()
    assert stats == {"requests_total": 3, "requests": {"GET /v2/invoices": 3}}


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


async def test_latency_comes_from_the_settings_and_returns_to_the_base() -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    app = create_sandbox_app(latency_ms=250, clock=FakeClock())
    app.state.controls.sleep = fake_sleep
    async with _client(app) as client:
        await client.put("/_sandbox/faults", json={"latency_ms": 1500, "error_rate": 1})
        assert (await client.get("/v2/invoices")).status_code == 503  # waited, then failed
        await client.get("/_sandbox/faults")
        await client.delete("/_sandbox/faults")
        await client.get("/v2/invoices")
        await client.put("/_sandbox/faults", json={"latency_ms": 0})
        await client.get("/v2/invoices")
    assert waits == [1.5, 0.25]


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


async def test_malformed_also_spoils_error_answers(client: httpx.AsyncClient) -> None:
    await client.put("/_sandbox/faults", json={"malformed_rate": 1})
    response = await client.get("/v2/invoices/inv_missing")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
