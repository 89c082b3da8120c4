"""How `serve` runs the gateway: `GatewayConfig` (a `uvicorn.Config` with the limits
`HttpProtocol` applies, and their defaults) and `serve`, which runs it as `uvicorn.run` would."""

from __future__ import annotations

from typing import Any, Final

import uvicorn
from uvicorn.supervisors import Multiprocess

__all__ = [
    "DEFAULT_HEADERS_TIMEOUT",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_HEADER_BYTES",
    "DEFAULT_REQUEST_TIMEOUT",
    "STARTUP_FAILURE",
    "GatewayConfig",
    "serve",
]

#: nginx's and Node's default: 16 kB of request line and headers.
DEFAULT_MAX_HEADER_BYTES: Final = 16_384
DEFAULT_HEADERS_TIMEOUT: Final = 10.0
DEFAULT_REQUEST_TIMEOUT: Final = 30.0
DEFAULT_MAX_CONNECTIONS: Final = 500
#: uvicorn's exit status when its server could not start (`uvicorn.main.STARTUP_FAILURE`).
STARTUP_FAILURE: Final = 3


class GatewayConfig(uvicorn.Config):
    """uvicorn's configuration plus the limits `HttpProtocol` applies."""

    def __init__(
        self,
        app: Any,
        *,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
        headers_timeout: float = DEFAULT_HEADERS_TIMEOUT,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        **options: Any,
    ) -> None:
        super().__init__(app, **options)
        self.max_header_bytes = max_header_bytes
        self.headers_timeout = headers_timeout
        self.request_timeout = request_timeout
        self.max_connections = max_connections


def serve(config: GatewayConfig) -> None:
    """What `uvicorn.run` does with its config, in one process or `config.workers`; exits
    with uvicorn's status 3 when a single process could not start."""
    server = uvicorn.Server(config)
    try:
        if config.workers > 1:
            Multiprocess(config, sockets=[config.bind_socket()]).run()
        else:
            server.run()
    except KeyboardInterrupt:
        pass
    if not server.started and config.workers == 1:
        raise SystemExit(STARTUP_FAILURE)
