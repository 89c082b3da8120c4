"""A client that leaves before sending its body (say, it gave up during injected latency) gets
nothing done and no traceback in the sandbox's log: a 499, as nginx calls it."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest

from sandboxes.flexprice import DEFAULT_API_KEY as FLEXPRICE_KEY
from sandboxes.flexprice import create_sandbox_app as flexprice_sandbox
from sandboxes.xendit import create_sandbox_app as xendit_sandbox
from sandboxes.xendit.app import DEFAULT_API_KEY as XENDIT_KEY

XENDIT_AUTH = b"Basic " + base64.b64encode(f"{XENDIT_KEY}:".encode())


@pytest.mark.parametrize(
    ("make", "path", "auth"),
    [
        (flexprice_sandbox, "/v1/invoices", (b"x-api-key", FLEXPRICE_KEY.encode())),
        (xendit_sandbox, "/v2/invoices/", (b"authorization", XENDIT_AUTH)),
    ],
)
async def test_a_create_whose_client_left_is_499_without_a_traceback(
    make: Any, path: str, auth: tuple[bytes, bytes], caplog: pytest.LogCaptureFixture
) -> None:
    app = make()
    before = len(app.state.sandbox.invoices)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), auth],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "app": app,
    }
    with caplog.at_level(logging.ERROR):
        await app(scope, receive, send)
    assert sent[0]["status"] == 499
    assert len(app.state.sandbox.invoices) == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
