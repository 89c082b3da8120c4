"""How `providers.http.Upstream` exchanges one request for one response: a small protocol of our
own, and its three implementations.

- `AiohttpTransport`: the network, on aiohttp directly (a connection pool per provider).
- `AsgiTransport`: an ASGI app in this process (the embedded sandboxes), called directly.
- `HandlerTransport`: a function that answers (tests, and anyone scripting a provider).

A transport sends what it is given and reads the answer's body whole, at most `max_bytes` of it.
It raises only the errors below (or `ResponseTooLarge`): `Upstream` turns them into
`providers.errors`, decides what is retried, and owns every other guard (deadline, retries,
breaker, bulkhead, the request's call count). Nothing here knows a provider.
"""

from __future__ import annotations

import asyncio
import inspect
import json as jsonlib
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
from yarl import URL

__all__ = [
    "AiohttpTransport",
    "AsgiTransport",
    "AttemptTimeout",
    "ConnectionLost",
    "HandlerTransport",
    "Request",
    "Response",
    "ResponseTooLarge",
    "Timeouts",
    "Transport",
    "TransportError",
    "Unreachable",
    "UnreadableResponse",
]


# -- what goes in and comes out -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Per attempt, in seconds: to open a connection, and between two reads of the answer."""

    connect: float
    read: float


@dataclass(slots=True)
class Request:
    """One request as sent: `url` is absolute and already encoded; header names lower-case."""

    method: str
    url: URL
    headers: Mapping[str, str]
    content: bytes | None = None


@dataclass(slots=True)
class Response:
    """A status, its headers (looked up by lower-case name) and the whole body, decoded from
    any content encoding."""

    status_code: int
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes = b""

    @classmethod
    def of(
        cls,
        status_code: int,
        *,
        json: Any = None,
        text: str | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """A response built by hand (a script, a test): `json`, `text` or `content` as body."""
        found = {name.lower(): value for name, value in (headers or {}).items()}
        body = content or b""
        if json is not None:
            body = jsonlib.dumps(json).encode()
            found.setdefault("content-type", "application/json")
        elif text is not None:
            body = text.encode()
            found.setdefault("content-type", "text/plain; charset=utf-8")
        found.setdefault("content-length", str(len(body)))
        return cls(status_code, found, body)

    def json(self) -> Any:
        """The body as JSON with Python's default types (for scripts and tests; the providers
        decode bodies into their own records)."""
        return jsonlib.loads(self.content)


# -- what can go wrong --------------------------------------------------------------------------


class TransportError(Exception):
    """The exchange failed below HTTP. Its text is for logs, never for a client."""


class Unreachable(TransportError):
    """No connection was made (refused, no such host, TLS refused, not an HTTP URL): the request
    was not sent."""


class ConnectionLost(TransportError):
    """Connected, then the connection broke before the answer was whole: the request may have
    been carried out."""


class AttemptTimeout(TransportError):
    """The connection or the next piece of the answer took longer than `Timeouts` allow."""


class UnreadableResponse(Exception):
    """An answer arrived that is not HTTP as it should be (a malformed status line, a body
    that does not match its encoding)."""


class ResponseTooLarge(Exception):
    """The body is longer than `max_bytes` (declared, or as read)."""


class Transport(Protocol):
    """What `Upstream` needs to exchange one request for one response."""

    async def send(self, request: Request, *, timeouts: Timeouts, max_bytes: int) -> Response:
        """Send `request`; return the answer with its whole body (at most `max_bytes`).

        Raises `TransportError` (one of its three kinds), `UnreadableResponse` or
        `ResponseTooLarge`. Cancelling it abandons the exchange and frees the connection.
        """
        ...

    async def aclose(self) -> None:
        """Close what it holds (connections); it is not used afterwards."""
        ...


# -- the network: aiohttp -----------------------------------------------------------------------

_CHUNK = 64 * 1024
#: Shorter than the idle time after which common servers close a kept-alive connection
#: (uvicorn: 5 s), so a pooled connection is not reused just as the server drops it.
_KEEPALIVE_SECONDS = 4.0


class AiohttpTransport:
    """HTTP/1.1 over aiohttp: a pool of at most `max_connections` connections.

    No redirects are followed, no cookies kept, no proxy or `.netrc` read from the environment;
    TLS is verified against the system's trust store (`ssl.create_default_context()`, which
    honours `SSL_CERT_FILE` and `SSL_CERT_DIR`). The session is made on first use, inside the
    running event loop; once closed, the transport sends nothing more (`Unreachable`).
    """

    def __init__(self, *, max_connections: int) -> None:
        self.max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._timeouts: dict[Timeouts, aiohttp.ClientTimeout] = {}

    def __repr__(self) -> str:
        return f"AiohttpTransport(max_connections={self.max_connections})"

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            raise Unreachable("the transport is closed")
        connector = aiohttp.TCPConnector(
            limit=self.max_connections,
            limit_per_host=0,
            keepalive_timeout=_KEEPALIVE_SECONDS,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            raise_for_status=False,
            auto_decompress=True,
        )
        return self._session

    def _timeout(self, timeouts: Timeouts) -> aiohttp.ClientTimeout:
        found = self._timeouts.get(timeouts)
        if found is None:
            # Per attempt: opening a socket, and each read. No bound on the wait for a pooled
            # connection or on the whole exchange: the bulkhead holds calls to the pool's size,
            # and Upstream's deadline bounds the call, retries included.
            found = aiohttp.ClientTimeout(
                total=None,
                connect=None,
                sock_connect=timeouts.connect,
                sock_read=timeouts.read,
            )
            self._timeouts[timeouts] = found
        return found

    async def send(self, request: Request, *, timeouts: Timeouts, max_bytes: int) -> Response:
        session = self._session or self._open()
        try:
            async with session.request(
                request.method,
                request.url,
                headers=request.headers,
                data=request.content,
                allow_redirects=False,
                timeout=self._timeout(timeouts),
            ) as response:
                try:
                    body = await _read_capped(response, max_bytes)
                except ResponseTooLarge:
                    response.close()  # the rest is not wanted: the connection is not reused
                    raise
                return Response(response.status, response.headers, body)
        except aiohttp.ClientConnectorError as exc:  # refused, DNS, TLS: before sending
            raise Unreachable(str(exc)) from exc
        except (aiohttp.NonHttpUrlClientError, aiohttp.InvalidUrlClientError) as exc:
            raise Unreachable(str(exc)) from exc
        except aiohttp.ServerTimeoutError as exc:  # sock_connect or sock_read
            raise AttemptTimeout(str(exc)) from exc
        except aiohttp.ClientPayloadError as exc:  # the body was cut short
            raise ConnectionLost(str(exc)) from exc
        except aiohttp.ClientConnectionError as exc:  # disconnected, reset: after sending
            raise ConnectionLost(str(exc)) from exc
        except aiohttp.ClientError as exc:  # a malformed status line or header, ...
            raise UnreadableResponse(str(exc)) from exc
        except ConnectionError as exc:
            raise ConnectionLost(str(exc)) from exc

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()


async def _read_capped(response: aiohttp.ClientResponse, cap: int) -> bytes:
    length = response.content_length
    if length is not None and length > cap:
        raise ResponseTooLarge
    if length is not None and "content-encoding" not in response.headers:
        return await response.read()  # aiohttp reads exactly the declared length
    # Chunked, or encoded (the decoded body may be far larger than what was sent): by pieces.
    body = bytearray()
    stream = response.content
    while chunk := await stream.readany():
        body += chunk
        if len(body) > cap:
            raise ResponseTooLarge
    return bytes(body)


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
