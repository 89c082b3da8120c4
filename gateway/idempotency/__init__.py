"""Create-once: the same idempotency key with the same input gets the first result.

`IdempotencyStore` is the interface. `MemoryStore` keeps keys in this process (the default, for
one process); `RedisStore` keeps them in Redis, shared by every process and host that points at
it (`GATEWAY_REDIS_URL`). A key is claimed before the create: a second request with it waits
for the first to finish and gets its invoice, also while the first is in flight; the same key
with a different input is refused. Only a success is remembered: a create that failed leaves
the key free for a retry (the provider's own idempotency still guards that one).

A key remembers the id of its invoice, not the invoice: up to `max_keys` whole invoices (with
their line items and raw provider JSON, ~7 kB each) would hold hundreds of megabytes, and a
repeat is better answered with the invoice as it is now than as it was then.

Keys belong to a caller: the same key from two callers is two keys.
"""

from __future__ import annotations

from gateway.idempotency.memory import MemoryStore
from gateway.idempotency.redis_store import NAMESPACE, RedisStore, what_failed
from gateway.idempotency.store import (
    Claim,
    ClaimPending,
    IdempotencyStore,
    KeyReused,
    StoreUnavailable,
    redacted_url,
)

__all__ = [
    "NAMESPACE",
    "Claim",
    "ClaimPending",
    "IdempotencyStore",
    "KeyReused",
    "MemoryStore",
    "RedisStore",
    "StoreUnavailable",
    "redacted_url",
    "what_failed",
]
