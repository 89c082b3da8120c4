"""Where the state shared by requests is kept: createInvoice's idempotency keys and the provider
events, in Redis when GATEWAY_REDIS_URL is set (every process shares them), else in this
process's memory."""

from __future__ import annotations

from gateway.events import EventLog, MemoryEventLog, RedisEventLog
from gateway.idempotency import IdempotencyStore, MemoryStore, RedisStore
from gateway.settings import GatewaySettings

__all__ = ["EVENT_READ_BLOCK_S", "event_log", "idempotency_store"]

#: The longest one blocking read of the event log waits (the feed reads again after it).
EVENT_READ_BLOCK_S = 5.0


def idempotency_store(settings: GatewaySettings) -> IdempotencyStore:
    """Redis when GATEWAY_REDIS_URL is set, else this process's memory."""
    if settings.redis_url is None:
        return MemoryStore(
            ttl=settings.idempotency_ttl_seconds, wait=settings.idempotency_wait_seconds
        )
    return RedisStore.from_url(
        settings.redis_url.get_secret_value(),
        ttl=settings.idempotency_ttl_seconds,
        lease=settings.idempotency_lease_seconds,
        wait=settings.idempotency_wait_seconds,
    )


def event_log(settings: GatewaySettings) -> EventLog:
    """Redis when GATEWAY_REDIS_URL is set (every process shares the events), else this
    process's memory."""
    if settings.redis_url is None:
        return MemoryEventLog(retention=settings.event_retention)
    return RedisEventLog.from_url(
        settings.redis_url.get_secret_value(),
        retention=settings.event_retention,
        block_seconds=EVENT_READ_BLOCK_S,
    )
