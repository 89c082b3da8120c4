"""Graceful shutdown: on SIGTERM `/readyz` answers 503 first, and only then does the server stop.

A load balancer polls `/readyz`; if the process stopped listening the moment SIGTERM arrived,
requests it had already routed here would be refused. So the first SIGTERM only marks the
process as draining (`/readyz` → 503, every other route still served) and, `drain_seconds`
later, hands the signal to the server (uvicorn), which stops accepting connections and lets
requests in flight finish within its `timeout_graceful_shutdown` (GATEWAY_SHUTDOWN_GRACE_SECONDS)
before the lifespan closes the providers. A second SIGTERM, or SIGINT (Ctrl-C), is handed over
at once.

This works the same with one process and with `--workers N` (each worker gets the signal from
uvicorn's supervisor): the hook is installed by the app's lifespan, in the process that serves,
around the handler uvicorn installed. Where no server owns the signal (tests driving the app
in-process, a thread other than the main one) nothing is installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

__all__ = ["Drain", "drain_on_sigterm"]

logger = logging.getLogger("gateway.shutdown")

_Handler = Callable[[int, FrameType | None], Any]


class Drain:
    """Whether this app is shutting down; `/readyz` reads it."""

    def __init__(self) -> None:
        self.since: float | None = None

    @property
    def draining(self) -> bool:
        return self.since is not None

    def begin(self) -> None:
        if self.since is None:
            self.since = time.monotonic()


@contextlib.contextmanager
def drain_on_sigterm(drain: Drain, *, drain_seconds: float) -> Iterator[None]:
    """While the block runs, the first SIGTERM starts `drain` and reaches the server's own
    handler `drain_seconds` later; the previous handlers are restored on the way out."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    handlers = {sig: h for sig, h in previous.items() if callable(h)}
    if threading.current_thread() is not threading.main_thread() or len(handlers) < 2:
        yield  # no server owns the signals here: nothing to hand over
        return
    loop = asyncio.get_running_loop()

    def hand_over(sig: int) -> None:
        logger.warning("draining done: stopping (signal %s)", signal.Signals(sig).name)
        handlers[signal.Signals(sig)](sig, None)

    def on_signal(sig: int, frame: FrameType | None) -> None:
        first = not drain.draining
        drain.begin()
        if sig == signal.SIGTERM and first and drain_seconds > 0:
            logger.warning("SIGTERM: /readyz answers 503, stopping in %g s", drain_seconds)
            # In a signal handler: reach the loop through its thread-safe door.
            loop.call_soon_threadsafe(loop.call_later, drain_seconds, hand_over, sig)
        else:
            handlers[signal.Signals(sig)](sig, frame)

    for sig in handlers:
        signal.signal(sig, on_signal)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(sig, handler)
