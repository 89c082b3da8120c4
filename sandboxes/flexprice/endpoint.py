"""One ``/v1`` operation: its route, its handler and the message its binding errors carry."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from sandboxes.kit import routing

from .store import FlexPriceSandbox

Handler = Callable[[Request, FlexPriceSandbox], Awaitable[Response]]


@dataclass(frozen=True)
class Endpoint(routing.Endpoint[Handler]):
    """One ``/v1`` operation (``sandboxes.kit.routing``). ``bind_hint`` is the 400 message for
    a body or query string the route cannot bind; it differs per route in the server
    ("invalid request", "invalid request body", ...).
    """

    bind_hint: str = "invalid request"


def json_response(body: object, status: int = 200) -> Response:
    """Compact JSON with gin's ``application/json; charset=utf-8`` content type."""
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(payload, status_code=status, media_type="application/json; charset=utf-8")


def success(message: str) -> Response:
    """``SuccessResponse``."""
    return json_response({"message": message})
