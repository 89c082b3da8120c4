"""`MemoryStore`: the keys of this process (the default, for one process)."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.idempotency.store import Claim, ClaimPending, KeyReused, give_up_at

__all__ = ["MemoryStore"]


@dataclass(slots=True)
class _Entry:
    fingerprint: str
    expires: float
    result: asyncio.Future[str | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class MemoryStore:
    """Keys in this process, kept `ttl` seconds after success, at most `max_keys` of them; a
    repeat waits at most `wait` seconds for the request that holds its key."""

    shared = False

    def __init__(
        self,
        *,
        ttl: float,
        wait: float = 30.0,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.wait = wait
        self.max_keys = max_keys
        self.clock = clock
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def claim(
        self, caller: str, key: str, fingerprint: str, *, until: float | None = None
    ) -> Claim:
        scoped = (caller, key)
        loop = asyncio.get_running_loop()
        give_up = give_up_at(loop.time(), self.wait, until)
        for _ in range(100):  # bounded: each pass waits for an owner that then gave up
            entry = self._entries.get(scoped)
            if entry is not None and entry.expires <= self.clock():
                del self._entries[scoped]
                entry = None
            if entry is None:
                self._entries[scoped] = _Entry(fingerprint, expires=float("inf"))
                self._evict()
                return Claim()
            if entry.fingerprint != fingerprint:
                raise KeyReused(key)
            try:
                async with asyncio.timeout_at(give_up):
                    done = await asyncio.shield(entry.result)
            except TimeoutError:
                raise ClaimPending(key) from None
            if done is not None:
                return Claim(done=done)
        raise RuntimeError("the key kept being abandoned")  # pragma: no cover

    async def complete(self, caller: str, key: str, invoice_id: str) -> None:
        entry = self._entries.get((caller, key))
        if entry is not None:
            entry.expires = self.clock() + self.ttl
            if not entry.result.done():
                entry.result.set_result(invoice_id)

    async def abandon(self, caller: str, key: str, *, in_doubt: bool = False) -> None:
        # One process: the provider's own per-key lock and memory of unanswered creates
        # (Xendit's `UnansweredCreates`) hold back a create in doubt; waiters may go on.
        entry = self._entries.pop((caller, key), None)
        if entry is not None and not entry.result.done():
            entry.result.set_result(None)  # waiters try to claim it themselves

    async def status(self) -> dict[str, object]:
        return {"store": "memory", "across_processes": False, "ready": True}

    async def aclose(self) -> None:
        return None

    def _evict(self) -> None:
        while len(self._entries) > self.max_keys:
            oldest, entry = next(iter(self._entries.items()))
            if not entry.result.done():
                break  # never drop a create in flight
            del self._entries[oldest]


#: Every key the gateway writes starts with this; `v1` is the layout of the values.
