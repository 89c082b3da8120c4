"""Waits for a held idempotency key, and the claims the stores give, end by the deadline the
create was given (`until`): a repeat is not kept waiting past it, and a Redis claim is not
renewed past it, so it lapses within one lease even if its owner never lets go."""

from __future__ import annotations

import asyncio

import pytest

from gateway.idempotency import ClaimPending, MemoryStore, RedisStore

ANSWER_BOUND_S = 20.0


# -- the stores on their own --------------------------------------------------------------------


async def test_a_repeat_in_memory_waits_no_longer_than_its_wait_or_its_deadline() -> None:
    store = MemoryStore(ttl=60, wait=0.2)
    assert (await store.claim("billing", "order-m", "fp")).done is None  # never finished
    async with asyncio.timeout(ANSWER_BOUND_S):
        with pytest.raises(ClaimPending):
            await store.claim("billing", "order-m", "fp")
        store.wait = 60
        until = asyncio.get_running_loop().time() + 0.2
        with pytest.raises(ClaimPending):
            await store.claim("billing", "order-m", "fp", until=until)
    await store.complete("billing", "order-m", "inv_m")
    assert (await store.claim("billing", "order-m", "fp")).done == "inv_m"


async def test_a_redis_claim_is_not_renewed_past_the_deadline_it_was_taken_for(
    redis_url: str,
) -> None:
    """An owner that never lets go of its claim (its request stuck past the create's
    deadline) stops renewing it at that deadline: it lapses within one lease, and another
    process takes the key over. Without a deadline it is renewed for as long as it lives."""
    stuck = RedisStore.from_url(redis_url, ttl=60, lease=0.3, wait=1)
    other = RedisStore.from_url(redis_url, ttl=60, lease=0.3, wait=5)
    try:
        until = asyncio.get_running_loop().time() + 0.3
        assert (await stuck.claim("billing", "order-stuck", "fp", until=until)).done is None
        assert (await stuck.claim("billing", "order-alive", "fp")).done is None
        # Taken over after the deadline and one lease at most: well within the wait.
        assert (await other.claim("billing", "order-stuck", "fp")).done is None
        other.wait = 1
        with pytest.raises(ClaimPending):  # still renewed: no deadline was given
            await other.claim("billing", "order-alive", "fp")
    finally:
        await stuck.aclose()
        await other.aclose()
