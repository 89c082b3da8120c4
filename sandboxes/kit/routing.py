"""One API operation of a sandbox (`Endpoint`) and its route (`api_route`): counted and faulted
by the sandbox's controls, then served, with what every sandbox does the same way around a
handler (a client gone before its body, an unexpected exception)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from sandboxes.kit.controls import SandboxControls

__all__ = ["Endpoint", "api_route"]

logger = logging.getLogger(__name__)

H = TypeVar("H")


@dataclass(frozen=True)
class Endpoint(Generic[H]):
    """``path`` is the Starlette template; ``"<METHOD> <path>"`` is the stats key. What the
    handler takes is the sandbox's own business (``H``)."""

    method: str
    path: str
    handler: H

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def api_route(
    endpoint: Endpoint[H],
    serve: Callable[[Request], Awaitable[Response]],
    *,
    controls: SandboxControls,
    failure: Callable[[], Response],
) -> Route:
    """The route of `endpoint`: counted and faulted by `controls`, then answered by `serve`
    (authentication, the handler, the provider's own error bodies). A client that left before
    sending its body gets 499 (nothing was done); any other exception `serve` lets out is
    logged and answered with `failure()`, the provider's 500."""

    async def guarded(request: Request) -> Response:
        try:
            return await serve(request)
        except ClientDisconnect:
            # The client left before sending its body (gave up during injected latency): no
            # one to answer, nothing done; not a sandbox failure worth a traceback.
            return Response(status_code=499)
        except Exception:
            logger.exception("sandbox handler failed: %s", endpoint.key)
            return failure()

    async def handle(request: Request) -> Response:
        return await controls.apply(request, endpoint.key, lambda: guarded(request))

    return Route(endpoint.path, handle, methods=[endpoint.method])
