"""`Telemetry`, the outermost ASGI middleware: one `RequestRecord` per request, current while it
is served; when it ends, its access line (`gateway.telemetry.access`), its metrics and its span.

The access line is the gateway's own (uvicorn's is turned off by `serve`): it has what uvicorn's
cannot know, the request id, the caller's name, the operation and its outcome, and the time
taken.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.telemetry.access import AccessLog
from gateway.telemetry.metrics import Metrics
from gateway.telemetry.record import _CURRENT, RequestRecord, request_id_from

if TYPE_CHECKING:  # imported only when tracing is on (gateway.telemetry.tracing_from_environment)
    from gateway.telemetry.tracing import RequestSpan, Tracing

__all__ = ["Telemetry"]

#: Where masked bugs are logged with their traceback (rate-limited: gateway.logs).
bugs = logging.getLogger("gateway.errors")

#: Paths whose requests are GraphQL operations, counted in the request metrics.
_GRAPHQL_PATH = "/graphql"


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return b""


class Telemetry:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics | None,
        tracing: Tracing | None,
        access_log: AccessLog | None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.tracing = tracing
        self.access_log = access_log
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        record = RequestRecord(
            request_id=request_id_from(_header(scope, b"x-request-id")),
            method=scope.get("method", "WS"),
            path=scope["path"],
            client=f"{client[0]}:{client[1]}" if client else "-",
            started=self.clock(),
        )
        token = _CURRENT.set(record)
        span = self.tracing.start_request(scope, record) if self.tracing is not None else None

        async def sending(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                record.status = message["status"]
                headers = message.get("headers", ())
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    # Every answer names its request (a 401 too): the line to look for.
                    message["headers"] = [*headers, (b"x-request-id", record.request_id.encode())]
            elif kind == "websocket.accept":
                record.status = 101
            elif kind == "websocket.close" and not record.status:
                record.status = 403  # refused before it was accepted
            await send(message)

        failed: BaseException | None = None
        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            failed = exc
            if record.status or kind != "http":
                raise  # an answer was started (or a WebSocket's): the server closes it
            # A bug below, before any answer: a coded 500 naming the request, its traceback
            # logged with the request id (as a masked error is), rather than the server's bare
            # text without either.
            bugs.error("unhandled error in request %s", record.request_id, exc_info=exc)
            record.outcome = "INTERNAL_SERVER_ERROR"
            await _unexpected(sending, record.request_id)
        except BaseException as exc:
            failed = exc
            if not record.status:
                record.status = 500
            raise
        finally:
            try:
                self._finish(record, failed, span)
            finally:
                _CURRENT.reset(token)

    def _finish(
        self, record: RequestRecord, failed: BaseException | None, span: RequestSpan | None
    ) -> None:
        seconds = self.clock() - record.started
        # A WebSocket's record is its connection's, however many operations it carried: it has
        # its access line and span, but is no request of the request metrics.
        if self.metrics is not None and record.path == _GRAPHQL_PATH and record.method != "WS":
            self.metrics.observe_request(record, seconds)
        if self.tracing is not None and span is not None:
            self.tracing.end_request(span, record, failed)
        if self.access_log is not None:
            self.access_log.write(record, seconds)


async def _unexpected(send: Send, request_id: str) -> None:
    """500 with one coded error naming the request (`gateway.guard.refuse`'s form)."""
    error = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    body = json.dumps({"errors": [{"message": "Unexpected error.", "extensions": error}]})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body.encode()})
