"""What every sandbox has that the real APIs lack: request counts, injected faults, and the
``/_sandbox`` stats, faults and reset routes. Provider-neutral: a sandbox passes in how it
answers an error and writes JSON, and what its reset reports.

``SandboxControls.apply`` is the single hook each of a sandbox's API requests passes through
(before authentication): it counts the request and runs its handler under the faults of
``sandboxes.kit.faults``. Control routes take no credentials, are not counted and are never
faulted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandboxes.kit.faults import (
    DroppedResponse,
    FaultInjector,
    InvalidFaults,
    client_gone_response,
    error_response,
    malformed_response,
    parse_settings,
)

__all__ = ["JsonResponder", "RequestStats", "SandboxControls", "control_routes"]

#: (body, status) -> the sandbox's JSON response
JsonResponder = Callable[[object, int], Response]


class RequestStats:
    """Requests per ``"<METHOD> <route template>"`` of a sandbox's API routes."""

    def __init__(self) -> None:
        self.by_route: dict[str, int] = {}

    def count(self, route: str) -> None:
        self.by_route[route] = self.by_route.get(route, 0) + 1

    def clear(self) -> None:
        self.by_route.clear()

    def snapshot(self) -> dict[str, object]:
        return {"requests_total": sum(self.by_route.values()), "requests": dict(self.by_route)}


class SandboxControls:
    """Faults (latency included) applied to API requests, plus their counts. `refuse` answers
    an injected error status in the provider's own error shape."""

    def __init__(
        self, *, refuse: Callable[[int], Response], latency_ms: int = 0, seed: int = 0
    ) -> None:
        self.faults = FaultInjector(base_latency_ms=latency_ms, seed=seed)
        self.stats = RequestStats()
        self.refuse = refuse
        # Replaceable so tests can observe the wait without spending wall-clock time.
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def apply(
        self, request: Request, route: str, respond: Callable[[], Awaitable[Response]]
    ) -> Response:
        """Count the request, then answer it with ``respond()`` under the current faults.

        Every request is counted, faulted or not. The order is in ``sandboxes.kit.faults``.
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
            return error_response(settings, refuse=self.refuse)
        response = await respond()
        if draw.reset < settings.reset_rate:
            return DroppedResponse(response)
        if draw.malformed < settings.malformed_rate:
            return malformed_response(response)
        return response


def control_routes(
    *, json_response: JsonResponder, summary: Callable[[Any], dict[str, object]]
) -> list[Route]:
    """The stats, faults and reset routes. They use ``app.state.controls`` and
    ``app.state.sandbox`` (which has ``reset()``); `summary(sandbox)` is what reset reports."""

    def controls(request: Request) -> SandboxControls:
        found: SandboxControls = request.app.state.controls
        return found

    async def stats(request: Request) -> Response:
        return json_response(controls(request).stats.snapshot(), 200)

    async def clear_stats(request: Request) -> Response:
        counts = controls(request).stats
        counts.clear()
        return json_response(counts.snapshot(), 200)

    async def faults(request: Request) -> Response:
        return controls(request).faults.settings.response()

    async def set_faults(request: Request) -> Response:
        injector = controls(request).faults
        try:
            settings = parse_settings(
                await request.body(), base_latency_ms=injector.base_latency_ms
            )
        except InvalidFaults as refused:
            return refused.response()
        injector.configure(settings)
        return settings.response()

    async def clear_faults(request: Request) -> Response:
        injector = controls(request).faults
        injector.clear()
        return injector.settings.response()

    async def reset(request: Request) -> Response:
        sandbox = request.app.state.sandbox
        sandbox.reset()
        controls(request).stats.clear()
        controls(request).faults.clear()
        return json_response(summary(sandbox), 200)

    return [
        Route("/_sandbox/stats", stats, methods=["GET"]),
        Route("/_sandbox/stats", clear_stats, methods=["DELETE"]),
        Route("/_sandbox/reset", reset, methods=["POST"]),
        Route("/_sandbox/faults", faults, methods=["GET"]),
        Route("/_sandbox/faults", set_faults, methods=["PUT"]),
        Route("/_sandbox/faults", clear_faults, methods=["DELETE"]),
    ]
