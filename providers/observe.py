"""What the gateway may watch of a provider's HTTP calls, without the provider knowing how.

`providers.http.Upstream` tells its `UpstreamObserver` (none by default: nothing is done) about
each HTTP attempt it sends, retries included: `started` before the request leaves, with the
headers it will carry (an observer may add to them: a trace context), and `finished` once the
answer is read or the attempt failed. The gateway's observer counts them for its metrics and
makes a span of each for its traces (`gateway.telemetry`).

Each attempt is named by its provider, method and `route`: the path's template as its client
wrote it (`/v2/invoices/{id}`), never the ids themselves, so a metric's label values are few.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from providers.transport import (
    Request,
    Response,
    ResponseTooLarge,
    Timeouts,
    Transport,
    TransportError,
    UnreadableResponse,
)

__all__ = ["Observers", "UpstreamObserver", "failure_kind", "observed_send"]


class UpstreamObserver(Protocol):
    def started(self, provider: str, method: str, route: str, headers: dict[str, str]) -> object:
        """An attempt is about to be sent with `headers` (add to them to send more). Returns
        what `finished` is given back for it."""

    def finished(self, attempt: object, status: int | None, failure: str | None) -> None:
        """The attempt ended: its HTTP `status`, or None and the `failure_kind` when no answer
        was read."""


def failure_kind(exc: BaseException) -> str:
    """A short, stable name for why an attempt got no answer: the transport error's class name
    in snake case (`attempt_timeout`, `unreachable`, `connection_lost`, `response_too_large`,
    `unreadable_response`), `cancelled` or `error`."""
    if isinstance(exc, TransportError | ResponseTooLarge | UnreadableResponse):
        name = type(exc).__name__
        return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    return "error"


class Observers:
    """Several observers as one: each is told of every attempt, in order."""

    def __init__(self, *observers: UpstreamObserver) -> None:
        self.observers = observers

    def started(self, provider: str, method: str, route: str, headers: dict[str, str]) -> object:
        return [o.started(provider, method, route, headers) for o in self.observers]

    def finished(self, attempt: object, status: int | None, failure: str | None) -> None:
        assert isinstance(attempt, list)
        for observer, each in zip(self.observers, attempt, strict=True):
            observer.finished(each, status, failure)


async def observed_send(
    observer: UpstreamObserver,
    provider: str,
    route: str,
    transport: Transport,
    request: Request,
    timeouts: Timeouts,
    max_bytes: int,
) -> Response:
    """One attempt of `request` through `transport`, told to `observer` (with a copy of its
    headers, which the observer may add to)."""
    headers = dict(request.headers)
    attempt = observer.started(provider, request.method, route, headers)
    sent = Request(request.method, request.url, headers, request.content)
    try:
        response = await transport.send(sent, timeouts=timeouts, max_bytes=max_bytes)
    except BaseException as exc:
        observer.finished(attempt, None, failure_kind(exc))
        raise
    observer.finished(attempt, response.status_code, None)
    return response
