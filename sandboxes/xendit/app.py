"""The Starlette app: routing, Basic auth, the ``for-user-id`` scope and error bodies.

Order for an API request: route match (an unknown path or method is 404 ``NOT_FOUND``,
before any auth), the control hook (count, injected faults), the Basic auth check (401
``INVALID_API_KEY``), the ``for-user-id`` account (403 ``REQUEST_FORBIDDEN_ERROR`` for
an unknown one), expiry of lapsed invoices, the handler. A handler's ``APIError`` becomes
Xendit's ``{error_code, message}`` body; any other exception is 500 ``SERVER_ERROR``
(and is logged).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from sandboxes.kit.app import SandboxApp, build_app

from . import callbacks, control, customer_routes, errors, invoice_routes
from .callbacks import DEFAULT_CALLBACK_TOKEN, XenditCallbacks
from .control import injected_response
from .endpoint import Call, Endpoint, json_response
from .seed import populate
from .store import Clock, XenditSandbox, utc_now

DEFAULT_API_KEY = "xnd_development_sandbox_key"  # a published sandbox key, not a secret


def authorized(header: str | None, api_key: str) -> bool:
    """True for ``Basic base64("<api_key>:")``: the key as user name, an empty password."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, colon, password = decoded.partition(":")
    return bool(colon) and password == "" and hmac.compare_digest(user.encode(), api_key.encode())


async def _not_found(request: Request, exc: Exception) -> Response:
    body = {"error_code": "NOT_FOUND", "message": "The requested resource was not found"}
    return json_response(body, 404)


def _server_error() -> Response:
    failure = errors.server_error()
    return json_response(failure.body(), failure.status)


def _serve(endpoint: Endpoint, api_key: str) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        sandbox: XenditSandbox = request.app.state.sandbox
        try:
            if not authorized(request.headers.get("authorization"), api_key):
                raise errors.invalid_api_key()
            account = sandbox.account(request.headers.get("for-user-id"))
            callbacks.send(sandbox, sandbox.lapse())
            return await endpoint.handler(Call(request, sandbox, account))
        except errors.APIError as refused:
            return json_response(refused.body(), refused.status)

    return serve


def create_sandbox_app(
    *,
    api_key: str = DEFAULT_API_KEY,
    seed: int = 0,
    latency_ms: int = 0,
    clock: Clock = utc_now,
    callback_token: str = DEFAULT_CALLBACK_TOKEN,
) -> SandboxApp:
    """A Xendit look-alike; ``app.state.sandbox`` is its :class:`XenditSandbox`.

    ``clock`` returns the current time (aware UTC; naive values are read as UTC); it anchors
    the seeded timestamps, stamps every change and decides when PENDING invoices expire.
    ``latency_ms`` delays every API request and is what ``DELETE /_sandbox/faults`` goes back
    to; ``seed`` also seeds the fault draws. ``callback_token`` is the ``x-callback-token`` of
    its invoice callbacks (8 to 256 visible ASCII characters, else ValueError; default: the
    published `DEFAULT_CALLBACK_TOKEN`).
    """
    return build_app(
        state=XenditSandbox(seed=seed, clock=clock, populate=populate),
        endpoints=(*invoice_routes.ENDPOINTS, *customer_routes.ENDPOINTS),
        serve=lambda endpoint: _serve(endpoint, api_key),
        failure=_server_error,
        refuse=injected_response,
        control_routes=control.ROUTES,
        not_found=_not_found,
        latency_ms=latency_ms,
        seed=seed,
        webhooks=XenditCallbacks(callback_token),
    )
