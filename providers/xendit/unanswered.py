"""Creates Xendit did not answer in time, and may still carry out.

A create that timed out (or that a proxy gave up on with a 504) was sent: Xendit may be
making the invoice right now, after the look-up that would have found it. Creating again
then makes a second invoice with the same `external_id`, and Xendit would keep both: it does not
require `external_id` to be unique.
So for a while after such a create only look-ups are made for its `external_id`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["UnansweredCreates"]


class UnansweredCreates:
    """`external_id`s whose create went unanswered, each until its own moment (`clock` time).

    In this process only, like the provider's per-key lock. Expired entries are dropped as new
    ones come in, so the map holds at most the creates that went unanswered recently.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._until)

    def mark(self, external_id: str, *, seconds: float) -> None:
        """The create for `external_id` went unanswered: hold its next create `seconds`."""
        now = self._clock()
        for key in [key for key, until in self._until.items() if until <= now]:
            del self._until[key]
        self._until[external_id] = now + seconds

    def pending(self, external_id: str) -> bool:
        """True while a create for `external_id` may still be carried out by Xendit."""
        until = self._until.get(external_id)
        if until is None:
            return False
        if until <= self._clock():
            del self._until[external_id]
            return False
        return True

    def settle(self, external_id: str) -> None:
        """Its invoice was found: nothing is in doubt any more."""
        self._until.pop(external_id, None)
