"""UnansweredCreates: which external ids may still be created by Xendit, and for how long."""

from __future__ import annotations

from providers.xendit.unanswered import UnansweredCreates


def test_an_id_is_held_until_its_moment_or_until_settled() -> None:
    now = [0.0]
    held = UnansweredCreates(clock=lambda: now[0])
    held.mark("gw-a", seconds=5)
    held.mark("gw-b", seconds=5)
    assert held.pending("gw-a")
    assert not held.pending("gw-c")
    held.settle("gw-b")
    assert not held.pending("gw-b")
    now[0] = 5.0
    assert not held.pending("gw-a")  # presumed lost: a create may be sent again
    assert len(held) == 0


def test_expired_ids_are_dropped_as_new_ones_come() -> None:
    now = [0.0]
    held = UnansweredCreates(clock=lambda: now[0])
    for n in range(100):
        held.mark(f"gw-{n}", seconds=1)
    now[0] = 2.0
    held.mark("gw-new", seconds=1)
    assert len(held) == 1
