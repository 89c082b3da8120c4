"""The HTTP conventions clients expect around every route (`http_conventions`): CORS that lets
the headers GraphQL clients and tracing send through a preflight, `Cache-Control: no-store` on
every answer of /graphql, and compression negotiated by `Accept-Encoding`.

Compression is starlette-compress (zstd, brotli, gzip: it skips WebSocket, answers already
encoded, ranges, and bodies under the threshold), with two changes: the coding is chosen by the
client's q-values (starlette-compress ranks by its own order alone; on a tie its order, zstd,
br, gzip, decides), and `text/event-stream` and `multipart/` answers are never compressed, so a
subscription keeps arriving event by event and holds no compressor's memory while it is open.
"""

from __future__ import annotations

import functools

import starlette_compress
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.media import GRAPHQL_RESPONSE_JSON
from gateway.operating_settings import OperatingSettings

__all__ = ["CORS_ALLOW_HEADERS", "Compression", "NoStore", "choose_coding", "http_conventions"]

#: Request headers a browser may send cross-origin (besides the CORS-safelisted ones): the
#: gateway's own, Apollo Client's (client awareness, the preflight headers of a GET operation),
#: GraphQL Hive's client headers, and W3C trace context and baggage. Relay and urql send only
#: `content-type` and `accept` of their own.
CORS_ALLOW_HEADERS = (
    "authorization",
    "content-type",
    "x-api-key",
    "x-request-id",
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "apollographql-client-name",
    "apollographql-client-version",
    "graphql-client-name",
    "graphql-client-version",
    "traceparent",
    "tracestate",
    "baggage",
)

#: Content codings the gateway sends, best first (starlette-compress's order).
CODINGS = ("zstd", "br", "gzip")

# starlette-compress keeps its content types in module state: add the GraphQL-over-HTTP media
# type, and take the streams off (it would compress them with a flush per message).
starlette_compress.add_compress_type(GRAPHQL_RESPONSE_JSON)
for _stream in ("text/event-stream", "multipart/mixed"):
    starlette_compress.remove_compress_type(_stream)


@functools.lru_cache(maxsize=256)
def choose_coding(accept_encoding: str) -> str | None:
    """The coding of `CODINGS` with the highest q-value in `accept_encoding` (`*` stands for
    the codings it does not name; q=0 refuses one), else None (identity)."""
    named: dict[str, float] = {}
    wildcard: float | None = None
    for item in accept_encoding.split(",")[:64]:
        coding, *params = item.split(";")
        coding = coding.strip().lower()
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        if coding == "*":
            wildcard = q
        elif coding:
            named[coding] = max(q, named.get(coding, 0.0))
    best, chosen = 0.0, None
    for coding in CODINGS:
        q = named.get(coding, wildcard if wildcard is not None else 0.0)
        if q > best:
            best, chosen = q, coding
    return chosen


class Compression:
    """starlette-compress, handed only the coding `choose_coding` picked for the request."""

    def __init__(self, app: ASGIApp, *, minimum_size: int) -> None:
        self.inner = starlette_compress.CompressMiddleware(app, minimum_size=minimum_size)
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = b",".join(v for k, v in scope["headers"] if k == b"accept-encoding")
        coding = choose_coding(offered.decode("latin-1")) if offered else None
        if coding is None:
            await self.app(scope, receive, send)
            return
        headers = [(k, v) for k, v in scope["headers"] if k != b"accept-encoding"]
        headers.append((b"accept-encoding", coding.encode()))
        await self.inner({**scope, "headers": headers}, receive, send)


class NoStore:
    """`Cache-Control: no-store` on every answer of `path`: a GraphQL answer (or refusal) is
    one caller's, read at one moment, and must not be kept by a browser or a proxy."""

    def __init__(self, app: ASGIApp, *, path: str) -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_no_store)


def http_conventions(
    settings: OperatingSettings, *, cors_origins: tuple[str, ...], path: str = "/graphql"
) -> list[Middleware]:
    """The middleware, outermost first: no-store for `path`, CORS (when origins are set:
    outside the key check, so a preflight, which carries no key, is answered), compression."""
    middleware = [Middleware(NoStore, path=path)]
    if cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=list(CORS_ALLOW_HEADERS),
                expose_headers=["x-request-id"],
            )
        )
    if settings.compression:
        middleware.append(Middleware(Compression, minimum_size=settings.compression_min_bytes))
    return middleware
