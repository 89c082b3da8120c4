"""The HTTP/1.1 protocol `serve` runs: uvicorn's httptools protocol, but a request that offers
an upgrade other than WebSocket is answered over HTTP/1.1, with its body.

Java's `HttpClient.newHttpClient()` offers `Upgrade: h2c` (with `Connection: Upgrade,
HTTP2-Settings`) on its first request, body included. llhttp stops parsing at the end of the
headers of any request that offers an upgrade and treats the bytes after them as the new
protocol's, so uvicorn's own protocol ran the request with an empty body (400 "Unable to parse
request body as JSON"). A server may ignore an upgrade offer (RFC 9110, section 7.8): this one
parses that request again without its upgrade headers, so the body arrives and the connection
stays HTTP/1.1. WebSocket upgrades are untouched.
"""

from __future__ import annotations

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["HTTP_PROTOCOL", "HttpProtocol"]

#: What `uvicorn.run(http=...)` takes for this protocol (an import string: workers import it).
HTTP_PROTOCOL = "gateway.protocol:HttpProtocol"

# The headers that offer an upgrade, and the `Connection` options that point at them.
_UPGRADE_HEADERS = frozenset({b"upgrade", b"http2-settings"})


class HttpProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol` that declines every upgrade but WebSocket, keeping the body."""

    _declined: bool = False
    _replayed: bool = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._declined = False

    def on_headers_complete(self) -> None:
        if self.parser.should_upgrade() and not self._should_upgrade():
            # Not started here: llhttp is about to hand the body over as "upgraded" bytes;
            # the request runs once it is parsed again (data_received).
            self._declined = True
            return
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        if self._declined:
            return
        super().on_message_complete()

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
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

    def _replay_without_upgrade(self, rest: bytes) -> None:
        """Parse the request again from its head, minus the upgrade offer, then `rest` (the
        body and whatever follows), with a fresh parser for the rest of the connection."""
        version = self.parser.get_http_version().encode()
        head = [self.parser.get_method(), b" ", self.url, b" HTTP/", version, b"\r\n"]
        for name, value in self.scope["headers"]:
            if name in _UPGRADE_HEADERS:
                continue
            if name == b"connection":
                options = [o.strip() for o in value.split(b",")]
                kept = [o for o in options if o.lower() not in _UPGRADE_HEADERS]
                if not kept:
                    continue
                value = b", ".join(kept)
            head += [name, b": ", value, b"\r\n"]
        head.append(b"\r\n")
        self.parser = httptools.HttpRequestParser(self)
        self._replayed = True
        try:
            self.data_received(b"".join(head) + rest)
        finally:
            self._replayed = False
