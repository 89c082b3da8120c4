"""The kit's API route, which both sandboxes build theirs with: counted and faulted first, a
client gone before its body is 499 without a traceback, any other failure is logged and
answered in the provider's own 500 shape."""

from __future__ import annotations

import logging

import httpx
import pytest
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from sandboxes.kit import SandboxApp
from sandboxes.kit.controls import SandboxControls, control_routes
from sandboxes.kit.routing import Endpoint, api_route


def _app(serve: object) -> SandboxApp:
    controls = SandboxControls(refuse=lambda status: JSONResponse({"injected": status}, status))

    async def call(request: Request) -> Response:
        return await serve(request)  # type: ignore[operator, no-any-return]

    endpoint = Endpoint("GET", "/things/{id}", handler=None)
    failure = JSONResponse({"error": "ours, not a traceback"}, 500)
    app = SandboxApp(
        routes=[
            api_route(endpoint, call, controls=controls, failure=lambda: failure),
            *control_routes(
                json_response=lambda body, status: JSONResponse(body, status),
                summary=lambda sandbox: {},
            ),
        ]
    )
    app.state.controls = controls
    app.state.sandbox = object()
    return app


async def _get(app: SandboxApp, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://sb") as client:
        return await client.get(path)


async def test_an_unexpected_failure_is_logged_and_answered_in_the_providers_shape(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError("a bug in a handler")

    app = _app(broken)
    with caplog.at_level(logging.ERROR, logger="sandboxes.kit.routing"):
        answer = await _get(app, "/things/1")
    assert (answer.status_code, answer.json()) == (500, {"error": "ours, not a traceback"})
    assert "RuntimeError" not in answer.text
    [record] = caplog.records
    assert record.getMessage() == "sandbox handler failed: GET /things/{id}"
    stats = (await _get(app, "/_sandbox/stats")).json()
    assert stats["requests"] == {"GET /things/{id}": 1}


async def test_a_client_gone_before_its_body_is_499_and_nothing_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def gone(request: Request) -> Response:
        raise ClientDisconnect

    with caplog.at_level(logging.ERROR):
        answer = await _get(_app(gone), "/things/1")
    assert answer.status_code == 499
    assert caplog.records == []


async def test_a_served_answer_passes_through_untouched() -> None:
    async def fine(request: Request) -> Response:
        return JSONResponse({"id": request.path_params["id"]}, 201)

    answer = await _get(_app(fine), "/things/7")
    assert (answer.status_code, answer.json()) == (201, {"id": "7"})
