"""`POST /webhooks/<provider>`: a provider's webhook, authenticated by the provider package
(`InvoiceProvider.read_webhook`: Xendit's callback token, FlexPrice's Svix signature or static
header), recorded once in the event log, and only then answered 2xx.

- 200 `{"recorded": n, "duplicates": d}`: recorded (or recorded before: a provider's retry),
  or about nothing the gateway follows (both 0);
- 400 `WEBHOOK_MALFORMED`: authenticated, but the body is not what the provider sends;
- 401 `WEBHOOK_UNAUTHENTICATED`: the authentication failed, or no secret is configured;
- 404 `NOT_FOUND`: no such provider is enabled, or it sends no webhooks;
- 413 `REQUEST_TOO_LARGE`: the body is over GATEWAY_WEBHOOK_MAX_BODY_BYTES;
- 503 `EVENT_LOG_UNAVAILABLE`: the log (Redis) cannot record it: the provider retries later.

The gateway's API keys play no part here (a provider cannot send one): `gateway.auth.KeyGate`
lets a POST to exactly this route through, and the provider's own secret is the check. Its
messages name the setting and the rule, never a secret or what was sent in its place.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping

import msgspec
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from gateway.events.log import EventLog, EventLogUnavailable
from gateway.events.records import RecordedEvent
from providers.base import InvoiceProvider
from providers.errors import UnsupportedOperation, WebhookMalformed, WebhookRefused

__all__ = ["WebhookReceiver"]

logger = logging.getLogger("gateway.webhooks")
#: Refusals, which anyone can cause: rate-limited as refused queries are (gateway.logs).
refusals = logging.getLogger("gateway.webhooks.refused")

_ENCODER = msgspec.json.Encoder()


def _answer(status: int, body: object, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        _ENCODER.encode(body), status_code=status, media_type="application/json", headers=headers
    )


def _refusal(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    return _answer(
        status, {"errors": [{"message": message, "extensions": {"code": code}}]}, headers
    )


class WebhookReceiver:
    """The endpoint of ``/webhooks/{provider}`` (`handle`)."""

    def __init__(
        self, providers: Mapping[str, InvoiceProvider], log: EventLog, *, max_body_bytes: int
    ) -> None:
        self.providers = providers
        self.log = log
        self.max_body_bytes = max_body_bytes

    async def handle(self, request: Request) -> Response:
        name = request.path_params["provider"]
        provider = self.providers.get(name)
        if provider is None:
            return _refusal(404, "NOT_FOUND", f"No provider {name!r} is enabled here")
        body = await self._read(request)
        if isinstance(body, ClientDisconnect):
            return Response(status_code=400)  # nobody is left to read it
        if body is None:
            return _refusal(
                413,
                "REQUEST_TOO_LARGE",
                f"The webhook body is over {self.max_body_bytes} bytes "
                "(GATEWAY_WEBHOOK_MAX_BODY_BYTES)",
            )
        received_at = dt.datetime.now(dt.UTC)
        try:
            # Every value of a repeated header reaches the provider (Starlette's multi-valued
            # headers), which refuses a checked header given twice.
            events = provider.read_webhook(request.headers, body, received_at=received_at)
        except UnsupportedOperation:
            return _refusal(404, "NOT_FOUND", f"{name} sends no webhooks to this gateway")
        except WebhookRefused as exc:
            refusals.warning("webhook to /webhooks/%s refused: %s", name, exc.message)
            return _refusal(401, exc.code, exc.message)
        except WebhookMalformed as exc:
            refusals.warning("webhook to /webhooks/%s malformed: %s", name, exc.message)
            return _refusal(400, exc.code, exc.message)
        recorded = duplicates = 0
        try:
            for event in events:
                position = await self.log.append(RecordedEvent.of(event, received_at=received_at))
                if position is None:
                    duplicates += 1
                    logger.info(
                        "webhook %s %s (invoice %s): a duplicate of a recorded delivery",
                        name,
                        event.provider_event,
                        event.invoice_id,
                    )
                else:
                    recorded += 1
                    logger.info(
                        "webhook %s %s (invoice %s): recorded as %s at %s",
                        name,
                        event.provider_event,
                        event.invoice_id,
                        event.type.value,
                        position,
                    )
        except EventLogUnavailable as exc:
            logger.error("webhook %s not recorded (answered 503): %s", name, exc)
            return _refusal(
                503,
                "EVENT_LOG_UNAVAILABLE",
                "The event could not be recorded; send it again later",
                {"Retry-After": "5"},
            )
        return _answer(200, {"recorded": recorded, "duplicates": duplicates})

    async def _body(self, request: Request) -> bytes | None:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return None
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > self.max_body_bytes:
                return None
        return bytes(body)

    async def _read(self, request: Request) -> bytes | ClientDisconnect | None:
        try:
            return await self._body(request)
        except ClientDisconnect as gone:  # it hung up (or the server cut a slow body off)
            return gone
