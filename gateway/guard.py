"""What a request must bring before GraphQL sees it: a valid key (when keys are configured), a
body of bounded size, and, for a GET operation, a header a cross-site form cannot send.

An ASGI middleware in front of /graphql. Refusals are JSON GraphQL errors with a code:
401 UNAUTHENTICATED, 413 REQUEST_TOO_LARGE (before the JSON is parsed), 400 CSRF_PREVENTED.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.callers import Keys

__all__ = ["RequestGuard"]

#: Headers a browser sends cross-site only after a CORS preflight (Apollo Router's rule).
PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name")


async def _refuse(send: Send, status: int, code: str, message: str, **headers: str) -> None:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    def __init__(self, app: ASGIApp, *, keys: Keys, max_body_bytes: int, path: str) -> None:
        self.app = app
        self.keys = keys
        self.max_body_bytes = max_body_bytes
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["type"] == "websocket":
            if self.keys and self.keys.identify(headers) is None:
                await send({"type": "websocket.close", "code": 4401})
                return
            scope.setdefault("state", {})["caller"] = self.keys.identify(headers)
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        wants_page = method == "GET" and b"query=" not in scope.get("query_string", b"")
        if wants_page:  # the GraphiQL page itself holds nothing; its requests carry the key
            await self.app(scope, receive, send)
            return
        caller = self.keys.identify(headers) if self.keys else None
        if self.keys and caller is None:
            await _refuse(
                send,
                401,
                "UNAUTHENTICATED",
                "Send an API key: Authorization: Bearer KEY (or X-API-Key: KEY)",
                www_authenticate="Bearer",
            )
            return
        scope.setdefault("state", {})["caller"] = caller
        if method == "GET" and not any(h in headers for h in PREFLIGHT_HEADERS):
            await _refuse(
                send,
                400,
                "CSRF_PREVENTED",
                "A GET operation needs the header apollo-require-preflight (or "
                "x-apollo-operation-name), so no other site can send it: or use POST with JSON",
            )
            return
        if method == "POST":
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_body_bytes:
                await self._too_large(send)
                return
            body = b""
            more = True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away
                body += message.get("body", b"")
                if len(body) > self.max_body_bytes:
                    await self._too_large(send)
                    return
                more = message.get("more_body", False)
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)

    async def _too_large(self, send: Send) -> None:
        await _refuse(
            send,
            413,
            "REQUEST_TOO_LARGE",
            f"The request body is over {self.max_body_bytes} bytes (GATEWAY_MAX_BODY_BYTES)",
        )
