"""What a request to /graphql must bring before GraphQL sees it, once `gateway.auth.KeyGate`
has admitted it: a body of bounded size, and, for a GET operation, a header a cross-site form
cannot send.

`RequestGuard` is the ASGI middleware in front of /graphql that counts the body: 413
REQUEST_TOO_LARGE before the JSON is parsed. The preflight header is checked by the GraphQL view
(`GatewayGraphQL.csrf_refusal` in `gateway.app`), with the very test Strawberry uses to tell an
operation from the GraphiQL page, so the two cannot disagree about a request. Refusals are JSON
GraphQL errors with a code (`refuse`).
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.telemetry.record import note_outcome

__all__ = ["PREFLIGHT_HEADERS", "RequestGuard", "refuse"]

#: Headers a browser sends cross-site only after a CORS preflight (Apollo Router's rule).
PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name")


async def refuse(send: Send, status: int, code: str, message: str, **headers: str) -> None:
    """Answer with one coded GraphQL error; `headers` as keywords (`www_authenticate=...`)."""
    note_outcome(code)
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, path: str) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
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

    async def _too_large(self, send: Send) -> None:
        await refuse(
            send,
            413,
            "REQUEST_TOO_LARGE",
            f"The request body is over {self.max_body_bytes} bytes (GATEWAY_MAX_BODY_BYTES)",
        )
