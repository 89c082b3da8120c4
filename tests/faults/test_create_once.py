"""Exactly one invoice per idempotency key, per provider, under injected faults while clients
retry.

The sandboxes go through every fault in turn: 503s without and with Retry-After, other 5xx,
connections dropped after the handler ran (the invoice exists, the answer is lost), latency
beyond the gateway's deadline, creates carried out after the gateway stopped waiting, holds,
and answers cut in half. Clients retry each key until they get its invoice. The
sandbox's own store then decides: one invoice per key, the one the clients were given.

The sandboxes' latency comes before a create reads its body, so one the gateway gave up on is
dropped by the sandbox; the creates carried out after the gateway stopped waiting come from
`LateCreates` phases.
"""

from __future__ import annotations

import pytest

from providers.http import HttpPolicy
from tests.faults.fault_run import Report, RunConfig, run_faults

DEADLINE_S = 0.3
#: Short waits and a short deadline, so a test second holds many faults.
POLICY = HttpPolicy(
    connect_timeout=DEADLINE_S,
    read_timeout=DEADLINE_S,
    deadline=DEADLINE_S,
    attempts=3,
    wait_initial=0.005,
    wait_max=0.05,
    wait_jitter=0.01,
)
PHASE_S = 0.25
#: Creates carried out a quarter deadline after the gateway gave up on them (see LateCreates):
#: within the deadline it then waits for them to appear.
LATE_CREATE_MS = int(DEADLINE_S * 250)
PHASES: tuple[dict[str, object], ...] = (
    {"error_rate": 0.4, "status": 503},
    {"reset_rate": 0.4},
    {"error_rate": 0.4, "status": 503, "retry_after": 0.02},
    # Latency would delay a late create further: the latency phases stay a second (four
    # phases) away from the late ones, both ways round.
    {"latency_ms": int(DEADLINE_S * 3000)},  # every call times out
    {"latency_ms": int(DEADLINE_S * 2000), "reset_rate": 0.5},
    {"error_rate": 0.3, "status": 504, "latency_ms": int(DEADLINE_S * 700)},
    {"error_rate": 0.3, "status": 500},  # not retried by the gateway, but by the client
    {"error_rate": 0.4, "status": 429, "retry_after": 0.02},
    {"malformed_rate": 0.4},
    {"late_create_ms": LATE_CREATE_MS},
    {"error_rate": 0.3, "status": 502, "reset_rate": 0.2, "malformed_rate": 0.2},
    {"late_create_ms": LATE_CREATE_MS, "error_rate": 0.2, "status": 503, "reset_rate": 0.3},
    {"hang": True},  # held past the deadline: dropped; held less: released into the next phase
    {"malformed_rate": 0.2, "reset_rate": 0.2},
)


def _assert_clean(report: Report) -> None:
    tally = report.tally
    assert report.during == [], report.summary()
    assert report.after == [], report.summary()
    assert tally.http_5xx == [], report.summary()
    assert tally.unmasked == [], tally.unmasked[:5]
    assert tally.refused == [], tally.refused[:5]
    assert tally.gave_up == [], report.summary()


@pytest.mark.parametrize("provider", ["flexprice", "xendit"])
async def test_one_invoice_per_key_under_faults_while_clients_retry(provider: str) -> None:
    report = await run_faults(
        RunConfig(
            providers=(provider,),
            phases=PHASES,
            phase_seconds=PHASE_S,
            seconds=len(PHASES) * PHASE_S * 2,  # every phase twice
            clients=12,
            shared=6,  # three pairs send each of their keys twice at the same moment
            policy=POLICY,
            prefix=f"once-{provider}",
        )
    )
    print(report.summary())
    _assert_clean(report)
    tally = report.tally
    # The faults reached the clients: timeouts, and failures they had to retry past.
    assert tally.codes["PROVIDER_TIMEOUT"] > 0, report.summary()
    assert tally.retries > 0
    assert len(tally.succeeded) == len(tally.attempted) > 0
