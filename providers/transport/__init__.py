"""How `providers.http.Upstream` exchanges one request for one response: a small protocol of our
own (`exchange.py`), and its three implementations.

- `AiohttpTransport` (`network.py`): the network, on aiohttp directly (a connection pool per
  provider).
- `AsgiTransport` (`local.py`): an ASGI app in this process (the embedded sandboxes), called
  directly.
- `HandlerTransport` (`local.py`): a function that answers (tests, and anyone scripting a
  provider).

A transport sends what it is given and reads the answer's body whole, at most `max_bytes` of it.
It raises only the errors of `exchange.py` (or `ResponseTooLarge`): `Upstream` turns them into
`providers.errors`, decides what is retried, and owns every other guard (deadline, retries,
breaker, bulkhead, the request's call count). Nothing here knows a provider.
`from providers.transport import ...` gives them all.
"""

from providers.transport.exchange import (
    AttemptTimeout,
    ConnectionLost,
    Request,
    Response,
    ResponseTooLarge,
    Timeouts,
    Transport,
    TransportError,
    Unreachable,
    UnreadableResponse,
)
from providers.transport.local import AsgiTransport, HandlerTransport
from providers.transport.network import AiohttpTransport

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
