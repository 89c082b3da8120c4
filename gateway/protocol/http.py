"""`HttpProtocol`, the HTTP/1.1 protocol `serve` runs: uvicorn's httptools protocol, but a
request that offers an upgrade other than WebSocket is answered over HTTP/1.1, with its body.

Java's `HttpClient.newHttpClient()` offers `Upgrade: h2c` (with `Connection: Upgrade,
HTTP2-Settings`) on its first request, body included. llhttp stops parsing at the end of the
headers of any request that offers an upgrade and treats the bytes after them as the new
protocol's, so uvicorn's own protocol ran the request with an empty body (400 "Unable to parse
request body as JSON"). A server may ignore an upgrade offer (RFC 9110, section 7.8): this one
parses that request again without its upgrade headers, so the body arrives and the connection
stays HTTP/1.1. WebSocket upgrades are untouched.

It also bounds what a client can hold before its request is read, which uvicorn does not do for
httptools (an 8 MB header was read whole; 500 connections dripping a header line every 10 s all
stayed open):

- the request head (request line and headers) is at most `max_header_bytes`: more is answered
  431 and the connection closed, counted while it arrives, so an endless header is not buffered;
- the head must arrive within `headers_timeout` of the first byte of a request (or of the
  connection's start): else 408 and the connection is closed (slowloris);
- the whole request, body included, must arrive within `request_timeout` of its first byte:
  else 408 (the app, waiting for the body, sees the client go away) and the connection is
  closed. A body that keeps dripping after the gateway answered (a 401 or 413 sent before it
  was read) is bounded the same way; uvicorn kept such a connection open for as long as a byte
  came every few seconds;
- at most `max_connections` connections are open per process. When one more arrives, the
  connection that has waited longest without a request in progress (connected or idle between
  requests without a complete head, or still sending a body already answered) is closed to
  make room; only when every connection is in the middle of a request (its head read and its
  answer not finished, or a WebSocket) is the new one answered 503 and closed. So connections
  that send nothing useful, however many and without a key, cannot keep callers out: they
  were 503 for every caller while 520 connections dripped headers.

The values come from `GatewayConfig` (a `uvicorn.Config` with these fields, which `serve` and
the tests use); under a plain `uvicorn.Config` the defaults in `gateway.protocol.config` apply.
"""

from __future__ import annotations

import asyncio

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.protocol.config import (
    DEFAULT_HEADERS_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_HEADER_BYTES,
    DEFAULT_REQUEST_TIMEOUT,
)
from gateway.protocol.messages import head_without_upgrade, refusal

__all__ = ["HttpProtocol"]


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing a head over the limit."""


class HttpProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol` that declines every upgrade but WebSocket, keeping the body, and
    bounds the head's size, the time to send it and the whole request, and the connections
    open (the module's docstring)."""

    _declined: bool = False
    _replayed: bool = False
    #: Whether the current request's head is still arriving (from the connection's start).
    _head_open: bool = True
    #: Bytes received while the head was open (at most one read more than the head itself).
    _head_bytes: int = 0
    #: Bytes of the head the parser handed over: request target and headers.
    _head_parsed: int = 0
    _head_timer: asyncio.TimerHandle | None = None
    #: Whether the current request's body is still arriving (its head is read).
    _body_open: bool = False
    _request_timer: asyncio.TimerHandle | None = None
    #: Since when (loop time) the connection has had no request in progress.
    _waiting_since: float = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._waiting_since = self.loop.time()
        limit = getattr(self.config, "max_connections", DEFAULT_MAX_CONNECTIONS)
        if len(self.connections) > limit:
            longest = self._longest_waiting()
            if longest is None:
                self._refuse(
                    b"503 Service Unavailable",
                    "SERVER_BUSY",
                    f"the server has {limit} open connections, each with a request in "
                    "progress: try again later",
                )
                return
            longest._make_room()
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        self._disarm_request_timer()
        super().connection_lost(exc)

    # -- room for a new connection -------------------------------------------------------------

    def _waiting(self) -> bool:
        """No request in progress: nothing read yet or a head still arriving, idle between
        requests, or a body still arriving for a request already answered."""
        if self.transport is None or self.transport.is_closing():
            return False
        return self.cycle is None or self.cycle.response_complete

    def _longest_waiting(self) -> HttpProtocol | None:
        waiting = (
            other
            for other in self.connections
            if isinstance(other, HttpProtocol) and other is not self and other._waiting()
        )
        return min(waiting, key=lambda other: other._waiting_since, default=None)

    def _make_room(self) -> None:
        """Close this connection, which has no request in progress, for a new one."""
        self._disarm_head_timer()
        self._disarm_request_timer()
        self.transport.close()

    def on_response_complete(self) -> None:
        self._waiting_since = self.loop.time()
        super().on_response_complete()

    # -- the whole request's deadline ----------------------------------------------------------

    def _arm_request_timer(self) -> None:
        self._disarm_request_timer()
        timeout = getattr(self.config, "request_timeout", DEFAULT_REQUEST_TIMEOUT)
        self._request_timer = self.loop.call_later(timeout, self._request_timed_out)

    def _disarm_request_timer(self) -> None:
        if self._request_timer is not None:
            self._request_timer.cancel()
            self._request_timer = None

    def _request_timed_out(self) -> None:
        self._request_timer = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        message = "the request did not arrive in time"
        if self._head_open or not self._body_open:
            self._refuse(b"408 Request Timeout", "REQUEST_TIMEOUT", message)
        elif not cycle.response_started:
            # The app waits for the body: it sees the client go away, and what it may still
            # send is dropped (the cycle is disconnected), so the 408 is the only answer.
            cycle.disconnected = True
            cycle.message_event.set()
            self._write_refusal(b"408 Request Timeout", "REQUEST_TIMEOUT", message)
            self.transport.close()
        else:
            # Answered (or being answered) already: the client is still sending the body.
            self._disarm_head_timer()
            self.transport.close()

    def handle_websocket_upgrade(self) -> None:
        # The socket is the WebSocket protocol's from here: no HTTP timer may close it.
        self._disarm_head_timer()
        self._disarm_request_timer()
        super().handle_websocket_upgrade()

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        timeout = getattr(self.config, "headers_timeout", DEFAULT_HEADERS_TIMEOUT)
        self._head_timer = self.loop.call_later(timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._head_open and not self.transport.is_closing():
            self._refuse(
                b"408 Request Timeout",
                "REQUEST_TIMEOUT",
                "the request's headers did not arrive in time",
            )

    def _refuse(self, status: bytes, code: str, message: str) -> None:
        """Answer `status` with one coded error and close; when a response is being written,
        only close (a second one would be read as part of it)."""
        self._disarm_head_timer()
        self._disarm_request_timer()
        if self.cycle is None or self.cycle.response_complete:
            self._write_refusal(status, code, message)
        self.transport.close()

    def _write_refusal(self, status: bytes, code: str, message: str) -> None:
        self.transport.write(refusal(status, code, message, self.server_state.default_headers))

    def _refuse_large_head(self) -> None:
        limit = getattr(self.config, "max_header_bytes", DEFAULT_MAX_HEADER_BYTES)
        self._refuse(
            b"431 Request Header Fields Too Large",
            "REQUEST_HEADER_FIELDS_TOO_LARGE",
            f"the request line and headers exceed {limit} bytes",
        )

    def _count_head(self, size: int) -> None:
        self._head_parsed += size
        if self._head_parsed > getattr(self.config, "max_header_bytes", DEFAULT_MAX_HEADER_BYTES):
            raise _HeadTooLarge

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._declined = False
        if not self._replayed:
            self._head_open, self._head_bytes, self._head_parsed = True, 0, 0
            self._body_open = False
            self._arm_head_timer()
            self._arm_request_timer()

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._head_open = False
        self._body_open = True
        self._disarm_head_timer()
        if self.parser.should_upgrade() and not self._should_upgrade():
            # Not started here: llhttp is about to hand the body over as "upgraded" bytes;
            # the request runs once it is parsed again (data_received).
            self._declined = True
            return
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        if self._declined:
            return
        self._body_open = False
        self._disarm_request_timer()
        super().on_message_complete()

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self.transport.is_closing():
            return  # refused: nothing more is read
        if self._head_open:
            self._head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except _HeadTooLarge:
            self._refuse_large_head()
            return
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _HeadTooLarge):
                self._refuse_large_head()
                return
            raise
        except httptools.HttpParserError:
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
        except httptools.HttpParserUpgrade as upgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            elif self._declined and not self._replayed:
                self._replay_without_upgrade(data[upgrade.args[0] :])
            else:  # CONNECT, or an upgrade llhttp still sees in a replayed request
                self.send_400_response("Unsupported upgrade request.")
            return
        limit = getattr(self.config, "max_header_bytes", DEFAULT_MAX_HEADER_BYTES)
        if self._head_open and self._head_bytes > limit and not self.transport.is_closing():
            # A head still arriving, already over the limit: the parser would buffer it all.
            self._refuse_large_head()

    def _replay_without_upgrade(self, rest: bytes) -> None:
        """Parse the request again from its head, minus the upgrade offer, then `rest` (the
        body and whatever follows), with a fresh parser for the rest of the connection."""
        version = self.parser.get_http_version().encode()
        head = head_without_upgrade(
            self.parser.get_method(), self.url, version, self.scope["headers"]
        )
        self.parser = httptools.HttpRequestParser(self)
        self._replayed = True
        try:
            self.data_received(head + rest)
        finally:
            self._replayed = False
