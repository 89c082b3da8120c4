"""The gateway's Prometheus metrics (`prometheus-client`): what they count, and how they are
exposed at `/metrics` or on `GATEWAY_METRICS_PORT`, one process or many (`serve --workers N`).

Each app has its own `Metrics` (its own registry: two apps in one process, as in the tests,
never add to each other's counts). Under `serve --workers N`, `PROMETHEUS_MULTIPROC_DIR` is set
before the workers start (prometheus-client's multiprocess mode): each worker writes its values
to files there, and a scrape of any worker (or of the metrics port, served by the supervisor)
adds them all up. docs/operations.md lists every metric with what it means.

Label values are bounded: an operation's name is one of the first `MAX_OPERATION_NAMES` seen
by this process (later ones count as `~other`), an upstream call is named by its route template,
codes and states come from fixed tables.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)

from gateway.telemetry.record import OK, RequestRecord
from providers.base import InvoiceProvider

__all__ = ["MAX_OPERATION_NAMES", "Metrics", "multiprocess_dir"]

#: Distinct operation names a process labels its metrics with; later ones are `~other`.
MAX_OPERATION_NAMES: Final = 200
OTHER_OPERATIONS: Final = "~other"
ANONYMOUS: Final = "~anonymous"

#: Request durations, in seconds: from a cached `__typename` (under a millisecond) to a listing
#: that waits on a slow provider (GATEWAY's deadlines are tens of seconds).
REQUEST_BUCKETS: Final = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
)
UPSTREAM_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

_CIRCUIT_STATES: Final = ("closed", "half_open", "open")

# No `*_created` series beside each counter and histogram: they double what a scrape reads, and
# Prometheus (without created-timestamp ingestion) keeps them as series of their own.
disable_created_metrics()  # type: ignore[no-untyped-call]


def multiprocess_dir() -> str | None:
    """prometheus-client's multiprocess directory, when this process runs in that mode."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


@dataclass(slots=True)
class _Attempt:
    provider: str
    route: str
    method: str
    started: float


class Metrics:
    """Every metric of one app, and what feeds them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "gateway_requests",
            "GraphQL requests, by operation name, operation type and outcome (OK or the code "
            "of the first error)",
            ["operation", "type", "outcome"],
            registry=r,
        )
        self.duration = Histogram(
            "gateway_request_duration_seconds",
            "Time to answer a GraphQL request, by operation name and type",
            ["operation", "type"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.refused = Counter(
            "gateway_refused_operations",
            "Requests refused before any operation ran, by code (UNAUTHENTICATED, "
            "QUERY_TOO_COSTLY, GRAPHQL_VALIDATION_FAILED, ...)",
            ["code"],
            registry=r,
        )
        self.upstream = Counter(
            "gateway_upstream_requests",
            "HTTP requests sent to providers (retries included), by provider, route template, "
            "method and status (or why no answer came: attempt_timeout, unreachable, ...)",
            ["provider", "route", "method", "status"],
            registry=r,
        )
        self.upstream_duration = Histogram(
            "gateway_upstream_request_duration_seconds",
            "Time of one HTTP request to a provider, by provider and route template",
            ["provider", "route"],
            buckets=UPSTREAM_BUCKETS,
            registry=r,
        )
        self.circuit_state = Gauge(
            "gateway_upstream_circuit_state",
            "1 for the state each provider's circuit breaker is in (closed, half_open, open); "
            "under several workers, 1 when any worker's is",
            ["provider", "state"],
            multiprocess_mode="livemax",
            registry=r,
        )
        self.circuit_opened = Counter(
            "gateway_upstream_circuit_opened",
            "Times a provider's circuit breaker opened",
            ["provider"],
            registry=r,
        )
        self.rejected = Counter(
            "gateway_upstream_rejected_calls",
            "Provider calls refused by a guard without being sent (circuit: the breaker is "
            "open; bulkhead: no slot came free in time)",
            ["provider", "guard"],
            registry=r,
        )
        self.in_flight = Gauge(
            "gateway_upstream_in_flight",
            "Provider calls in flight (bulkhead slots in use)",
            ["provider"],
            multiprocess_mode="livesum",
            registry=r,
        )
        self.queued = Gauge(
            "gateway_upstream_queued",
            "Provider calls waiting for a bulkhead slot",
            ["provider"],
            multiprocess_mode="livesum",
            registry=r,
        )
        self.retry_budget = Gauge(
            "gateway_upstream_retry_budget_used_ratio",
            "Retries in the retry budget's window over the retries it allows (1: exhausted, "
            "further retries are denied)",
            ["provider"],
            multiprocess_mode="livemax",
            registry=r,
        )
        self.retries_denied = Counter(
            "gateway_upstream_retries_denied",
            "Retries the retry budget refused",
            ["provider"],
            registry=r,
        )
        self.idempotency = Counter(
            "gateway_idempotency_requests",
            "createInvoice calls with an idempotency key, by outcome: created, replayed (a hit: "
            "the invoice made before), in_progress, conflict (the key with another input), "
            "unavailable (the store could not be reached)",
            ["outcome"],
            registry=r,
        )
        self.partial = Counter(
            "gateway_partial_failures",
            "Providers that failed inside an answer that other providers completed (partial "
            "data), by provider and code",
            ["provider", "code"],
            registry=r,
        )
        self._operations: dict[str, str] = {}
        # Each series' child, found once: `labels()` checks and locks on every call (3 us).
        # As bounded as the label values (see the module's docstring).
        self._request_children: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}
        self._upstream_children: dict[tuple[str, str, str, str], tuple[Counter, Histogram]] = {}
        self._seen: dict[tuple[str, str], int] = {}

    # -- feeding ------------------------------------------------------------------------------

    def _operation(self, name: str | None) -> str:
        if not name:
            return ANONYMOUS
        known = self._operations.get(name)
        if known is None:
            if len(self._operations) >= MAX_OPERATION_NAMES:
                return OTHER_OPERATIONS
            self._operations[name] = known = name
        return known

    def observe_request(self, record: RequestRecord, seconds: float) -> None:
        """One GraphQL request answered (`record` says what it was and how it ended)."""
        outcome = record.outcome or (OK if record.status < 400 else f"HTTP_{record.status}")
        if not record.executed and outcome != OK:
            self.refused.labels(outcome).inc()
        if record.operation_type is None:
            operation, kind = OTHER_OPERATIONS if record.operation else ANONYMOUS, "unknown"
        else:
            operation, kind = self._operation(record.operation), record.operation_type
        key = (operation, kind, outcome)
        children = self._request_children.get(key)
        if children is None:
            children = self._request_children[key] = (
                self.requests.labels(operation, kind, outcome),
                self.duration.labels(operation, kind),
            )
        children[0].inc()
        children[1].observe(seconds)
        if record.idempotency is not None:
            self.idempotency.labels(record.idempotency).inc()
        for provider, code in record.partial or ():
            self.partial.labels(provider, code).inc()

    # `providers.observe.UpstreamObserver`
    def started(self, provider: str, method: str, route: str, headers: dict[str, str]) -> object:
        return _Attempt(provider, route, method, time.perf_counter())

    def finished(self, attempt: object, status: int | None, failure: str | None) -> None:
        assert isinstance(attempt, _Attempt)
        seconds = time.perf_counter() - attempt.started
        label = str(status) if status is not None else (failure or "error")
        key = (attempt.provider, attempt.route, attempt.method, label)
        children = self._upstream_children.get(key)
        if children is None:
            children = self._upstream_children[key] = (
                self.upstream.labels(*key),
                self.upstream_duration.labels(attempt.provider, attempt.route),
            )
        children[0].inc()
        children[1].observe(seconds)

    def sample(self, providers: Mapping[str, InvoiceProvider]) -> None:
        """Copy the providers' guards (breaker, bulkhead, retry budget) into the metrics."""
        for name, provider in providers.items():
            status = provider.upstream_status()
            breaker = _part(status, "circuit_breaker")
            if breaker is not None:
                for state in _CIRCUIT_STATES:
                    self.circuit_state.labels(name, state).set(state == breaker.get("state"))
                self._grow(self.circuit_opened.labels(name), breaker, name, "times_opened")
                self._grow(self.rejected.labels(name, "circuit"), breaker, name, "calls_rejected")
            bulkhead = _part(status, "bulkhead")
            if bulkhead is not None:
                self.in_flight.labels(name).set(_number(bulkhead, "in_flight"))
                self.queued.labels(name).set(_number(bulkhead, "waiting"))
                self._grow(self.rejected.labels(name, "bulkhead"), bulkhead, name, "rejected")
            budget = _part(status, "retry_budget")
            if budget is not None:
                allowed = _number(budget, "ratio") * _number(budget, "calls_in_window")
                allowed += _number(budget, "min_per_second") * _number(budget, "window_seconds")
                used = _number(budget, "retries_in_window")
                self.retry_budget.labels(name).set(used / allowed if allowed else 0.0)
                self._grow(self.retries_denied.labels(name), budget, name, "retries_denied")

    def _grow(self, child: Counter, state: dict[str, object], provider: str, field: str) -> None:
        """Add to `child` what `state[field]` (a running total) grew by since the last sample;
        `field` "rejected" is the bulkhead's `calls_rejected`."""
        key = (provider, field)
        total = int(_number(state, "calls_rejected" if field in ("rejected",) else field))
        grown = total - self._seen.get(key, 0)
        if grown > 0:
            child.inc(grown)
        self._seen[key] = total


def _part(status: dict[str, object], name: str) -> dict[str, object] | None:
    part = status.get(name)
    return part if isinstance(part, dict) else None


def _number(state: dict[str, object], field: str) -> float:
    value = state.get(field)
    return float(value) if isinstance(value, int | float) else 0.0
