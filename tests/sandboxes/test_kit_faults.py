"""``/_sandbox/faults`` of ``sandboxes.kit.faults``, the same in every sandbox: the settings,
their validation, and the faults answered in process, run against each sandbox. What differs
between sandboxes (each one's error body, its own control routes, what a malformed create
leaves behind) stays in ``tests/sandboxes/<name>/``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

import sandboxes.flexprice as flexprice
import sandboxes.xendit as xendit

from .flexprice import flexprice_sandbox_helpers as flexprice_helpers
from .xendit import xendit_sandbox_helpers as xendit_helpers

DEFAULTS = {
    "latency_ms": 0,
    "error_rate": 0.0,
    "status": 503,
    "retry_after": None,
    "reset_rate": 0.0,
    "malformed_rate": 0.0,
    "hang": False,
}


@dataclass(frozen=True)
class Kind:
    """One sandbox as these tests use it: its app, how a client signs in, a read route."""

    name: str
    create_app: Callable[..., Starlette]
    base_url: str
    auth: dict[str, Any]
    read: str  # an authenticated list route
    read_json: type  # what that route answers
    missing: str  # an unknown invoice: an error answer

    def client(self, app: Starlette, *, signed_in: bool = True) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url=self.base_url,
            **(self.auth if signed_in else {}),
        )

    def app(self, **settings: Any) -> Starlette:
        clock = (flexprice_helpers if self.name == "flexprice" else xendit_helpers).FakeClock()
        return self.create_app(clock=clock, **settings)


KINDS = [
    Kind(
        name="flexprice",
        create_app=flexprice.create_sandbox_app,
        base_url=flexprice_helpers.BASE_URL,
        auth={"headers": {"x-api-key": flexprice.DEFAULT_API_KEY}},
        read="/v1/customers",
        read_json=dict,
        missing="/v1/invoices/inv_missing",
    ),
    Kind(
        name="xendit",
        create_app=xendit.create_sandbox_app,
        base_url=xendit_helpers.BASE_URL,
        auth={"auth": httpx.BasicAuth(xendit.DEFAULT_API_KEY, "")},
        read="/v2/invoices",
        read_json=list,
        missing="/v2/invoices/inv_missing",
    ),
]


@pytest.fixture(params=KINDS, ids=[kind.name for kind in KINDS])
def kind(request: pytest.FixtureRequest) -> Kind:
    chosen: Kind = request.param
    return chosen


@pytest.fixture
def app(kind: Kind) -> Starlette:
    return kind.app(seed=0)


@pytest.fixture
async def client(kind: Kind, app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with kind.client(app) as http:
        yield http


SPINS = 1000  # event-loop turns a held request may take to arrive
RELEASE_TIMEOUT_S = 5.0  # a bound on a released request, not a measured duration


def _held(app: Starlette) -> int:
    held: int = app.state.controls.faults.held
    return held


async def _until_held(app: Starlette, count: int) -> None:
    for _ in range(SPINS):
        if _held(app) == count:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{count} requests were never held (held: {_held(app)})")


async def _statuses(kind: Kind, client: httpx.AsyncClient, count: int) -> list[int]:
    return [(await client.get(kind.read)).status_code for _ in range(count)]


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


async def test_put_replaces_and_delete_restores_the_start_up_latency(kind: Kind) -> None:
    async with kind.client(kind.app(latency_ms=250)) as client:
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


async def test_the_default_status_is_503(kind: Kind, client: httpx.AsyncClient) -> None:
    await client.put("/_sandbox/faults", json={"error_rate": 1})
    assert await _statuses(kind, client, 3) == [503, 503, 503]


async def test_an_error_fault_comes_even_without_credentials(kind: Kind) -> None:
    app = kind.app(seed=0)
    async with kind.client(app) as client, kind.client(app, signed_in=False) as anonymous:
        await client.put("/_sandbox/faults", json={"error_rate": 1})
        assert (await anonymous.get(kind.read)).status_code == 503


@pytest.mark.parametrize(
    ("seconds", "header"), [(2, "2"), (0.5, "0.5"), (0, "0"), (30.25, "30.25")]
)
async def test_retry_after_is_sent_with_injected_errors(
    kind: Kind, client: httpx.AsyncClient, seconds: float, header: str
) -> None:
    body = {"error_rate": 1, "status": 429, "retry_after": seconds}
    await client.put("/_sandbox/faults", json=body)
    response = await client.get(kind.read)
    assert response.status_code == 429
    assert response.headers["retry-after"] == header


async def test_rates_at_zero_never_fire(kind: Kind, client: httpx.AsyncClient) -> None:
    await client.put("/_sandbox/faults", json={"retry_after": 3, "status": 500})
    for _ in range(20):
        response = await client.get(kind.read)
        assert response.status_code == 200
        assert "retry-after" not in response.headers
        assert isinstance(response.json(), kind.read_json)


async def test_a_rate_between_is_reproducible_from_the_seed(
    kind: Kind, client: httpx.AsyncClient
) -> None:
    await client.put("/_sandbox/faults", json={"error_rate": 0.5})
    first = await _statuses(kind, client, 24)
    assert set(first) == {200, 503}
    await client.put("/_sandbox/faults", json={"error_rate": 0.5})  # re-seeds the draws
    assert await _statuses(kind, client, 24) == first
    async with kind.client(kind.app(seed=0)) as twin:
        await twin.put("/_sandbox/faults", json={"error_rate": 0.5})
        assert await _statuses(kind, twin, 24) == first
    async with kind.client(kind.app(seed=7)) as other:
        await other.put("/_sandbox/faults", json={"error_rate": 0.5})
        assert await _statuses(kind, other, 24) != first


async def test_faulted_requests_are_counted(kind: Kind, client: httpx.AsyncClient) -> None:
    await client.put("/_sandbox/faults", json={"error_rate": 1})
    await _statuses(kind, client, 2)
    await client.put("/_sandbox/faults", json={"malformed_rate": 1})
    await client.get(kind.read)
    stats = (await client.get("/_sandbox/stats")).json()
    assert stats == {"requests_total": 3, "requests": {f"GET {kind.read}": 3}}


async def test_latency_comes_from_the_settings_and_returns_to_the_base(kind: Kind) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    app = kind.app(latency_ms=250)
    app.state.controls.sleep = fake_sleep
    async with kind.client(app) as client:
        await client.put("/_sandbox/faults", json={"latency_ms": 1500, "error_rate": 1})
        assert (await client.get(kind.read)).status_code == 503  # waited, then failed
        await client.get("/_sandbox/faults")
        await client.delete("/_sandbox/faults")
        await client.get(kind.read)
        await client.put("/_sandbox/faults", json={"latency_ms": 0})
        await client.get(kind.read)
    assert waits == [1.5, 0.25]


async def test_malformed_also_spoils_error_answers(kind: Kind, client: httpx.AsyncClient) -> None:
    await client.put("/_sandbox/faults", json={"malformed_rate": 1})
    response = await client.get(kind.missing)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


# -- hang, in process (each sandbox's file keeps its resets and the tests over HTTP) ---------


async def test_hang_holds_until_delete_then_answers(
    kind: Kind, app: Starlette, client: httpx.AsyncClient
) -> None:
    await client.put("/_sandbox/faults", json={"hang": True})
    held = asyncio.create_task(client.get(kind.read))
    try:
        await _until_held(app, 1)
        assert not held.done()
        # Control routes answer while the API hangs, and the held request is counted.
        stats = (await client.get("/_sandbox/stats")).json()
        assert stats["requests"] == {f"GET {kind.read}": 1}
        assert (await client.get("/_sandbox/faults")).json()["hang"] is True
        await client.delete("/_sandbox/faults")
        response = await asyncio.wait_for(held, RELEASE_TIMEOUT_S)
    finally:
        held.cancel()
    assert response.status_code == 200
    assert _held(app) == 0


async def test_reset_releases_a_hang(kind: Kind, app: Starlette, client: httpx.AsyncClient) -> None:
    await client.put("/_sandbox/faults", json={"hang": True})
    held = asyncio.create_task(client.get(kind.read))
    try:
        await _until_held(app, 1)
        await client.post("/_sandbox/reset")
        response = await asyncio.wait_for(held, RELEASE_TIMEOUT_S)
    finally:
        held.cancel()
    assert response.status_code == 200
    assert (await client.get("/_sandbox/faults")).json()["hang"] is False


async def test_a_put_keeps_or_releases_the_hang_and_its_settings_apply(
    kind: Kind, app: Starlette, client: httpx.AsyncClient
) -> None:
    await client.put("/_sandbox/faults", json={"hang": True})
    held = [asyncio.create_task(client.get(kind.read)) for _ in range(2)]
    try:
        await _until_held(app, 2)
        await client.put("/_sandbox/faults", json={"hang": True, "error_rate": 1})
        for _ in range(10):
            await asyncio.sleep(0)
        assert _held(app) == 2
        await client.put("/_sandbox/faults", json={"error_rate": 1, "status": 429})
        responses = await asyncio.wait_for(asyncio.gather(*held), RELEASE_TIMEOUT_S)
    finally:
        for task in held:
            task.cancel()
    assert [r.status_code for r in responses] == [429, 429]


async def test_a_cancelled_held_request_is_let_go(
    kind: Kind, app: Starlette, client: httpx.AsyncClient
) -> None:
    await client.put("/_sandbox/faults", json={"hang": True})
    held = asyncio.create_task(client.get(kind.read))
    await _until_held(app, 1)
    held.cancel()
    with pytest.raises(asyncio.CancelledError):
        await held
    assert _held(app) == 0
