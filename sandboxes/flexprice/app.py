"""The Starlette app: routing, the API-key check, error bodies and ``X-Request-ID``.

Order for a ``/v1`` request: route match (an unknown path or method is gin's plain-text 404,
before any auth), the control hook (count, injected faults), the ``x-api-key`` check (401
``{"error": "Unauthorized"}``), the handler. A handler's ``APIError`` becomes FlexPrice's
error body; a ``BindError`` becomes 400 ``validation_error`` with the route's message; any
other exception becomes 500 ``internal_error`` (and is logged).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from ulid import ULID

from sandboxes.kit.app import SandboxApp, build_app

from . import control, customer_routes, errors, invoice_routes
from .binding import BindError
from .control import injected_response
from .endpoint import Endpoint, json_response
from .seed import populate
from .store import Clock, FlexPriceSandbox, utc_now
from .webhooks import DEFAULT_WEBHOOK_SECRET, FlexPriceWebhooks

DEFAULT_API_KEY = "sk_sandbox_flexprice"  # a published sandbox key, not a secret


class RequestIDMiddleware:
    """Echo ``X-Request-ID`` or mint a ULID, on every response (404s included, as gin does)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = Headers(scope=scope).get("x-request-id") or str(ULID())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)


async def _page_not_found(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("404 page not found", status_code=404, media_type="text/plain")


def _error(error: errors.APIError) -> Response:
    return json_response(error.body(), error.status)


def _internal_error() -> Response:
    # The server's error middleware answers anything unmapped with this body.
    return _error(errors.APIError(500, "internal_error", "An unexpected error occurred"))


def _serve(endpoint: Endpoint, api_key: str) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        supplied = request.headers.get("x-api-key", "")
        if not hmac.compare_digest(supplied.encode(), api_key.encode()):
            return json_response({"error": "Unauthorized"}, 401)
        sandbox: FlexPriceSandbox = request.app.state.sandbox
        try:
            return await endpoint.handler(request, sandbox)
        except BindError:
            return _error(errors.validation(endpoint.bind_hint))
        except errors.APIError as refused:
            return _error(refused)

    return serve


def create_sandbox_app(
    *,
    api_key: str = DEFAULT_API_KEY,
    seed: int = 0,
    latency_ms: int = 0,
    clock: Clock = utc_now,
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
) -> SandboxApp:
    """A FlexPrice look-alike; ``app.state.sandbox`` is its :class:`FlexPriceSandbox`.

    ``clock`` returns the current time (aware UTC; naive values are read as UTC); it anchors
    the seeded timestamps and stamps every change. ``latency_ms`` delays every ``/v1``
    request and is what ``DELETE /_sandbox/faults`` goes back to; ``seed`` also seeds the
    fault draws. ``webhook_secret`` signs the webhooks sent in ``svix`` mode (``whsec_`` and
    base64, else ValueError; default: the published `DEFAULT_WEBHOOK_SECRET`).
    """
    return build_app(
        state=FlexPriceSandbox(seed=seed, clock=clock, populate=populate),
        endpoints=(*invoice_routes.ENDPOINTS, *customer_routes.ENDPOINTS),
        serve=lambda endpoint: _serve(endpoint, api_key),
        failure=_internal_error,
        refuse=injected_response,
        control_routes=control.ROUTES,
        not_found=_page_not_found,
        latency_ms=latency_ms,
        seed=seed,
        middleware=[Middleware(RequestIDMiddleware)],
        webhooks=FlexPriceWebhooks(webhook_secret),
    )
