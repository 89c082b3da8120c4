"""The upstream calls of one gateway request: who makes them, how many it made, how many it may.

The gateway opens a `RequestCalls` for each operation and makes it current (`counting`, a
context variable, so it reaches every task the operation starts: loaders, work started early).
`providers.http.Upstream` asks it before every HTTP attempt, retries included: the attempt is
counted, or refused with `UpstreamCallLimit` once `limit` attempts were sent, and it takes its
bulkhead slot in the name of `caller`. Calls made outside any operation (start-up, `/readyz`)
have none: they are neither counted nor capped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from providers.errors import UpstreamCallLimit

__all__ = ["RequestCalls", "counting", "current_calls"]


@dataclass(slots=True)
class RequestCalls:
    """`caller`: whose calls these are (a bulkhead keeps each caller to its share), None when
    callers are not told apart; `limit`: HTTP requests the operation may send (0: no limit);
    `request_id`: the gateway request's id, which every call carries as `x-request-id`."""

    caller: str | None = None
    limit: int = 0
    #: The gateway request's id, sent on to the providers (`x-request-id`).
    request_id: str | None = None
    #: HTTP requests sent, retries included.
    made: int = 0
    #: Requests refused because `limit` was reached (nothing was sent for them).
    refused: int = 0
    by_provider: dict[str, int] = field(default_factory=dict)

    def spend(self, provider: str) -> None:
        """Count one HTTP request to `provider`, or raise `UpstreamCallLimit` (nothing sent)."""
        if self.limit and self.made >= self.limit:
            self.refused += 1
            raise UpstreamCallLimit(
                provider,
                f"this request already sent {self.limit} upstream requests, its limit "
                "(GATEWAY_MAX_UPSTREAM_CALLS): ask for fewer items or split the operation",
            )
        self.made += 1
        self.by_provider[provider] = self.by_provider.get(provider, 0) + 1


_CURRENT: ContextVar[RequestCalls | None] = ContextVar("invoice_gateway_calls", default=None)


def current_calls() -> RequestCalls | None:
    """The calls of the operation running in this task, or None outside one."""
    return _CURRENT.get()


@contextlib.contextmanager
def counting(calls: RequestCalls) -> Iterator[RequestCalls]:
    """Make `calls` current for the tasks started inside the block (and this one)."""
    token = _CURRENT.set(calls)
    try:
        yield calls
    finally:
        try:
            _CURRENT.reset(token)
        except ValueError:  # left in another context than it was entered in
            _CURRENT.set(None)
