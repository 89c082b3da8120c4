"""Create-once: the same idempotency key with the same input gets the first result.

`IdempotencyStore` is the interface (a Redis implementation can fill it for several processes);
`MemoryStore` keeps keys in this process. A key is claimed before the create: a second request
with it waits for the first to finish and gets its invoice, also while the first is in flight;
the same key with a different input is refused. Only a success is remembered: a create that
failed leaves the key free for a retry (the provider's own idempotency still guards that one).

A key remembers the id of its invoice, not the invoice: up to `max_keys` whole invoices (with
their line items and raw provider JSON, ~7 kB each) would hold hundreds of megabytes, and a
repeat is better answered with the invoice as it is now than as it was then.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Claim", "IdempotencyStore", "KeyReused", "MemoryStore"]


class KeyReused(Exception):
    """The key was used for a create with another input."""


@dataclass(slots=True)
class Claim:
    """What `claim` found: `done` holds the id of the remembered invoice; otherwise the caller
    owns the key and must `complete` or `abandon` it."""

    done: str | None = None


class IdempotencyStore(Protocol):
    async def claim(self, key: str, fingerprint: str) -> Claim:
        """Own `key`, or wait for its owner and get the id of the invoice it made. Raises
        `KeyReused` when `key` was claimed with another `fingerprint`."""

    async def complete(self, key: str, invoice_id: str) -> None: ...

    async def abandon(self, key: str) -> None: ...


@dataclass(slots=True)
class _Entry:
    fingerprint: str
    expires: float
    result: asyncio.Future[str | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class MemoryStore:
    """Keys in this process, kept `ttl` seconds after success, at most `max_keys` of them."""

    def __init__(
        self, *, ttl: float, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_keys = max_keys
        self.clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def claim(self, key: str, fingerprint: str) -> Claim:
        for _ in range(100):  # bounded: each pass waits for an owner that then gave up
            entry = self._entries.get(key)
            if entry is not None and entry.expires <= self.clock():
                del self._entries[key]
                entry = None
            if entry is None:
                self._entries[key] = _Entry(fingerprint, expires=float("inf"))
                self._evict()
                return Claim()
            if entry.fingerprint != fingerprint:
                raise KeyReused(key)
            done = await asyncio.shield(entry.result)
            if done is not None:
                return Claim(done=done)
        raise RuntimeError("the key kept being abandoned")  # pragma: no cover

    async def complete(self, key: str, invoice_id: str) -> None:
        entry = self._entries.get(key)
        if entry is not None:
            entry.expires = self.clock() + self.ttl
            if not entry.result.done():
                entry.result.set_result(invoice_id)

    async def abandon(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None and not entry.result.done():
            entry.result.set_result(None)  # waiters try to claim it themselves

    def _evict(self) -> None:
        while len(self._entries) > self.max_keys:
            oldest, entry = next(iter(self._entries.items()))
            if not entry.result.done():
                break  # never drop a create in flight
            del self._entries[oldest]
