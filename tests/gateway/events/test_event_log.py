"""The event log, in memory and in a real Redis: each delivery recorded once (also when two
processes receive it at once), read back in order, waited for, kept for the retention; and the
feed that hands a process's subscribers every event once, in order, also when they resume,
fall behind, or Redis restarts under them."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.events import EventLog, EventLogUnavailable, MemoryEventLog, RecordedEvent
from gateway.events.feed import EventFeed
from gateway.events.log import EventsForgotten
from gateway.events.records import position_key
from gateway.events.redis_log import RedisEventLog
from providers.models import InvoiceEventType
from tests.processes import free_port
from tests.redis_server import durable_redis_server

NOW = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)
WAIT_S = 5.0


def event(n: int, *, provider: str = "xendit", key: str | None = None) -> RecordedEvent:
    return RecordedEvent(
        provider=provider,
        delivery_key=key if key is not None else f"delivery-{n}",
        type=InvoiceEventType.PAID,
        provider_event="PAID",
        occurred_at=NOW,
        received_at=NOW,
        invoice_id=f"inv-{n}",
        raw=b'{"id": "inv-%d"}' % n,
    )


@pytest.fixture(params=["memory", "redis"])
async def log(request: pytest.FixtureRequest) -> AsyncIterator[EventLog]:
    if request.param == "memory":
        yield MemoryEventLog(retention=dt.timedelta(hours=1))
        return
    url = request.getfixturevalue("redis_url")
    made = RedisEventLog.from_url(url, retention=dt.timedelta(hours=1), block_seconds=2)
    yield made
    await made.aclose()


async def test_a_delivery_is_recorded_once_and_read_back_in_order(log: EventLog) -> None:
    assert await log.last_position() == "0-0"
    positions = [await log.append(event(n)) for n in range(5)]
    assert all(p is not None for p in positions)
    keys = [position_key(p) for p in positions if p is not None]
    assert keys == sorted(keys)
    assert len(set(keys)) == 5
    # The provider's retry of delivery 2: not recorded again.
    assert await log.append(event(99, key="delivery-2")) is None
    # The same delivery key from another provider is another event.
    assert await log.append(event(5, provider="flexprice", key="delivery-2")) is not None
    read = await log.read_after("0-0", limit=100)
    assert [e.invoice_id for e in read] == ["inv-0", "inv-1", "inv-2", "inv-3", "inv-4", "inv-5"]
    assert read[0].raw == b'{"id": "inv-0"}'
    assert read[0].type is InvoiceEventType.PAID
    assert [e.position for e in read[:5]] == positions
    assert await log.last_position() == read[-1].position
    after_two = await log.read_after(read[1].position, limit=2)
    assert [e.invoice_id for e in after_two] == ["inv-2", "inv-3"]
    assert await log.read_after(read[-1].position, limit=10) == []


async def test_a_wait_ends_with_the_next_event_or_empty_after_its_time(log: EventLog) -> None:
    first = await log.append(event(0))
    assert first is not None
    started = time.monotonic()
    assert await log.wait_after(first, limit=10, wait_seconds=0.2) == []
    assert time.monotonic() - started >= 0.15
    waiting = asyncio.create_task(log.wait_after(first, limit=10, wait_seconds=WAIT_S))
    await asyncio.sleep(0.05)
    await log.append(event(1))
    found = await asyncio.wait_for(waiting, WAIT_S)
    assert [e.invoice_id for e in found] == ["inv-1"]


async def test_two_processes_receiving_one_delivery_at_once_record_it_once(
    redis_url: str,
) -> None:
    logs = [
        RedisEventLog.from_url(redis_url, retention=dt.timedelta(hours=1), block_seconds=2)
        for _ in range(2)
    ]
    try:
        results = await asyncio.gather(
            *(logs[n % 2].append(event(n, key="the-same-delivery")) for n in range(20))
        )
        assert sum(r is not None for r in results) == 1
        assert len(await logs[1].read_after("0-0", limit=100)) == 1
    finally:
        for made in logs:
            await made.aclose()


async def test_memory_drops_events_and_their_delivery_keys_after_the_retention() -> None:
    log = MemoryEventLog(retention=dt.timedelta(seconds=0.3))
    await log.append(event(0))
    assert await log.append(event(0)) is None
    await asyncio.sleep(0.4)
    await log.append(event(1))  # trims what is older than the retention
    assert [e.invoice_id for e in await log.read_after("0-0", limit=10)] == ["inv-1"]
    assert await log.append(event(0)) is not None  # forgotten: a new event


async def test_memory_keeps_at_most_max_events() -> None:
    log = MemoryEventLog(retention=dt.timedelta(hours=1), max_events=3)
    for n in range(5):
        await log.append(event(n))
    assert [e.invoice_id for e in await log.read_after("0-0", limit=10)] == [
        "inv-2",
        "inv-3",
        "inv-4",
    ]


async def test_redis_forgets_a_delivery_key_after_the_retention(redis_url: str) -> None:
    log = RedisEventLog.from_url(redis_url, retention=dt.timedelta(seconds=0.3), block_seconds=1)
    try:
        assert await log.append(event(0)) is not None
        assert await log.append(event(0)) is None
        await asyncio.sleep(0.5)
        assert await log.append(event(0)) is not None
    finally:
        await log.aclose()


async def test_a_redis_that_is_down_is_unavailable_with_its_address_and_no_password() -> None:
    url = f"redis://:hunter2-password@127.0.0.1:{free_port()}/0"
    log = RedisEventLog.from_url(url, retention=dt.timedelta(hours=1), block_seconds=1)
    try:
        with pytest.raises(EventLogUnavailable) as refused:
            await log.append(event(0))
        assert "127.0.0.1" in str(refused.value)
        assert "hunter2" not in str(refused.value)
    finally:
        await log.aclose()


async def take(stream: AsyncIterator[RecordedEvent], count: int) -> list[str]:
    taken: list[str] = []
    async with asyncio.timeout(WAIT_S):
        async for found in stream:
            taken.append(found.invoice_id)
            if len(taken) == count:
                break
    return taken


async def test_the_feed_resumes_after_a_position_then_goes_live_each_event_once(
    log: EventLog,
) -> None:
    feed = EventFeed(log, block_seconds=0.5)
    try:
        positions = [await log.append(event(n)) for n in range(3)]
        resumed = feed.subscribe(positions[0])
        live = feed.subscribe()
        first = asyncio.create_task(take(resumed, 4))
        second = asyncio.create_task(take(live, 2))
        await asyncio.sleep(0.1)
        await log.append(event(3))
        await log.append(event(4))
        assert await first == ["inv-1", "inv-2", "inv-3", "inv-4"]
        assert await second == ["inv-3", "inv-4"]
    finally:
        await feed.aclose()


async def test_a_subscriber_that_falls_behind_reads_the_log_and_misses_nothing(
    log: EventLog,
) -> None:
    feed = EventFeed(log, buffer=3, block_seconds=0.5)
    try:
        stream = feed.subscribe()
        started = asyncio.create_task(take(stream, 1))
        await asyncio.sleep(0.1)
        await log.append(event(0))
        assert await started == ["inv-0"]
        # 30 events while this subscriber reads nothing: its buffer of 3 overflows.
        for n in range(1, 31):
            await log.append(event(n))
        await asyncio.sleep(0.3)
        rest = await take(stream, 30)
        assert rest == [f"inv-{n}" for n in range(1, 31)]
    finally:
        await feed.aclose()


# -- Redis restarting under a subscriber --------------------------------------------------------


async def test_a_subscriber_waits_out_a_redis_restart_and_misses_nothing(tmp_path: Path) -> None:
    with durable_redis_server(tmp_path) as redis:
        url, kill, start = redis.url, redis.kill, redis.start
        log = RedisEventLog.from_url(url, retention=dt.timedelta(hours=1), block_seconds=0.5)
        feed = EventFeed(log, block_seconds=0.5)
        try:
            stream = feed.subscribe()
            received = asyncio.create_task(take_slowly(stream, 6))
            await asyncio.sleep(0.1)
            for n in range(3):
                assert await log.append(event(n)) is not None
            await asyncio.to_thread(kill)
            with pytest.raises(EventLogUnavailable):
                await log.append(event(3))  # a receiver answers 503: the provider retries
            await asyncio.sleep(0.5)  # the feed's reader fails and retries meanwhile
            await asyncio.to_thread(start)
            for n in range(3, 6):  # the retried delivery, then new ones
                assert await append_when_back(log, event(n)) is not None
            assert await log.append(event(1)) is None  # acknowledged before: survived, known
            assert await received == [f"inv-{n}" for n in range(6)]
        finally:
            await feed.aclose()
            await log.aclose()


async def take_slowly(stream: AsyncIterator[RecordedEvent], count: int) -> list[str]:
    taken: list[str] = []
    async with asyncio.timeout(30):
        async for found in stream:
            taken.append(found.invoice_id)
            if len(taken) == count:
                break
    return taken


async def append_when_back(log: EventLog, found: RecordedEvent) -> str | None:
    """A provider's retries: until the log takes it (at most 10 s)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return await log.append(found)
        except EventLogUnavailable:
            assert time.monotonic() < deadline, "the log did not come back"
            await asyncio.sleep(0.1)


async def test_memory_refuses_to_resume_past_what_its_cap_dropped() -> None:
    log = MemoryEventLog(retention=dt.timedelta(hours=1), max_events=3)
    first = await log.append(event(0))
    assert first is not None
    assert not await log.forgot(first)
    for n in range(1, 5):
        await log.append(event(n))
    assert await log.forgot(first)  # inv-1 went to keep 3: resuming after inv-0 misses it
    kept = await log.read_after("0-0", limit=10)
    assert not await log.forgot(kept[0].position)
    feed = EventFeed(log, block_seconds=0.5)
    try:
        with pytest.raises(EventsForgotten):
            await take(feed.subscribe(first), 1)
    finally:
        await feed.aclose()


async def test_a_subscriber_that_falls_behind_past_the_cap_ends_instead_of_missing_events() -> None:
    log = MemoryEventLog(retention=dt.timedelta(hours=1), max_events=5)
    feed = EventFeed(log, buffer=2, block_seconds=0.5)
    try:
        stream = feed.subscribe()
        started = asyncio.create_task(take(stream, 1))
        await asyncio.sleep(0.1)
        await log.append(event(0))
        assert await started == ["inv-0"]
        for n in range(1, 21):  # more than it buffers, and than the log keeps
            await log.append(event(n))
        await asyncio.sleep(0.3)
        with pytest.raises(EventsForgotten):
            await take(stream, 20)
    finally:
        await feed.aclose()


async def test_redis_knows_what_its_retention_trimmed(redis_url: str) -> None:
    log = RedisEventLog.from_url(redis_url, retention=dt.timedelta(seconds=1), block_seconds=1)
    try:
        assert not await log.forgot("0-0")  # nothing trimmed yet
        first = await log.append(event(0))
        second = await log.append(event(1))
        assert first is not None
        assert second is not None
        assert not await log.forgot("0-0")
        await asyncio.sleep(1.2)
        await log.append(event(2))  # trims the first two
        assert [e.invoice_id for e in await log.read_after("0-0", limit=10)] == ["inv-2"]
        assert await log.forgot("0-0")
        assert await log.forgot(first)  # the second is gone
        assert not await log.forgot(second)  # nothing after it is
    finally:
        await log.aclose()
