"""What the real API lacks: request counts, injected latency, and the ``/_sandbox`` routes.

``SandboxControls.before_request`` is the single hook every API request passes through
(before authentication); fault injection can extend it by returning a response. Control
routes take no credentials and are not counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

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
    """Latency (and later faults) applied to API requests, plus their counts."""

    def __init__(self, *, latency_ms: int = 0) -> None:
        self.latency_ms = latency_ms
        self.stats = RequestStats()
        # Replaceable so tests can observe the wait without spending wall-clock time.
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def before_request(self, request: Request, route: str) -> Response | None:
        """Count the request, wait ``latency_ms``; a returned response short-circuits it."""
        self.stats.count(route)
        if self.latency_ms > 0:
            await self.sleep(self.latency_ms / 1000)
        return None


def _state(request: Request) -> tuple[XenditSandbox, SandboxControls]:
    return request.app.state.sandbox, request.app.state.controls


async def _stats(request: Request) -> Response:
    return json_response(_state(request)[1].stats.snapshot())


async def _clear_stats(request: Request) -> Response:
    controls = _state(request)[1]
    controls.stats.clear()
    return json_response(controls.stats.snapshot())


async def _reset(request: Request) -> Response:
    sandbox, controls = _state(request)
    sandbox.reset()
    controls.stats.clear()
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
    Route("/_sandbox/invoices/{invoice_id}/pay", _pay, methods=["POST"]),
    Route("/_sandbox/invoices/{invoice_id}/settle", _settle, methods=["POST"]),
]
