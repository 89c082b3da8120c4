"""`EventFeed`: one reader of the event log per process, handing each event to every
subscription of this process, in the log's order and once.

A subscription starts from a position (the `after` a client resumes from, or the log's newest
at the time it starts). It first reads the log from there itself (`read_after`), then takes
what the feed hands it, skipping what it has seen: no event between the two is missed, none is
seen twice. A subscription that falls behind by more than `buffer` events drops its buffer and
reads the log again from where it is (the log holds them), so a slow client costs memory for
`buffer` events at most, and still misses nothing.

When the log fails (Redis restarting), the feed's reader retries from its last position with
a backoff, and subscriptions wait: what was recorded in between reaches them once it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable

from gateway.events.log import EventLog, EventLogUnavailable, EventsForgotten
from gateway.events.records import Position, RecordedEvent, position_key

__all__ = ["EventFeed"]

logger = logging.getLogger("gateway.events")

#: Events one read of the log takes.
BATCH = 200
#: The feed's reader retries a failing log after this long, doubling up to `RETRY_MOST_S`.
RETRY_FIRST_S = 0.1
RETRY_MOST_S = 2.0


class _Subscriber:
    __slots__ = ("buffer", "overflowed", "wake")

    def __init__(self) -> None:
        self.buffer: deque[RecordedEvent] = deque()
        self.overflowed = False
        self.wake = asyncio.Event()


class EventFeed:
    def __init__(
        self,
        log: EventLog,
        *,
        buffer: int = 1000,
        block_seconds: float = 5.0,
        on_events: Callable[[list[RecordedEvent]], None] | None = None,
    ) -> None:
        self.log = log
        #: Told of each batch of new events before the subscriptions are.
        self.on_events = on_events
        self.buffer = buffer
        self.block_seconds = block_seconds
        self._subscribers: set[_Subscriber] = set()
        self._reader: asyncio.Task[None] | None = None
        self._position: Position | None = None
        self._closed = False

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    async def subscribe(self, after: Position | None = None) -> AsyncIterator[RecordedEvent]:
        """Every event after `after` (default: from now on), in order, once, until the caller
        stops iterating. Raises `EventLogUnavailable` if the log cannot be read at the start
        (later failures are waited out), and `EventsForgotten` when the subscriber is behind
        by more than the log keeps (it would miss events)."""
        position = after if after is not None else await self.log.last_position()
        subscriber = _Subscriber()
        self._subscribers.add(subscriber)
        self._start()
        try:
            while True:
                # Read the log itself until it is level with the feed (also after falling
                # behind), then take the feed's events.
                subscriber.overflowed = False
                while True:
                    caught_up = await self._read_logged(position)
                    if not caught_up:
                        break
                    for event in caught_up:
                        yield event
                    position = caught_up[-1].position
                last = position_key(position)
                while not subscriber.overflowed:
                    while subscriber.buffer:
                        event = subscriber.buffer.popleft()
                        key = position_key(event.position)
                        if key > last:
                            last = key
                            position = event.position
                            yield event
                        if subscriber.overflowed:
                            break
                    if subscriber.overflowed:
                        break
                    subscriber.wake.clear()
                    await subscriber.wake.wait()
                subscriber.buffer.clear()
        finally:
            self._subscribers.discard(subscriber)

    async def _read_logged(self, position: Position) -> list[RecordedEvent]:
        """What the log holds after `position`; `EventsForgotten` when it may not hold it all
        any more (a subscriber that fell further behind than the log keeps)."""
        if await self.log.forgot(position):
            raise EventsForgotten(position)
        delay = RETRY_FIRST_S
        while True:
            try:
                return await self.log.read_after(position, limit=BATCH)
            except EventLogUnavailable as exc:
                logger.warning("reading the event log failed, retrying: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MOST_S)

    def _start(self) -> None:
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read(), name="gateway.events.feed")

    async def _read(self) -> None:
        delay = RETRY_FIRST_S
        while not self._closed:
            try:
                if self._position is None:
                    self._position = await self.log.last_position()
                events = await self.log.wait_after(
                    self._position, limit=BATCH, wait_seconds=self.block_seconds
                )
            except EventLogUnavailable as exc:
                logger.warning("the event feed cannot read the log, retrying: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MOST_S)
                continue
            delay = RETRY_FIRST_S
            if not events:
                if not self._subscribers:
                    # Idle with nobody listening: stop; the next subscriber starts it again
                    # (from the log's newest: it reads what it needs itself).
                    self._position = None
                    return
                continue
            self._position = events[-1].position
            if self.on_events is not None:
                self.on_events(events)
            for subscriber in self._subscribers:
                if subscriber.overflowed:
                    continue
                if len(subscriber.buffer) + len(events) > self.buffer:
                    subscriber.overflowed = True
                else:
                    subscriber.buffer.extend(events)
                subscriber.wake.set()

    async def aclose(self) -> None:
        self._closed = True
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        for subscriber in self._subscribers:
            subscriber.wake.set()
