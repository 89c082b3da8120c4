"""The WebSocket side of `/graphql`: graphql-transport-ws over Strawberry's adapter, with the
gateway's refusals (malformed messages, the connection's key)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from cross_web import HTTPException  # what strawberry.asgi catches and answers with
from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import (
    NonJsonMessageReceived,
    NonTextMessageReceived,
    WebSocketDisconnected,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)

from gateway.context import GatewayContext
from gateway.errors import ErrorCode
from gateway.persisted import PersistedRefusal

__all__ = ["GatewayTransportWS", "GatewayWebSocket", "malformed_ws_message"]


class GatewayWebSocket(ASGIWebSocketAdapter):
    """Each WebSocket message is held to what an HTTP body is: at most GATEWAY_MAX_BODY_BYTES
    (else the socket closes with 1009, "message too big", before any JSON is read), and read
    by the same `decode_json`: what it refuses (not JSON, nested deeper than Python recurses,
    not an object) closes the socket as a message that is not JSON does (4400)."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        # graphql-transport-ws messages are text frames; the view's encoder gives UTF-8 bytes,
        # which Strawberry would send as a binary frame.
        encoded = self.view.encode_json(message)
        text = encoded.decode() if isinstance(encoded, bytes) else encoded
        try:
            await self.ws.send_text(text)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object]:
        limit = self.view.settings.max_body_bytes  # type: ignore[attr-defined]
        while self.ws.application_state != WebSocketState.DISCONNECTED:
            try:
                message = await self.ws.receive()
            except WebSocketDisconnect:
                return
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                raise NonTextMessageReceived
            if len(text) > limit or len(text.encode("utf-8", "surrogatepass")) > limit:
                await self.ws.close(code=1009, reason=f"message over {limit} bytes")
                return
            try:
                yield self.view.decode_json(text)
            except HTTPException:
                if not ignore_parsing_errors:
                    raise NonJsonMessageReceived from None


#: What each field of a graphql-transport-ws `subscribe` payload must be, if present.
_PAYLOAD_FIELDS: dict[str, tuple[type, str]] = {
    "variables": (dict, "an object"),
    "operationName": (str, "a string"),
    "extensions": (dict, "an object"),
}


def malformed_ws_message(message: Mapping[str, Any]) -> str | None:
    """What is wrong with the shape of a graphql-transport-ws message (a close reason, short
    enough for a close frame), or None. Strawberry reads the fields without checking them: an
    `id` that is an object or a `payload` that is a string raised a TypeError out of the
    socket's handler (a traceback in the log, the connection dropped without a close frame)."""
    kind = message.get("type")
    if not isinstance(kind, str):
        return "type must be a string"
    if kind in ("subscribe", "complete") and not isinstance(message.get("id"), str):
        return f"{kind}: id must be a string"
    if kind != "subscribe":
        return None
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return "subscribe: payload must be an object"
    if not isinstance(payload.get("query"), str):
        return "subscribe: payload.query must be a string"
    for name, (kinds, what) in _PAYLOAD_FIELDS.items():
        value = payload.get(name)
        if value is not None and not isinstance(value, kinds):
            return f"subscribe: payload.{name} must be {what}"
    return None


class GatewayTransportWS(BaseGraphQLTransportWSHandler[GatewayContext, None]):
    """graphql-transport-ws as Strawberry speaks it, except that:

    - an operation the gateway refuses before running it (a syntax error, a limit, an
      operationName that names nothing) gets an `error` message with the same coded errors as
      over HTTP, and the socket stays open; Strawberry closed it (4400) for some and sent a
      bare `complete` for others;
    - a message of the wrong shape (`malformed_ws_message`) closes the socket with 4400 and
      the reason, as the protocol says, before Strawberry reads it."""

    @staticmethod
    def _get_pre_execution_close_reason(error: GraphQLError) -> str | None:
        return None

    _heartbeat: asyncio.Task[None] | None = None

    async def handle_message(self, message: Any) -> None:
        message = await self._persisted(message)
        if message is None:
            return
        problem = malformed_ws_message(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def handle_subscribe(self, message: Any) -> None:
        limit = self.max_subscriptions_per_connection
        if (
            self.connection_acknowledged
            and message["id"] not in self.operations
            and limit is not None
            and len(self.operations) >= limit
        ):
            # Strawberry's own refusal has no code; this one is the gateway's.
            error = {
                "message": f"This connection has {limit} operations open, the most allowed "
                "(GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION): complete one first",
                "extensions": {"code": ErrorCode.TOO_MANY_SUBSCRIPTIONS.value},
            }
            refusal: Any = {"id": message["id"], "type": "error", "payload": [error]}
            await self.send_message(refusal)
            return
        await super().handle_subscribe(message)

    async def _persisted(self, message: Any) -> Any:
        """A `subscribe` whose payload names a persisted document (`documentId`,
        `extensions.persistedQuery`) with its query put in, or refused with an `error` message
        (None); the trusted-only rule holds for a query sent in full too. Nothing is registered
        over the WebSocket. Any other message as it is (a wrong shape is refused after this)."""
        payload = message.get("payload") if isinstance(message, dict) else None
        if (
            not isinstance(payload, dict)
            or message.get("type") != "subscribe"
            or not isinstance(message.get("id"), str)
            or not self.connection_acknowledged  # Strawberry closes the socket (4401)
        ):
            return message
        query, extensions = payload.get("query"), payload.get("extensions")
        if not isinstance(query, str | None) or not isinstance(extensions, dict | None):
            return message  # malformed_ws_message names the field
        persisted = self.view.persisted  # type: ignore[attr-defined]
        try:
            resolved = await persisted.resolve(query, extensions, payload.get("documentId"))
        except PersistedRefusal as exc:
            error = {"message": exc.reason, "extensions": {"code": exc.code}}
            refusal: Any = {"id": message["id"], "type": "error", "payload": [error]}
            await self.send_message(refusal)
            return None
        if resolved.query is None or resolved.query is query:
            return message
        return {**message, "payload": {**payload, "query": resolved.query}}

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self._heartbeat is None:
            self._heartbeat = asyncio.create_task(self._ping())

    async def _ping(self) -> None:
        """A graphql-transport-ws `ping` every GATEWAY_HEARTBEAT_SECONDS: proxies see
        traffic, and a peer that is gone is found when the send fails."""
        interval = self.view.settings.heartbeat_seconds  # type: ignore[attr-defined]
        with contextlib.suppress(WebSocketDisconnected, RuntimeError, OSError):
            while True:
                await asyncio.sleep(interval)
                await self.send_message({"type": "ping"})

    async def shutdown(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        await super().shutdown()
