"""Provider events: webhooks in (`receiver`), one log of them shared by every process
(`log`, `redis_log`), fanned out to this process's subscriptions (`feed`, `hub`)."""

from gateway.events.hub import Events
from gateway.events.log import EventLog, EventLogUnavailable, MemoryEventLog
from gateway.events.receiver import WebhookReceiver
from gateway.events.records import RecordedEvent
from gateway.events.redis_log import RedisEventLog

__all__ = [
    "EventLog",
    "EventLogUnavailable",
    "Events",
    "MemoryEventLog",
    "RecordedEvent",
    "RedisEventLog",
    "WebhookReceiver",
]
