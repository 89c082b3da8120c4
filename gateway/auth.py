"""Who is calling, decided once per request, before anything reads it: `KeyGate`.

Deny by default. With API keys configured, every HTTP request and every WebSocket handshake
to any route (/graphql, GraphiQL, the in-process sandboxes under /sandbox/<name> with their
/_sandbox controls, a route added later) needs a valid key, read from the headers alone: the
method, the query string and the body play no part, so no spelling of them can skip the check.
Two probes are open: `GET`/`HEAD` of exactly `/healthz`, and of exactly `/readyz`, which shows
an anonymous caller its status only. A `POST` to exactly `/webhooks/<provider>` is let through
without a key, as nobody, to the webhook receiver alone, which authenticates the provider by
its own secret (deny by default: none configured, every delivery is refused). CORS preflights
never get here: the CORS middleware in front answers them (a browser sends no key on a preflight).

A `read` key may only read: outside /graphql (where `CanWrite` judges each operation) it may
send only `GET` and `HEAD`; any other method, such as a change to an in-process sandbox's data
or faults, is 403 `FORBIDDEN`.

What was decided is an `Admission` in the request's scope (`admission(scope)`), which the
GraphQL view and /readyz read; nothing downstream identifies the caller again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.callers import Caller, Keys
from gateway.callers import Scope as KeyScope
from gateway.guard import refuse

__all__ = [
    "NOBODY",
    "OPEN_PATHS",
    "WEBHOOK_PATH",
    "WS_UNAUTHENTICATED",
    "Admission",
    "KeyGate",
    "admission",
    "refuse_unauthenticated",
]

#: The paths a request without a key may GET (or HEAD): liveness, and readiness's status.
OPEN_PATHS = frozenset({"/healthz", "/readyz"})
#: A provider's webhook: a POST to exactly `/webhooks/<name>`, which the provider's own secret
#: authenticates (`gateway.events.receiver`): a provider cannot send the gateway's API key.
WEBHOOK_PATH = re.compile(r"/webhooks/[a-z0-9][a-z0-9_-]{0,63}")
_READ_METHODS = frozenset({"GET", "HEAD"})
#: Where the app itself decides what a `read` key may send (GraphQL: `CanWrite`).
_SCOPED_BY_APP = frozenset({"/graphql"})
#: Where the decision is kept, in the scope's `state` (Starlette's `request.state`).
_STATE_KEY = "gateway.admission"
#: The close code of a WebSocket handshake without a valid key (the server answers the
#: handshake 403, since the socket was never accepted).
WS_UNAUTHENTICATED = 4401


@dataclass(frozen=True, slots=True)
class Admission:
    """`caller`: whose key the request carried (None: none, or no keys are configured).
    `admitted`: whether it may see more than the open paths' public part: a valid key, or no
    keys configured at all."""

    caller: Caller | None
    admitted: bool


#: What a request the gate never saw counts as: nobody, admitted to nothing.
NOBODY = Admission(caller=None, admitted=False)


def admission(scope: Scope) -> Admission:
    """The gate's decision for this request; `NOBODY` when no gate decided (fail closed)."""
    found = scope.get("state", {}).get(_STATE_KEY)
    return found if isinstance(found, Admission) else NOBODY


def _route_path(scope: Scope) -> str:
    # The path the router matches: the decoded path, less the root path a proxy mounted us at.
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


class KeyGate:
    """The ASGI middleware around the whole app that lets only admitted requests in."""

    def __init__(self, app: ASGIApp, *, keys: Keys) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self.app(scope, receive, send)
            return
        if kind not in ("http", "websocket"):
            raise RuntimeError(f"unexpected ASGI scope type {kind!r}")  # deny what is unknown
        caller = self.keys.identify(Headers(scope=scope)) if self.keys else None
        decided = Admission(caller=caller, admitted=not self.keys or caller is not None)
        # Always overwritten: a value placed in the state by anything before us is not trusted.
        scope.setdefault("state", {})[_STATE_KEY] = decided
        reads = kind == "websocket" or scope["method"] in _READ_METHODS
        if (
            kind == "http"
            and scope["method"] == "POST"
            and WEBHOOK_PATH.fullmatch(_route_path(scope))
        ):
            # Admitted to the receiver alone, as nobody: it checks the provider's secret.
            scope["state"][_STATE_KEY] = NOBODY
            await self.app(scope, receive, send)
            return
        if not decided.admitted:
            if kind == "websocket":
                await send({"type": "websocket.close", "code": WS_UNAUTHENTICATED})
            elif reads and _route_path(scope) in OPEN_PATHS:
                await self.app(scope, receive, send)
            else:
                await refuse_unauthenticated(send)
            return
        if (
            caller is not None
            and caller.scope is not KeyScope.WRITE
            and not reads
            and _route_path(scope) not in _SCOPED_BY_APP
        ):
            await refuse(
                send,
                403,
                "FORBIDDEN",
                f"This API key may only read: {scope['method']} needs a key with the write scope",
            )
            return
        await self.app(scope, receive, send)


async def refuse_unauthenticated(send: Send) -> None:
    await refuse(
        send,
        401,
        "UNAUTHENTICATED",
        "Send an API key: Authorization: Bearer KEY (or X-API-Key: KEY)",
        www_authenticate="Bearer",
    )
