"""The event log: where a webhook's event is recorded once, in order, for every subscriber of
every gateway process to read. `MemoryEventLog` keeps it in this process (no
GATEWAY_REDIS_URL); `gateway.events.redis_log.RedisEventLog` in a Redis stream shared by every
process and host that points at it.

Both keep events for `retention` and remember each `(provider, delivery_key)` as long, so a
provider's retry of a delivery is recorded once however late it comes within that time.
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
import time
from collections import deque
from typing import Protocol

import msgspec

from gateway.events.records import Position, RecordedEvent, position_key

__all__ = [
    "EventLog",
    "EventLogUnavailable",
    "EventsForgotten",
    "MemoryEventLog",
    "cutoff_position",
]


class EventLogUnavailable(Exception):
    """The log cannot be reached or failed; the message is safe to log (no secret)."""


class EventsForgotten(Exception):
    """A reader asked for what follows a position the log no longer keeps everything after
    (`EventLog.forgot`): it cannot be given all of it."""


def cutoff_position(retention: dt.timedelta, *, now_ms: int | None = None) -> Position:
    """The oldest position still kept: anything before it may have been dropped."""
    now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    return f"{max(0, now - int(retention.total_seconds() * 1000))}-0"


class EventLog(Protocol):
    retention: dt.timedelta

    def describe(self) -> str:
        """Where the log is, for the start-up log and /readyz; never a secret."""

    async def append(self, event: RecordedEvent) -> Position | None:
        """Record `event`, unless its `(provider, delivery_key)` was recorded within the
        retention: its position, or None for such a duplicate. Once this returns, every
        reader sees the event. Raises `EventLogUnavailable`."""

    async def last_position(self) -> Position:
        """The newest event's position, ``0-0`` when there is none."""

    async def read_after(self, position: Position, *, limit: int) -> list[RecordedEvent]:
        """Up to `limit` events after `position`, oldest first, without waiting."""

    async def wait_after(
        self, position: Position, *, limit: int, wait_seconds: float
    ) -> list[RecordedEvent]:
        """Like `read_after`, but waits up to `wait_seconds` for one when there is none
        (an empty list then)."""

    async def forgot(self, position: Position) -> bool:
        """Whether events after `position` were dropped (older than the retention, or, in
        memory, past its cap): a subscriber resuming there cannot be given all it missed."""

    async def ping(self) -> None:
        """Raise `EventLogUnavailable` unless the log answers (for /readyz)."""

    async def aclose(self) -> None: ...


class MemoryEventLog:
    """The log in this process's memory: a subscriber sees only what this process received.

    At most `max_events` are kept (the oldest go first) besides the retention (a webhook body
    is kept with its event: 10,000 FlexPrice invoices are some tens of MB); a delivery key is
    remembered for the retention, at most twice `max_events` of them."""

    def __init__(self, *, retention: dt.timedelta, max_events: int = 10_000) -> None:
        self.retention = retention
        self.max_events = max_events
        #: The newest event dropped (its retention over, or to keep `max_events`).
        self._dropped_through = (0, 0)
        self._keys: list[tuple[int, int]] = []
        self._events: list[RecordedEvent] = []
        self._delivered: dict[tuple[str, str], Position] = {}
        self._by_age: deque[tuple[int, tuple[str, str]]] = deque()
        self._last = (0, 0)
        self._changed = asyncio.Condition()

    def describe(self) -> str:
        return "this process's memory"

    def _next(self) -> tuple[int, int]:
        now = time.time_ns() // 1_000_000
        ms, seq = self._last
        return (now, 0) if now > ms else (ms, seq + 1)

    def _trim(self) -> None:
        cutoff = position_key(cutoff_position(self.retention))
        drop = bisect.bisect_left(self._keys, cutoff)
        drop = max(drop, len(self._events) - self.max_events)
        if drop > 0:
            self._dropped_through = max(self._dropped_through, self._keys[drop - 1])
            del self._keys[:drop]
            del self._events[:drop]
        while self._by_age and (
            self._by_age[0][0] < cutoff[0] or len(self._by_age) > 2 * self.max_events
        ):
            _, key = self._by_age.popleft()
            self._delivered.pop(key, None)

    async def append(self, event: RecordedEvent) -> Position | None:
        self._trim()
        delivery = (event.provider, event.delivery_key)
        if delivery in self._delivered:
            return None
        key = self._next()
        self._last = key
        position = f"{key[0]}-{key[1]}"
        self._keys.append(key)
        self._events.append(_at(event, position))
        self._delivered[delivery] = position
        self._by_age.append((key[0], delivery))
        if len(self._events) > self.max_events:
            self._trim()
        async with self._changed:
            self._changed.notify_all()
        return position

    async def last_position(self) -> Position:
        return f"{self._last[0]}-{self._last[1]}"

    async def read_after(self, position: Position, *, limit: int) -> list[RecordedEvent]:
        start = bisect.bisect_right(self._keys, position_key(position))
        return self._events[start : start + limit]

    async def wait_after(
        self, position: Position, *, limit: int, wait_seconds: float
    ) -> list[RecordedEvent]:
        after = position_key(position)
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self._last > after), wait_seconds
                )
            except TimeoutError:
                return []
        return await self.read_after(position, limit=limit)

    async def forgot(self, position: Position) -> bool:
        self._trim()
        return position_key(position) < self._dropped_through

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


def _at(event: RecordedEvent, position: Position) -> RecordedEvent:
    return msgspec.structs.replace(event, position=position)
