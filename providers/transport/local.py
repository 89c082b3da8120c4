"""Transports that never leave this process: `AsgiTransport` calls an ASGI app (the embedded
sandboxes) as a server would, `HandlerTransport` a function (scripted providers in tests)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from providers.transport.exchange import (
    ConnectionLost,
    Request,
    Response,
    ResponseTooLarge,
    Timeouts,
    UnreadableResponse,
)

__all__ = ["AsgiApp", "AsgiTransport", "Handler", "HandlerTransport"]


# -- in process: an ASGI app --------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
AsgiApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]


class AsgiTransport:
    """Calls an ASGI app in this process, as a server would, in the caller's task.

    `root_path` is where the app is mounted (the path prefix it strips). The app sees a client
    that leaves once the answer is whole, or when the caller is cancelled. An app exception is
    raised as itself, except a `ConnectionError` (a sandbox's injected reset), which is
    `ConnectionLost`; an app that answers nothing gives `UnreadableResponse`.
    """

    def __init__(self, app: AsgiApp, *, root_path: str = "") -> None:
        self.app = app
        self.root_path = root_path

    def __repr__(self) -> str:
        return f"AsgiTransport(root_path={self.root_path!r})"

    async def send(self, request: Request, *, timeouts: Timeouts, max_bytes: int) -> Response:
        url = request.url
        headers = [(b"host", url.raw_authority.encode())]
        headers += [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
        body = request.content or b""
        if body:
            headers.append((b"content-length", str(len(body)).encode()))
        port = url.port or (443 if url.scheme == "https" else 80)
        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "path": url.path,
            "raw_path": url.raw_path.encode(),
            "query_string": url.raw_query_string.encode(),
            "root_path": self.root_path,
            "headers": headers,
            "client": ("127.0.0.1", 123),
            "server": (url.host or "", port),
            "extensions": {},
        }
        sent_body = False
        done = asyncio.Event()
        status: int | None = None
        response_headers: dict[str, str] = {}
        parts: list[bytes] = []
        size = 0

        async def receive() -> Message:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", ()):
                    key = name.decode("latin-1").lower()
                    text = value.decode("latin-1")
                    previous = response_headers.get(key)
                    response_headers[key] = text if previous is None else f"{previous}, {text}"
            elif message["type"] == "http.response.body" and status is not None:
                chunk = message.get("body", b"")
                size += len(chunk)
                if size <= max_bytes:
                    parts.append(chunk)
                if not message.get("more_body", False):
                    done.set()

        try:
            await self.app(scope, receive, send)
        except ConnectionError as exc:
            raise ConnectionLost(str(exc)) from exc
        finally:
            done.set()  # whatever happened, the client has left
        if status is None:
            raise UnreadableResponse("the app sent no response")
        if size > max_bytes:
            raise ResponseTooLarge
        return Response(status, response_headers, b"".join(parts))

    async def aclose(self) -> None:
        return None  # an app holds no connection of ours


# -- scripted: a function -----------------------------------------------------------------------

Handler = Callable[[Request], Response | Awaitable[Response]]


class HandlerTransport:
    """Answers each request with `handler(request)` (sync or async), which may also raise any
    of this module's errors to act out a failure. A body over `max_bytes` is refused as the
    network transport refuses it."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    async def send(self, request: Request, *, timeouts: Timeouts, max_bytes: int) -> Response:
        answer = self.handler(request)
        response = await answer if inspect.isawaitable(answer) else answer
        if not isinstance(response, Response):
            raise TypeError(f"a handler answers a Response, not {type(response).__name__}")
        if len(response.content) > max_bytes:
            raise ResponseTooLarge
        return response

    async def aclose(self) -> None:
        return None
