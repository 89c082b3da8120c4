"""Log records about rejected queries: short and few, so a flood of large queries cannot flood
the log (Strawberry logs every rejected query with a source excerpt).

Two standard `logging.Filter`s on the loggers that write about operations (`gateway.graphql`,
where the schema logs each rejected operation with its query, and `strawberry.execution`,
Strawberry's own, which logs an error with a source excerpt):

- `RateLimit` lets at most N records a second through, both loggers together, and drops the
  rest; the first record let through after a drop is preceded by a WARNING saying how many
  were held back;
- `Excerpts` cuts every text of a record (each argument, or the message when it has none) to
  `EXCERPT_CHARS` characters on one line, marked with the original length.

OpenTelemetry's propagators (HEADER_LOGGERS), which quote a malformed trace header a client
sent, share that budget and are cut the same way.

`limit_error_logs` does the same for what fails while operations run, each with its own budget:

- failed provider calls: one WARNING each on `gateway.providers` (code, provider, message,
  request id), and stamina's own record of each retry it schedules (`stamina`); one request
  could write thousands (a listing of 100 invoices asking for 10 aliased PDFs: 960 lines);
- masked bugs: one ERROR each on `gateway.errors` with the request id and the whole traceback
  (about 40 lines), never cut: the ones let through are whole, the others counted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping

__all__ = [
    "BUG_LOGGERS",
    "EXCERPT_CHARS",
    "HEADER_LOGGERS",
    "PROVIDER_LOGGERS",
    "QUERY_LOGGERS",
    "Excerpts",
    "RateLimit",
    "excerpt",
    "limit_error_logs",
    "limit_query_logs",
]

EXCERPT_CHARS = 200
QUERY_LOGGERS = ("gateway.graphql", "strawberry.execution")
#: OpenTelemetry's propagators, which warn about a malformed `baggage`, `traceparent` or
#: `tracestate` header and quote it (8 KB of it): what anyone can send, as a refused query.
HEADER_LOGGERS = (
    "opentelemetry.baggage.propagation",
    "opentelemetry.trace.propagation.tracecontext",
    "opentelemetry.trace.span",
)
PROVIDER_LOGGERS = ("gateway.providers", "stamina")
BUG_LOGGERS = ("gateway.errors",)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """`text` on one line (control characters escaped, so no line can be forged), at most
    `limit` characters of it, then ` … (N chars)` when it was longer."""
    shown = repr(text[:limit])[1:-1][:limit]
    if len(text) <= limit and len(shown) == len(repr(text)) - 2:
        return shown
    return f"{shown} … ({len(text)} chars)"


class Excerpts(logging.Filter):
    """Cuts every string argument of a record (or its message, when it has no arguments)."""

    def __init__(self, limit: int = EXCERPT_CHARS) -> None:
        super().__init__()
        self.limit = limit

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, Mapping):
            record.args = {k: self._cut(v) for k, v in record.args.items()}
        elif record.args:
            record.args = tuple(self._cut(arg) for arg in record.args)
        else:
            # Strawberry logs the GraphQLError itself, whose str() quotes the query's source.
            record.msg = excerpt(str(record.msg), self.limit)
        return True

    def _cut(self, value: object) -> object:
        return excerpt(value, self.limit) if isinstance(value, str) else value


class RateLimit(logging.Filter):
    """At most `per_second` records a second; the first one let through after some were
    dropped is preceded, on the same logger, by a WARNING that counts them."""

    def __init__(self, per_second: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.per_second = per_second
        self.clock = clock
        self._lock = threading.Lock()
        self._window = clock()
        self._passed = 0
        self._held = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "held_back"):  # our own summary
            return True
        with self._lock:
            now = self.clock()
            held, since = 0, self._window
            if now - self._window >= 1.0:
                held, self._held = self._held, 0
                self._window, self._passed = now, 0
            if self._passed >= self.per_second:
                self._held += 1
                return False
            self._passed += 1
        if held:
            logging.getLogger(record.name).warning(
                "%d similar log records held back in the last %.0f s (at most %d a second)",
                held,
                now - since,
                self.per_second,
                extra={"held_back": held},
            )
        return True


def _install(loggers: tuple[str, ...], filters: list[logging.Filter]) -> None:
    """Put `filters` on each of `loggers`, replacing the ones an earlier call put there."""
    for name in loggers:
        logger = logging.getLogger(name)
        for old in [f for f in logger.filters if isinstance(f, RateLimit | Excerpts)]:
            logger.removeFilter(old)
        for new in filters:
            logger.addFilter(new)


def _limits(per_second: int, clock: Callable[[], float], *, cut: bool) -> list[logging.Filter]:
    filters: list[logging.Filter] = [Excerpts()] if cut else []
    if per_second:
        filters.insert(0, RateLimit(per_second, clock=clock))  # first: drop before cutting
    return filters


def limit_query_logs(
    *, per_second: int, clock: Callable[[], float] = time.monotonic
) -> list[logging.Filter]:
    """Put one `RateLimit(per_second)` (none when 0), shared, and `Excerpts` on each of
    QUERY_LOGGERS and HEADER_LOGGERS, replacing the ones an earlier call put there. Loggers
    belong to the process: the last app created sets them. Returns the filters put on."""
    filters = _limits(per_second, clock, cut=True)
    _install(QUERY_LOGGERS + HEADER_LOGGERS, filters)
    return filters


def limit_error_logs(
    *,
    provider_failures_per_second: int,
    bugs_per_second: int,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """One shared `RateLimit` and `Excerpts` on PROVIDER_LOGGERS, another `RateLimit` alone on
    BUG_LOGGERS (a traceback let through stays whole); 0 lets all through. As
    `limit_query_logs`, the last app created sets them."""
    _install(PROVIDER_LOGGERS, _limits(provider_failures_per_second, clock, cut=True))
    _install(BUG_LOGGERS, _limits(bugs_per_second, clock, cut=False))
