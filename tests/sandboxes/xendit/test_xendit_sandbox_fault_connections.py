"""Faults that cost the connection on the Xendit sandbox: ``reset_rate`` on a create, in process
and over HTTP, and a client that gives up on a held create over HTTP. ``hang`` in process, the
same in every sandbox, is tested in ``tests/sandboxes/test_kit_faults.py``."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.applications import Starlette

from sandboxes.xendit import (
    DEFAULT_API_KEY,
    ConnectionDropped,
    XenditSandbox,
    create_sandbox_app,
)
from tests.serving import ServedApp

from .xendit_sandbox_helpers import FakeClock, invoice_body

POLLS = 500  # 10 ms polls of a served app's state
RELEASE_TIMEOUT_S = 5.0  # a bound on a released request, not a measured duration


def _held(app: Starlette) -> int:
    held: int = app.state.controls.faults.held
    return held


async def _wait_held(app: Starlette, count: int) -> None:
    """For a served app, whose requests run on another thread's loop."""
    for _ in range(POLLS):
        if _held(app) == count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{count} requests were never held (held: {_held(app)})")


AUTH = httpx.BasicAuth(DEFAULT_API_KEY, "")


def _with_key(sandbox: XenditSandbox, external_id: str) -> int:
    return sum(1 for inv in list(sandbox.invoices.values()) if inv.external_id == external_id)


async def test_reset_after_a_create_leaves_the_invoice_created(
    client: httpx.AsyncClient, sandbox: XenditSandbox
) -> None:
    await client.put("/_sandbox/faults", json={"reset_rate": 1, "malformed_rate": 1})
    body = invoice_body(external_id="reset-1")
    # In process, httpx.ASGITransport re-raises what the app raised.
    with pytest.raises(ConnectionDropped):
        await client.post("/v2/invoices", json=body)
    assert _with_key(sandbox, "reset-1") == 1
    with pytest.raises(ConnectionResetError):
        await client.get("/v2/invoices")
    await client.delete("/_sandbox/faults")
    assert (await client.get("/v2/invoices")).status_code == 200


async def test_without_raise_app_exceptions_a_reset_is_a_status_without_body(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    await client.put("/_sandbox/faults", json={"reset_rate": 1})
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", auth=AUTH) as raw:
        response = await raw.get("/v2/invoices")
    assert response.status_code == 200
    assert response.content == b""


def test_over_http_a_reset_drops_the_connection_after_the_create() -> None:
    app = create_sandbox_app(clock=FakeClock())
    sandbox: XenditSandbox = app.state.sandbox
    body = invoice_body(external_id="reset-http")
    with (
        ServedApp(app) as served,
        httpx.Client(base_url=served.url, timeout=10.0, auth=AUTH) as client,
    ):
        client.put("/_sandbox/faults", json={"reset_rate": 1}).raise_for_status()
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/v2/invoices", json=body)
        assert _with_key(sandbox, "reset-http") == 1  # created; only the answer was lost
        client.delete("/_sandbox/faults").raise_for_status()
        # Xendit does not dedupe external_id: a blind retry makes a second invoice.
        assert client.post("/v2/invoices", json=body).status_code == 200
    assert _with_key(sandbox, "reset-http") == 2


async def test_over_http_a_client_that_gives_up_is_let_go_and_nothing_is_created() -> None:
    app = create_sandbox_app(clock=FakeClock())
    sandbox: XenditSandbox = app.state.sandbox
    body = invoice_body(external_id="hang-http")
    with ServedApp(app) as served:
        async with httpx.AsyncClient(base_url=served.url, auth=AUTH) as client:
            (await client.put("/_sandbox/faults", json={"hang": True})).raise_for_status()
            held = asyncio.create_task(client.post("/v2/invoices", json=body))
            try:
                await _wait_held(app, 1)
                held.cancel()  # what the client's deadline does: it hangs up
                with pytest.raises(asyncio.CancelledError):
                    await held
                # The server sees the disconnect and drops the request without running it.
                await _wait_held(app, 0)
            finally:
                held.cancel()
                (await client.delete("/_sandbox/faults")).raise_for_status()
            stats = (await client.get("/_sandbox/stats")).json()
    assert stats["requests"] == {"POST /v2/invoices": 1}
    assert _with_key(sandbox, "hang-http") == 0
