"""What the real API lacks: request counts, injected faults, and the ``/_sandbox`` routes.

``SandboxControls.apply`` is the single hook every API request passes through (before
authentication): it counts the request and runs its handler under the faults of
``faults.py``. Control routes take no credentials, are not counted and are never faulted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
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

from . import errors, payment
from .encoding import MalformedBody, loads_object
from .endpoint import json_response
from .records import Invoice
from .serialize import invoice_json
from .store import XenditSandbox


class RequestStats:
    """Requests per ``"<METHOD> <route template>"`` of the Xendit API routes."""

    def __init__(self) -> None:
        self.by_route: dict[str, int] = {}

    def count(self, route: str) -> None:
        self.by_route[route] = self.by_route.get(route, 0) + 1

    def clear(self) -> None:
        self.by_route.clear()

    def snapshot(self) -> dict[str, object]:
        return {"requests_total": sum(self.by_route.values()), "requests": dict(self.by_route)}


class SandboxControls:
    """Faults (latency included) applied to API requests, plus their counts."""

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


def _state(request: Request) -> tuple[XenditSandbox, SandboxControls]:
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
        }
    )


def _invoice(request: Request) -> Invoice:
    sandbox = _state(request)[0]
    sandbox.lapse()
    invoice_id = request.path_params["invoice_id"]
    found = sandbox.invoices.get(invoice_id)
    if found is None:
        raise errors.invoice_not_found(invoice_id)
    return found


async def _pay(request: Request) -> Response:
    """Pay in full: body ``{"payment_channel": "BCA", "payment_method": ...}``, both optional."""
    try:
        raw = await request.body()
        body = loads_object(raw) if raw.strip() else {}
        channel, method = body.get("payment_channel"), body.get("payment_method")
        if not isinstance(channel, str | None) or not isinstance(method, str | None):
            raise errors.validation('"payment_channel" and "payment_method" must be strings')
        inv = _invoice(request)
        payment.pay(_state(request)[0], inv, channel=channel, method=method)
    except MalformedBody:
        return json_response(errors.validation("Body must be a JSON object").body(), 400)
    except errors.APIError as refused:
        return json_response(refused.body(), refused.status)
    return json_response(invoice_json(inv))


async def _settle(request: Request) -> Response:
    try:
        inv = _invoice(request)
        payment.settle(_state(request)[0], inv)
    except errors.APIError as refused:
        return json_response(refused.body(), refused.status)
    return json_response(invoice_json(inv))


ROUTES = [
    Route("/_sandbox/stats", _stats, methods=["GET"]),
    Route("/_sandbox/stats", _clear_stats, methods=["DELETE"]),
    Route("/_sandbox/reset", _reset, methods=["POST"]),
    Route("/_sandbox/faults", _faults, methods=["GET"]),
    Route("/_sandbox/faults", _set_faults, methods=["PUT"]),
    Route("/_sandbox/faults", _clear_faults, methods=["DELETE"]),
    Route("/_sandbox/invoices/{invoice_id}/pay", _pay, methods=["POST"]),
    Route("/_sandbox/invoices/{invoice_id}/settle", _settle, methods=["POST"]),
]


def injected_response(status: int) -> Response:
    """An injected fault's answer: ``status`` with this provider's own error body."""
    refusal = errors.injected(status)
    return json_response(refusal.body(), refusal.status)
