"""`RedisEventLog`: the event log in one Redis stream, shared by every gateway process and host
that points at the same Redis (GATEWAY_REDIS_URL).

Keys (one hash tag, so a Redis Cluster keeps them on one node for the script):
``invoice-gateway:events:v1:{events}:stream``, the events, trimmed to the retention as they are
added (``XTRIM MINID``); ``...:{events}:delivered:<provider>:<sha256 of the delivery key>``,
the position an event was recorded at, kept as long as the retention; and
``...:{events}:trimmed-through``, the newest event trimmed. One Lua script checks the delivery
key, adds the event and trims, so two processes receiving the same delivery at once record it
once.

How durable an acknowledged event is, is Redis's persistence: with ``appendonly yes`` and
``appendfsync always`` an event the receiver acknowledged survives a restart of Redis;
with ``everysec`` up to a second of them may not (docs/events.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from gateway.events.log import EventLogUnavailable, cutoff_position
from gateway.events.records import (
    Position,
    RecordedEvent,
    decode_event,
    encode_event,
    position_key,
)
from gateway.idempotency.redis_store import what_failed
from gateway.idempotency.store import redacted_url

__all__ = ["RedisEventLog"]

logger = logging.getLogger("gateway.events")

NAMESPACE = "invoice-gateway:events:v1:{events}"
#: Seconds one command may take (connect, or send and answer); a blocking read waits longer.
REDIS_TIMEOUT_S = 2.0
REDIS_MAX_CONNECTIONS = 16

_APPEND = """
local seen = redis.call('GET', KEYS[2])
if seen then return {0, seen} end
local id = redis.call('XADD', KEYS[1], '*', 'e', ARGV[1])
redis.call('SET', KEYS[2], id, 'PX', ARGV[2])
-- Trim what is older than the retention, remembering the newest entry trimmed: a reader
-- resuming before it would miss events (`forgot`). Cutoffs only grow, so does that entry.
local old = redis.call('XREVRANGE', KEYS[1], '(' .. ARGV[3], '-', 'COUNT', 1)
if #old > 0 then
  redis.call('XTRIM', KEYS[1], 'MINID', ARGV[3])
  redis.call('SET', KEYS[3], old[1][1])
end
return {1, id}
"""


class RedisEventLog:
    """Events in a Redis stream. Every command's failure is `EventLogUnavailable`; there is
    no fall-back to memory, which would hide events from the other processes."""

    def __init__(
        self,
        client: aioredis.Redis,
        reader: aioredis.Redis,
        *,
        retention: dt.timedelta,
        where: str,
    ) -> None:
        self.retention = retention
        self._client = client
        self._reader = reader
        self._where = where
        self._append = client.register_script(_APPEND)
        self.stream = f"{NAMESPACE}:stream"
        #: The newest event the retention trimmed away.
        self.trimmed_through = f"{NAMESPACE}:trimmed-through"

    @classmethod
    def from_url(cls, url: str, *, retention: dt.timedelta, block_seconds: float) -> RedisEventLog:
        """A log on the Redis at `url`; connects on first use. `block_seconds` is the longest a
        blocking read waits (its socket waits that and `REDIS_TIMEOUT_S` more)."""
        common: dict[str, Any] = {
            "socket_connect_timeout": REDIS_TIMEOUT_S,
            "timeout": REDIS_TIMEOUT_S,
        }
        client = aioredis.Redis.from_pool(
            aioredis.BlockingConnectionPool.from_url(
                url,
                max_connections=REDIS_MAX_CONNECTIONS,
                socket_timeout=REDIS_TIMEOUT_S,
                **common,
            )
        )
        reader = aioredis.Redis.from_pool(
            aioredis.BlockingConnectionPool.from_url(
                url, max_connections=4, socket_timeout=block_seconds + REDIS_TIMEOUT_S, **common
            )
        )
        return cls(client, reader, retention=retention, where=redacted_url(url))

    def describe(self) -> str:
        return f"Redis at {self._where}"

    @contextlib.asynccontextmanager
    async def _asking(self) -> AsyncIterator[None]:
        try:
            yield
        except (RedisError, OSError) as exc:
            raise EventLogUnavailable(
                f"the event log (Redis at {self._where}) {what_failed(exc)}"
            ) from exc

    def _delivered_key(self, event: RecordedEvent) -> str:
        digest = hashlib.sha256(event.delivery_key.encode()).hexdigest()
        return f"{NAMESPACE}:delivered:{quote(event.provider, safe='')}:{digest}"

    async def append(self, event: RecordedEvent) -> Position | None:
        retention_ms = max(1, int(self.retention.total_seconds() * 1000))
        async with self._asking():
            added, position = await self._append(
                keys=[self.stream, self._delivered_key(event), self.trimmed_through],
                args=[encode_event(event), retention_ms, cutoff_position(self.retention)],
            )
        return _text(position) if int(added) == 1 else None

    async def last_position(self) -> Position:
        async with self._asking():
            newest: Any = await self._client.xrevrange(self.stream, "+", "-", count=1)
        return _text(newest[0][0]) if newest else "0-0"

    async def read_after(self, position: Position, *, limit: int) -> list[RecordedEvent]:
        async with self._asking():
            entries: Any = await self._client.xrange(self.stream, f"({position}", "+", count=limit)
        return self._decoded(entries)

    async def wait_after(
        self, position: Position, *, limit: int, wait_seconds: float
    ) -> list[RecordedEvent]:
        async with self._asking():
            found: Any = await self._reader.xread(
                {self.stream: position}, count=limit, block=max(1, int(wait_seconds * 1000))
            )
        return self._decoded(found[0][1]) if found else []

    def _decoded(self, entries: list[tuple[Any, dict[Any, Any]]]) -> list[RecordedEvent]:
        events = []
        for entry_id, fields in entries:
            position = _text(entry_id)
            try:
                events.append(decode_event(fields[b"e"], position))
            except (KeyError, msgspec.DecodeError, msgspec.ValidationError):
                # Not ours (another program wrote to the stream): skipped, never fatal.
                logger.warning("event log entry %s is not an event; skipped", position)
        return events

    async def forgot(self, position: Position) -> bool:
        async with self._asking():
            trimmed: Any = await self._client.get(self.trimmed_through)
        return trimmed is not None and position_key(position) < position_key(_text(trimmed))

    async def ping(self) -> None:
        async with self._asking():
            await self._client.ping()

    async def aclose(self) -> None:
        await self._client.aclose()
        await self._reader.aclose()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
