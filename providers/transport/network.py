"""`AiohttpTransport`: a transport over the network, on aiohttp directly (one connection pool
per provider), reading each answer's body up to its cap."""

from __future__ import annotations

import aiohttp

from providers.transport.exchange import (
    AttemptTimeout,
    ConnectionLost,
    Request,
    Response,
    ResponseTooLarge,
    Timeouts,
    Unreachable,
    UnreadableResponse,
)

__all__ = ["AiohttpTransport"]


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
