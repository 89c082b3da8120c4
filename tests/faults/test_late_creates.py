"""A create the provider carries out after the gateway stopped waiting for it (the answer came
too late or never, on the one POST that must not be repeated): the gateway's own retries and
the client's must find that invoice, never make a second one.

The sandboxes cannot do this themselves (their latency comes before the body is read, so a
create whose client left is dropped); `LateCreates` reads the body at once and carries the
create out once the gateway has hung up.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from providers.http import HttpPolicy
from tests.faults.clients import Backoff, Order, Tally, create_until_done
from tests.faults.invoices import census, order_for, problems
from tests.faults.stack import PROVIDERS, Stack, stack

DEADLINE_S = 0.3
POLICY = HttpPolicy(
    connect_timeout=DEADLINE_S,
    read_timeout=DEADLINE_S,
    deadline=DEADLINE_S,
    attempts=3,
    wait_initial=0.005,
    wait_max=0.05,
    wait_jitter=0.01,
)
BOUND_S = 30.0  # a bound on the client's retries, not a measured duration


async def _send(
    running: Stack, orders: list[Order], tally: Tally, *, attempts: int
) -> list[str | None]:
    """Each order by its own client, at once, up to `attempts` sends each."""
    backoff = Backoff(give_up_at=asyncio.get_running_loop().time() + BOUND_S, attempts=attempts)
    return await asyncio.gather(
        *(
            create_until_done(running.http, order, tally, backoff=backoff, rng=random.Random(n))
            for n, order in enumerate(orders)
        )
    )


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_create_made_after_the_gateway_gave_up_is_found_not_made_again(
    provider: str,
) -> None:
    async with stack(policies={provider: POLICY}) as running:
        sandbox = running.sandboxes[provider]
        baseline = sandbox.invoice_ids()
        orders = [order_for(sandbox, f"late-{n}", n) for n in range(3)]
        # While every create is carried out only once the gateway has given up on it, each
        # one times out.
        await sandbox.set_faults({"late_create_ms": int(DEADLINE_S * 250)})
        first = Tally()
        await _send(running, orders, first, attempts=1)
        # Each answer was lost to the deadline, unless a look-up found the late invoice in time.
        assert set(first.codes) <= {"PROVIDER_TIMEOUT"}, first
        assert sandbox.late.held_back >= len(orders)
        # The provider is fast again; the clients retry until they get their invoices.
        await sandbox.clear_faults()
        then = Tally()
        given = await _send(running, orders, then, attempts=Backoff(0).attempts)
        await sandbox.late.quiet()  # every create sent has been carried out
        found = census(sandbox, baseline=baseline, keys=then.attempted)
    assert None not in given, then
    for key, ids in first.succeeded.items():
        assert then.succeeded[key] == ids  # the same invoice, before and after
    assert problems(found, then, settled=True) == []
    assert then.unmasked == []
