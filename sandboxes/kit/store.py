"""What every sandbox's state shares: an injected clock, read as aware UTC, and seeded data that
`reset()` reloads in place, deterministic for a seed."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime

from sandboxes.kit.webhooks import Outbox

__all__ = ["Clock", "Populate", "SeededState", "as_utc", "utc_now"]

#: Returns the current time (aware UTC; naive values are read as UTC).
Clock = Callable[[], datetime]
#: Loads a sandbox's seeded data: called as ``populate(state, anchor=now)``.
Populate = Callable[..., None]


def utc_now() -> datetime:
    """The default clock: the current time, aware, in UTC."""
    return datetime.now(UTC)


def as_utc(at: datetime) -> datetime:
    """`at` as an aware UTC datetime; a naive one is read as UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


class SeededState:
    """The base of a sandbox's state: `seed`, `clock`, `rng`, and `webhooks`, the outbox its
    changes publish events to (`sandboxes.kit.webhooks`).

    `reset()` empties the state (`clear`), loads the seed (`populate`, anchored at `now()`)
    with `rng` seeded by `seed`, then moves `rng` to a stream of its own, so ids minted later
    never depend on how many draws the seed made. A subclass sets up its containers, then
    calls `reset()`; references to the object stay valid across resets. The seed module is
    passed in (`populate`), so a store never imports its seed: the seed builds records through
    the store, and the arrow goes one way.
    """

    def __init__(self, *, seed: int, clock: Clock, populate: Populate) -> None:
        self.seed = seed
        self.clock = clock
        self.rng = random.Random(seed)  # noqa: S311 - reproducible fake data
        self._populate = populate
        self.webhooks = Outbox(clock=self.now)

    def reset(self) -> None:
        """Drop everything and load the deterministic seed for ``self.seed``; drop the queued
        webhook deliveries and their log (the registered endpoints stay)."""
        self.webhooks.reset()
        self.clear()
        self.rng = random.Random(self.seed)  # noqa: S311 - reproducible fake data
        self._populate(self, anchor=self.now())
        self.rng = random.Random(f"{self.seed}:runtime")  # noqa: S311 - fake data

    def now(self) -> datetime:
        """The injected clock's time as an aware UTC datetime."""
        return as_utc(self.clock())

    def clear(self) -> None:
        """Empty every container of the state."""
        raise NotImplementedError
