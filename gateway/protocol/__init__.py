"""The server side of `serve` and `sandbox`: uvicorn, with the gateway's own HTTP/1.1 protocol.

- `http`: `HttpProtocol`, uvicorn's httptools protocol that declines upgrades other than
  WebSocket (keeping the body) and bounds the request head, the time to send a request and the
  open connections;
- `messages`: the bytes it writes or re-parses itself (refusals, a head without its upgrade);
- `config`: `GatewayConfig`, a `uvicorn.Config` with those limits, and `serve`.
"""

from typing import Final

from gateway.protocol.config import (
    DEFAULT_HEADERS_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_HEADER_BYTES,
    DEFAULT_REQUEST_TIMEOUT,
    GatewayConfig,
    serve,
)
from gateway.protocol.http import HttpProtocol

__all__ = [
    "DEFAULT_HEADERS_TIMEOUT",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_HEADER_BYTES",
    "DEFAULT_REQUEST_TIMEOUT",
    "HTTP_PROTOCOL",
    "GatewayConfig",
    "HttpProtocol",
    "serve",
]

#: What `uvicorn.run(http=...)` takes for this protocol (an import string: workers import it).
HTTP_PROTOCOL: Final = "gateway.protocol:HttpProtocol"
