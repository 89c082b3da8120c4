"""providers.resilience: the retry budget, the circuit breaker and the bulkhead on their own."""

from __future__ import annotations

import asyncio

import pytest

from providers.resilience import Bulkhead, BulkheadFull, CircuitBreaker, CircuitState, RetryBudget


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- retry budget -------------------------------------------------------------------------------


def test_retries_stay_within_the_ratio_of_recent_calls() -> None:
    clock = Clock()
    budget = RetryBudget(ratio=0.2, min_per_second=0, window=10, clock=clock)
    for _ in range(100):
        budget.record_call()
    granted = sum(budget.try_retry() for _ in range(100))
    assert granted == 20
    assert budget.snapshot()["retries_denied"] == 80


def test_the_floor_allows_retries_when_traffic_is_low() -> None:
    clock = Clock()
    budget = RetryBudget(ratio=0.2, min_per_second=1, window=10, clock=clock)
    budget.record_call()
    assert sum(budget.try_retry() for _ in range(50)) == 10  # 1 per second over 10 s (+0.2)


def test_old_calls_and_retries_leave_the_window() -> None:
    clock = Clock()
    budget = RetryBudget(ratio=0.5, min_per_second=0, window=10, clock=clock)
    for _ in range(10):
        budget.record_call()
    assert sum(budget.try_retry() for _ in range(10)) == 5
    clock.now += 11  # the window slid past all of them
    assert not budget.try_retry()
    assert budget.snapshot()["calls_in_window"] == 0
    budget.record_call()
    budget.record_call()
    assert budget.try_retry()
    assert not budget.try_retry()


def test_a_budget_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="ratio >= 0"):
        RetryBudget(ratio=-1, min_per_second=0)


# -- circuit breaker ----------------------------------------------------------------------------


def test_the_breaker_opens_after_the_threshold_of_failures_in_a_row() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=3, reset_after=10, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.failed()
    assert breaker.allow()
    breaker.succeeded()  # a success in between starts the count again
    for _ in range(3):
        assert breaker.allow()
        breaker.failed()
    assert breaker.state is CircuitState.OPEN
    assert not breaker.allow()
    snapshot = breaker.snapshot()
    assert snapshot["times_opened"] == 1
    assert snapshot["calls_rejected"] == 1
    assert snapshot["retry_in_seconds"] == 10


def test_after_the_reset_time_one_probe_goes_through_and_success_closes() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, reset_after=10, clock=clock)
    breaker.allow()
    breaker.failed()
    clock.now += 9.9
    assert not breaker.allow()
    clock.now += 0.2
    assert breaker.state is CircuitState.HALF_OPEN
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # only one at a time
    breaker.succeeded()
    assert breaker.state is CircuitState.CLOSED
    assert breaker.allow()


def test_a_failed_probe_opens_the_circuit_again_for_a_full_period() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=5, reset_after=10, clock=clock)
    for _ in range(5):
        breaker.allow()
        breaker.failed()
    clock.now += 10.5
    assert breaker.allow()
    breaker.failed()  # one failure is enough while half-open
    assert breaker.state is CircuitState.OPEN
    assert breaker.retry_in() == 10
    assert breaker.snapshot()["times_opened"] == 2


def test_a_probe_that_ends_without_an_answer_frees_the_slot() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, reset_after=1, clock=clock)
    breaker.allow()
    breaker.failed()
    clock.now += 2
    assert breaker.allow()
    breaker.ignored()  # e.g. cancelled by its client
    assert breaker.allow()  # another probe may go


# -- bulkhead -----------------------------------------------------------------------------------


async def test_the_bulkhead_refuses_when_full_after_its_wait() -> None:
    bulkhead = Bulkhead(limit=2, max_wait=0.01)
    release = asyncio.Event()
    entered = [asyncio.Event(), asyncio.Event()]

    async def hold(inside: asyncio.Event) -> None:
        async with bulkhead.slot():
            inside.set()
            await release.wait()

    holders = [asyncio.create_task(hold(inside)) for inside in entered]
    await asyncio.wait_for(asyncio.gather(*(inside.wait() for inside in entered)), 10)
    assert bulkhead.snapshot()["in_flight"] == 2
    with pytest.raises(BulkheadFull):
        async with bulkhead.slot():
            pass
    release.set()
    await asyncio.gather(*holders)
    async with bulkhead.slot():  # free again
        assert bulkhead.in_flight == 1
    assert bulkhead.snapshot() == {
        "limit": 2,
        "per_caller_limit": 2,
        "max_wait_seconds": 0.01,
        "in_flight": 0,
        "waiting": 0,
        "calls_rejected": 1,
    }


async def test_a_waiting_call_gets_the_slot_that_frees_up() -> None:
    bulkhead = Bulkhead(limit=1, max_wait=30)
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with bulkhead.slot():
            first_in.set()
            await release.wait()

    holder = asyncio.create_task(first())
    await first_in.wait()

    async def second() -> str:
        async with bulkhead.slot():
            return "served"

    waiter = asyncio.create_task(second())
    for _ in range(1000):  # a few loop turns: the waiter queues on the semaphore
        if bulkhead.waiting:
            break
        await asyncio.sleep(0)
    assert bulkhead.waiting == 1
    release.set()
    assert await asyncio.wait_for(waiter, 10) == "served"
    await holder


async def test_with_no_wait_a_full_bulkhead_refuses_at_once() -> None:
    bulkhead = Bulkhead(limit=1, max_wait=0)
    async with bulkhead.slot():
        with pytest.raises(BulkheadFull):
            async with bulkhead.slot():
                pass
    assert bulkhead.rejected == 1


async def _hold_until(
    bulkhead: Bulkhead, owner: str | None, inside: asyncio.Event, go: asyncio.Event
) -> None:
    async with bulkhead.slot(owner):
        inside.set()
        await go.wait()


async def test_an_owner_past_its_share_waits_for_its_own_slots_not_others() -> None:
    bulkhead = Bulkhead(limit=4, max_wait=30, per_owner=2)
    go = asyncio.Event()
    inside = [asyncio.Event() for _ in range(3)]
    heavy = [asyncio.create_task(_hold_until(bulkhead, "heavy", e, go)) for e in inside]
    await asyncio.wait_for(asyncio.gather(inside[0].wait(), inside[1].wait()), 10)
    for _ in range(1000):  # the third heavy call queues on its owner's share
        if bulkhead.waiting:
            break
        await asyncio.sleep(0)
    assert (bulkhead.in_flight, bulkhead.waiting) == (2, 1)
    assert not inside[2].is_set()
    # Another owner, and a call without one, get the free slots at once.
    light_in, other_in = asyncio.Event(), asyncio.Event()
    light = asyncio.create_task(_hold_until(bulkhead, "light", light_in, go))
    other = asyncio.create_task(_hold_until(bulkhead, None, other_in, go))
    await asyncio.wait_for(asyncio.gather(light_in.wait(), other_in.wait()), 10)
    assert bulkhead.in_flight == 4
    assert not inside[2].is_set()
    go.set()
    await asyncio.wait_for(asyncio.gather(*heavy, light, other), 10)
    assert inside[2].is_set()
    assert (bulkhead.in_flight, bulkhead.waiting, bulkhead.rejected) == (0, 0, 0)
    assert bulkhead._shares == {}  # no owner is remembered once its calls are done


async def test_an_owner_past_its_share_is_refused_after_the_wait() -> None:
    bulkhead = Bulkhead(limit=4, max_wait=0.01, per_owner=1)
    go, inside = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_hold_until(bulkhead, "heavy", inside, go))
    await asyncio.wait_for(inside.wait(), 10)
    with pytest.raises(BulkheadFull):
        async with bulkhead.slot("heavy"):
            pass
    async with bulkhead.slot("light"):  # three shared slots are still free
        assert bulkhead.in_flight == 2
    go.set()
    await holder
    assert bulkhead.snapshot()["calls_rejected"] == 1
    assert bulkhead._shares == {}


async def test_a_refused_owner_gives_its_share_back() -> None:
    # The owner's slot is taken, then no shared slot frees up in time: the owner's slot must be
    # returned, or the owner would be one slot short from then on.
    bulkhead = Bulkhead(limit=3, max_wait=0.01, per_owner=2)
    keep, shared_go = asyncio.Event(), asyncio.Event()
    entered = [asyncio.Event() for _ in range(3)]
    heavy = asyncio.create_task(_hold_until(bulkhead, "heavy", entered[0], keep))
    shared = [asyncio.create_task(_hold_until(bulkhead, None, e, shared_go)) for e in entered[1:]]
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in entered)), 10)
    with pytest.raises(BulkheadFull):
        async with bulkhead.slot("heavy"):
            pass
    shared_go.set()
    await asyncio.gather(*shared)
    async with bulkhead.slot("heavy"):  # its second slot is free again
        assert bulkhead.in_flight == 2
    keep.set()
    await heavy
