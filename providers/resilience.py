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
  slot, then is refused at once instead of queueing without bound behind a slow provider. A call
  made for an owner (a caller of the gateway) first takes one of that owner's `per_owner`
  slots, so one busy owner queues behind its own calls while the other slots stay free for
  everyone else.

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


class _Share:
    """One owner's slots: a semaphore of `per_owner`, and how many calls use it now."""

    __slots__ = ("semaphore", "users")

    def __init__(self, size: int) -> None:
        self.semaphore = asyncio.Semaphore(size)
        self.users = 0


class Bulkhead:
    """A semaphore that refuses, rather than queues forever, when the provider is saturated.

    `per_owner` (default: `limit`, no share) caps the slots the calls of one owner hold at
    once; a call without an owner takes only the shared slots. An owner's calls past its share
    wait for its own calls to finish (within `max_wait`), not ahead of other owners' calls.
    """

    def __init__(self, *, limit: int, max_wait: float, per_owner: int | None = None) -> None:
        if limit < 1 or max_wait < 0 or (per_owner is not None and per_owner < 1):
            raise ValueError("a bulkhead needs limit >= 1, max_wait >= 0 and per_owner >= 1")
        self.limit = limit
        self.max_wait = max_wait
        self.per_owner = min(per_owner or limit, limit)
        self._semaphore = asyncio.Semaphore(limit)
        self._shares: dict[str, _Share] = {}
        self.in_flight = 0
        self.waiting = 0
        self.rejected = 0

    def _share(self, owner: str | None) -> _Share | None:
        if owner is None or self.per_owner >= self.limit:
            return None
        share = self._shares.get(owner)
        if share is None:
            share = self._shares[owner] = _Share(self.per_owner)
        share.users += 1
        return share

    def _leave(self, owner: str | None, share: _Share | None) -> None:
        if owner is not None and share is not None:
            share.users -= 1
            if share.users == 0:
                del self._shares[owner]

    @contextlib.asynccontextmanager
    async def slot(self, owner: str | None = None) -> AsyncIterator[None]:
        share = self._share(owner)
        try:
            if self.max_wait == 0 and (
                self._semaphore.locked() or (share is not None and share.semaphore.locked())
            ):
                self.rejected += 1
                raise BulkheadFull
            await self._acquire(share)
            self.in_flight += 1
            try:
                yield
            finally:
                self.in_flight -= 1
                self._semaphore.release()
                if share is not None:
                    share.semaphore.release()
        finally:
            self._leave(owner, share)

    async def _acquire(self, share: _Share | None) -> None:
        if not self._semaphore.locked() and (share is None or not share.semaphore.locked()):
            # Both free, nobody queued: acquiring returns at once, with no timer to arm.
            if share is not None:
                await share.semaphore.acquire()
            await self._semaphore.acquire()
            return
        self.waiting += 1
        try:
            async with asyncio.timeout(self.max_wait):
                if share is not None:
                    await share.semaphore.acquire()
                try:
                    await self._semaphore.acquire()
                except BaseException:
                    if share is not None:
                        share.semaphore.release()
                    raise
        except TimeoutError:
            self.rejected += 1
            raise BulkheadFull from None
        finally:
            self.waiting -= 1

    def snapshot(self) -> dict[str, object]:
        return {
            "limit": self.limit,
            "per_caller_limit": self.per_owner,
            "max_wait_seconds": self.max_wait,
            "in_flight": self.in_flight,
            "waiting": self.waiting,
            "calls_rejected": self.rejected,
        }
