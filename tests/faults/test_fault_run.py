"""The fault run: both sandboxes at 20% 503s and 5% resets, 32 concurrent clients creating
invoices with retries over both providers, for a bounded time; it ends with no 500s, no
duplicate invoices and no lost ones, as counted in the sandboxes.

CI runs it for 10 s. Longer or wider, by hand (the summary is printed with -s):

    FAULT_RUN_SECONDS=120 FAULT_RUN_CLIENTS=64 pytest tests/faults/test_fault_run.py -s
    python -m tests.faults.fault_run --seconds 120 --clients 64
"""

from __future__ import annotations

import os

from tests.faults.fault_run import DONE_WHEN_FAULTS, config_from, run_faults


def test_the_run_is_configured_from_the_environment_or_the_command_line() -> None:
    config = config_from([], {"FAULT_RUN_SECONDS": "90", "FAULT_RUN_CLIENTS": "64"})
    assert (config.seconds, config.clients, config.phases) == (90, 64, (DONE_WHEN_FAULTS,))
    config = config_from(["--seconds", "3", "--faults", '{"error_rate": 1}'], {})
    assert (config.seconds, config.clients, config.phases) == (3, 32, ({"error_rate": 1},))


async def test_the_done_when_fault_run_loses_and_duplicates_nothing() -> None:
    config = config_from([], os.environ)
    report = await run_faults(config)
    print(report.summary())
    tally = report.tally
    assert report.during == [], report.summary()  # told "created": held once; never twice
    assert report.after == [], report.summary()  # settled: every key held exactly once
    assert tally.http_5xx == [], tally.http_5xx[:5]
    assert tally.unmasked == [], tally.unmasked[:5]
    assert tally.refused == [], tally.refused[:5]
    assert tally.gave_up == [], report.summary()
    for name in config.providers:
        assert report.censuses[name].by_key, f"no {name} invoice was created"
    # The faults were felt: the sandboxes answered more calls than the clients made creates.
    assert sum(report.upstream_requests.values()) > tally.requests
