"""The guards each provider's upstream calls pass: a retry budget, a circuit breaker, a bulkhead.

`providers.http.Upstream` owns one of each per provider, so one provider's trouble is counted,
opened and queued on its own and never slows the other. All three are in-process and take
their time from a monotonic clock (injectable for tests); `snapshot()` is what `/readyz` shows.

- `RetryBudget`: retries stay within `ratio` of the calls of the last `window` seconds, plus a
  floor of `min_per_second` (tower's `TpsBudget`, as Apollo Router uses it; Envoy's
  `retry_budget`), so a storm of 503s cannot multiply the load on a struggling provider.
- `CircuitBreaker`: opens after `threshold` calls in a row failed (after their retries), fails
  fast while open, lets ONE probe through after `reset_after` seconds and closes when it
  succeeds. A call fails when the provider could not be reached, timed out, answered 5xx or
  something unreadable; a 4xx is an answer (the provider is up).
- `Bulkhead`: at most `limit` calls in flight; a call waits at most `max_wait` seconds for a
  slot, then is refused at once instead of queueing without bound behind a slow provider.

Why not a library: stamina (our retries) has no budget; pybreaker's async API needs Tornado;
purgatory lets every concurrent call through while half-open and reads the wall clock;
aiobreaker is unmaintained. Each class here is small and tested on its own
(tests/providers/test_resilience.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Callable
from enum import StrEnum

__all__ = ["Bulkhead", "BulkheadFull", "CircuitBreaker", "CircuitState", "RetryBudget"]

Clock = Callable[[], float]


class RetryBudget:
    """A sliding window of calls and retries, kept in `buckets` slices of `window / buckets` s."""

    def __init__(
        self,
        *,
        ratio: float,
        min_per_second: float,
        window: float = 10.0,
        buckets: int = 10,
        clock: Clock = time.monotonic,
    ) -> None:
        if ratio < 0 or min_per_second < 0 or window <= 0 or buckets < 1:
            raise ValueError("a retry budget needs ratio >= 0, min_per_second >= 0, window > 0")
        self.ratio = ratio
        self.min_per_second = min_per_second
        self.window = window
        self._slice = window / buckets
        self._calls = [0] * buckets
        self._retries = [0] * buckets
        self._current = math.floor(clock() / self._slice)
        self._clock = clock
        self.denied = 0

    def _advance(self) -> int:
        now = math.floor(self._clock() / self._slice)
        size = len(self._calls)
        for tick in range(self._current + 1, min(now, self._current + size) + 1):
            self._calls[tick % size] = 0
            self._retries[tick % size] = 0
        self._current = max(now, self._current)
        return self._current % size

    def record_call(self) -> None:
        """Count one call (its first attempt)."""
        self._calls[self._advance()] += 1

    def try_retry(self) -> bool:
        """Spend one retry if the budget allows it; False (and counted as denied) if not."""
        index = self._advance()
        allowed = self.ratio * sum(self._calls) + self.min_per_second * self.window
        if sum(self._retries) + 1 > allowed:
            self.denied += 1
            return False
        self._retries[index] += 1
        return True

    def snapshot(self) -> dict[str, object]:
        self._advance()
        return {
            "ratio": self.ratio,
            "min_per_second": self.min_per_second,
            "window_seconds": self.window,
            "calls_in_window": sum(self._calls),
            "retries_in_window": sum(self._retries),
            "retries_denied": self.denied,
        }


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Call `allow()` before a call; then exactly one of `succeeded()`, `failed()`, `ignored()`."""

    def __init__(self, *, threshold: int, reset_after: float, clock: Clock = time.monotonic):
        if threshold < 1 or reset_after <= 0:
            raise ValueError("a circuit breaker needs threshold >= 1 and reset_after > 0")
        self.threshold = threshold
        self.reset_after = reset_after
        self._clock = clock
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False
        self.times_opened = 0
        self.rejected = 0

    @property
    def state(self) -> CircuitState:
        if self._state is CircuitState.OPEN and self.retry_in() == 0:
            return CircuitState.HALF_OPEN
        return self._state

    def retry_in(self) -> float:
        """Seconds until an open circuit lets a probe through (0 when it would now)."""
        if self._state is not CircuitState.OPEN:
            return 0.0
        return max(0.0, self._opened_at + self.reset_after - self._clock())

    def allow(self) -> bool:
        """May a call go out now? Half-open admits one probe at a time; open admits none."""
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.HALF_OPEN and not self._probing:
            self._state = CircuitState.HALF_OPEN
            self._probing = True
            return True
        self.rejected += 1
        return False

    def succeeded(self) -> None:
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._probing = False

    def failed(self) -> None:
        self._failures += 1
        if self._state is CircuitState.HALF_OPEN or self._failures >= self.threshold:
            if self._state is not CircuitState.OPEN:
                self.times_opened += 1
            self._state = CircuitState.OPEN
            self._opened_at = self._clock()
        self._probing = False

    def ignored(self) -> None:
        """The call ended without telling whether the provider is healthy (cancelled, rate
        limited, refused by the bulkhead): a probe's slot is freed for the next call."""
        self._probing = False

    def snapshot(self) -> dict[str, object]:
        return {
            "state": self.state.value,
            "consecutive_failures": self._failures,
            "threshold": self.threshold,
            "reset_after_seconds": self.reset_after,
            "retry_in_seconds": round(self.retry_in(), 3),
            "times_opened": self.times_opened,
            "calls_rejected": self.rejected,
        }


class BulkheadFull(Exception):
    """No slot came free within the bulkhead's `max_wait`."""


class Bulkhead:
    """A semaphore that refuses, rather than queues forever, when the provider is saturated."""

    def __init__(self, *, limit: int, max_wait: float) -> None:
        if limit < 1 or max_wait < 0:
            raise ValueError("a bulkhead needs limit >= 1 and max_wait >= 0")
        self.limit = limit
        self.max_wait = max_wait
        self._semaphore = asyncio.Semaphore(limit)
        self.in_flight = 0
        self.waiting = 0
        self.rejected = 0

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._semaphore.locked() and self.max_wait == 0:
            self.rejected += 1
            raise BulkheadFull
        self.waiting += 1
        try:
            async with asyncio.timeout(self.max_wait):
                await self._semaphore.acquire()
        except TimeoutError:
            self.rejected += 1
            raise BulkheadFull from None
        finally:
            self.waiting -= 1
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1
            self._semaphore.release()

    def snapshot(self) -> dict[str, object]:
        return {
            "limit": self.limit,
            "max_wait_seconds": self.max_wait,
            "in_flight": self.in_flight,
            "waiting": self.waiting,
            "calls_rejected": self.rejected,
        }
