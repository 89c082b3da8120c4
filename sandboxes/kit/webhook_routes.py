"""``/_sandbox/webhooks``: register, list and remove a sandbox's webhook endpoints.

``POST /_sandbox/webhooks`` takes a JSON object: ``url`` (an absolute ``http``/``https`` URL),
``retry_schedule_ms`` (optional: the waits before each retry, in milliseconds; its length is
the number of retries), and what the provider's `WebhookSender` reads besides; it answers 201
with the endpoint. ``GET`` lists the endpoints and the recent deliveries; ``DELETE
/_sandbox/webhooks/{id}`` removes one (204; 404 for an unknown id). A body the sandbox refuses
is a 400 ``{"error": "invalid_webhook", "field", "message"}`` naming the field, as the faults
route does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Protocol
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandboxes.kit.webhooks import Deliver, Outbox, WebhookEndpoint, reachable

__all__ = ["InvalidWebhook", "Options", "WebhookSender", "parse_url", "webhook_routes"]

MAX_BODY = 64 * 1024
MAX_URL = 2048
MAX_RETRIES = 10
MAX_WAIT_MS = 86_400_000

#: The registration's fields other than ``url`` (its JSON object, ``url`` removed).
Options = dict[str, object]


class InvalidWebhook(ValueError):
    """A registration the sandbox refuses; ``field`` is ``None`` when the body itself is."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def response(self) -> Response:
        body = {"error": "invalid_webhook", "field": self.field, "message": self.message}
        return _json(body, 400)


class WebhookSender(Protocol):
    """What a provider's sandbox adds to the kit's outbox: the settings its provider needs to
    authenticate what it sends, and how it makes an endpoint from a registration."""

    def settings(self) -> Mapping[str, str]: ...

    def endpoint(
        self, outbox: Outbox, url: str, options: Options, *, deliver: Deliver | None = None
    ) -> WebhookEndpoint:
        """The endpoint for `url` (not registered yet); raises `InvalidWebhook` for an option
        it does not take or a bad value."""
        ...


def _json(body: object, status: int) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json")


def parse_url(value: object) -> str:
    """An absolute ``http``/``https`` URL with a host, at most `MAX_URL` characters, not at an
    address `reachable` refuses (a name's addresses are checked at each delivery)."""
    if not isinstance(value, str) or not value:
        raise InvalidWebhook("url", "url is required: an absolute http or https URL")
    parts = urlsplit(value)
    if len(value) > MAX_URL or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidWebhook(
            "url", f"url must be an absolute http or https URL of at most {MAX_URL} characters"
        )
    if any(ord(c) <= 32 or ord(c) == 127 for c in value):
        raise InvalidWebhook("url", "url must not contain spaces or control characters")
    try:
        refused = not reachable(parts.hostname)
    except ValueError:  # a name: its addresses are checked when a delivery connects
        refused = False
    if refused:
        raise InvalidWebhook(
            "url", "url may not be a link-local, multicast, unspecified or reserved address"
        )
    return value


def retry_schedule(options: Options, default: tuple[int, ...]) -> tuple[int, ...]:
    """``retry_schedule_ms`` taken out of `options`, else `default`."""
    value = options.pop("retry_schedule_ms", None)
    if value is None:
        return default
    rule = f"a list of at most {MAX_RETRIES} integers from 0 to {MAX_WAIT_MS}"
    if not isinstance(value, list) or len(value) > MAX_RETRIES:
        raise InvalidWebhook("retry_schedule_ms", f"retry_schedule_ms must be {rule}")
    for wait in value:
        if isinstance(wait, bool) or not isinstance(wait, int) or not 0 <= wait <= MAX_WAIT_MS:
            raise InvalidWebhook("retry_schedule_ms", f"retry_schedule_ms must be {rule}")
    return tuple(value)


def reject_unknown(options: Options) -> None:
    """Refuse whatever field is left once a sender took its own."""
    for name in sorted(options):
        raise InvalidWebhook(name, f"unknown field {name!r}")


def _registration(raw: bytes) -> tuple[str, Options]:
    if len(raw) > MAX_BODY:
        raise InvalidWebhook(None, f"the body must be at most {MAX_BODY} bytes")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidWebhook(None, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise InvalidWebhook(None, "the body must be a JSON object")
    url = parse_url(body.pop("url", None))
    return url, body


def webhook_routes(sender: WebhookSender) -> list[Route]:
    """The three routes, on ``app.state.sandbox.webhooks`` (an `Outbox`)."""

    def outbox(request: Request) -> Outbox:
        found: Outbox = request.app.state.sandbox.webhooks
        return found

    async def register(request: Request) -> Response:
        try:
            url, options = _registration(await request.body())
            endpoint = sender.endpoint(outbox(request), url, options)
        except InvalidWebhook as refused:
            return refused.response()
        outbox(request).register(endpoint)
        return _json(endpoint.describe(), 201)

    async def listing(request: Request) -> Response:
        return _json(outbox(request).describe(), 200)

    async def remove(request: Request) -> Response:
        endpoint_id = request.path_params["endpoint_id"]
        if not outbox(request).remove(endpoint_id):
            body = {"error": "not_found", "message": f"no webhook endpoint {endpoint_id}"}
            return _json(body, 404)
        return Response(status_code=204)

    return [
        Route("/_sandbox/webhooks", register, methods=["POST"]),
        Route("/_sandbox/webhooks", listing, methods=["GET"]),
        Route("/_sandbox/webhooks/{endpoint_id}", remove, methods=["DELETE"]),
    ]
