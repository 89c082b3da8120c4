"""What the real API lacks: request counts, injected faults, and the ``/_sandbox`` routes.

``SandboxControls.apply`` is the single hook every ``/v1`` request passes through (before
authentication): it counts the request and runs its handler under the faults of
``providers.sandbox_faults``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from providers.sandbox_faults import (
    DroppedResponse,
    FaultInjector,
    InvalidFaults,
    client_gone_response,
    error_response,
    malformed_response,
    parse_settings,
)

from . import errors
from .endpoint import json_response
from .pdf import render_invoice
from .store import FlexPriceSandbox


class RequestStats:
    """Requests per ``"<METHOD> <route template>"`` of the ``/v1`` API."""

    def __init__(self) -> None:
        self.by_route: dict[str, int] = {}

    def count(self, route: str) -> None:
        self.by_route[route] = self.by_route.get(route, 0) + 1

    def clear(self) -> None:
        self.by_route.clear()

    def snapshot(self) -> dict[str, object]:
        return {"requests_total": sum(self.by_route.values()), "requests": dict(self.by_route)}


class SandboxControls:
    """Faults (latency included) applied to ``/v1`` requests, plus their counts."""

    def __init__(self, *, latency_ms: int = 0, seed: int = 0) -> None:
        self.faults = FaultInjector(base_latency_ms=latency_ms, seed=seed)
        self.stats = RequestStats()
        # Replaceable so tests can observe the wait without spending wall-clock time.
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def apply(
        self, request: Request, route: str, respond: Callable[[], Awaitable[Response]]
    ) -> Response:
        """Count the request, then answer it with ``respond()`` under the current faults.

        Every request is counted, faulted or not. The order is in ``faults.py``.
        """
        self.stats.count(route)
        faults = self.faults
        draw = faults.draw()
        if faults.settings.hang and not await faults.hold(request):
            return client_gone_response()
        settings = faults.settings  # a release may have replaced them
        if settings.latency_ms > 0:
            await self.sleep(settings.latency_ms / 1000)
        if draw.error < settings.error_rate:
            return error_response(settings, refuse=injected_response)
        response = await respond()
        if draw.reset < settings.reset_rate:
            return DroppedResponse(response)
        if draw.malformed < settings.malformed_rate:
            return malformed_response(response)
        return response


def _state(request: Request) -> tuple[FlexPriceSandbox, SandboxControls]:
    return request.app.state.sandbox, request.app.state.controls


async def _stats(request: Request) -> Response:
    return json_response(_state(request)[1].stats.snapshot())


async def _clear_stats(request: Request) -> Response:
    controls = _state(request)[1]
    controls.stats.clear()
    return json_response(controls.stats.snapshot())


async def _faults(request: Request) -> Response:
    return _state(request)[1].faults.settings.response()


async def _set_faults(request: Request) -> Response:
    faults = _state(request)[1].faults
    try:
        settings = parse_settings(await request.body(), base_latency_ms=faults.base_latency_ms)
    except InvalidFaults as refused:
        return refused.response()
    faults.configure(settings)
    return settings.response()


async def _clear_faults(request: Request) -> Response:
    faults = _state(request)[1].faults
    faults.clear()
    return faults.settings.response()


async def _reset(request: Request) -> Response:
    sandbox, controls = _state(request)
    sandbox.reset()
    controls.stats.clear()
    controls.faults.clear()
    return json_response(
        {
            "seed": sandbox.seed,
            "customers": len(sandbox.customers),
            "invoices": len(sandbox.invoices),
            "subscriptions": len(sandbox.subscriptions),
        }
    )


async def _file(request: Request) -> Response:
    """The target of ``GET /v1/invoices/{id}/pdf?url=true``: the PDF, like a presigned URL."""
    sandbox = _state(request)[0]
    invoice = sandbox.invoices.get(request.path_params["invoice_id"])
    if invoice is None:
        return PlainTextResponse("404 page not found", status_code=404)
    data = render_invoice(invoice, sandbox.customers.get(invoice.customer_id))
    return Response(data, media_type="application/pdf")


ROUTES = [
    Route("/_sandbox/stats", _stats, methods=["GET"]),
    Route("/_sandbox/stats", _clear_stats, methods=["DELETE"]),
    Route("/_sandbox/reset", _reset, methods=["POST"]),
    Route("/_sandbox/faults", _faults, methods=["GET"]),
    Route("/_sandbox/faults", _set_faults, methods=["PUT"]),
    Route("/_sandbox/faults", _clear_faults, methods=["DELETE"]),
    Route("/_sandbox/files/{invoice_id}.pdf", _file, methods=["GET"], name="sandbox_file"),
]


def injected_response(status: int) -> Response:
    """An injected fault's answer: ``status`` with this provider's own error body."""
    refusal = errors.injected(status)
    return json_response(refusal.body(), refusal.status)
