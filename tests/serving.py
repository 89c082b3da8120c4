"""Serve an ASGI app on 127.0.0.1 for a test, in a thread, and stop it afterwards."""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from gateway.protocol import HTTP_PROTOCOL, GatewayConfig
from gateway.settings import GatewaySettings

STARTUP_TIMEOUT_S = 10.0


class ServedApp:
    """`with ServedApp(app) as served:` binds an ephemeral port on 127.0.0.1 (`served.url`).
    With `lifespan`, the app's lifespan runs too (what it opens, it closes on the way out)."""

    def __init__(self, app: Any, *, lifespan: bool = False) -> None:
        # What `serve` runs: its protocol, and the limits of the app's settings (the defaults
        # for an app without them, such as a sandbox).
        settings = getattr(getattr(app, "state", None), "settings", None)
        limits = settings.server_options() if isinstance(settings, GatewaySettings) else {}
        config = GatewayConfig(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="on" if lifespan else "off",
            loop="asyncio",
            http=HTTP_PROTOCOL,  # what `serve` runs
            server_header=False,  # as `serve` and `sandbox` do
            **limits,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="served-app", daemon=True)
        self.url = ""

    def __enter__(self) -> ServedApp:
        self.thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=STARTUP_TIMEOUT_S)
