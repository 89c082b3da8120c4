"""A provider that fails inside an answer the others completed is logged: once per request and
provider, however many fields it failed, with the request id."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.gateway.hostile import CONTROL, READ_KEY, served_gateway

LISTINGS = " ".join(f"l{n}: invoices(first: 2) {{ edges {{ node {{ id }} }} }}" for n in range(3))


def test_a_partial_failure_is_one_line_per_request_and_provider(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="gateway.providers")
    # Every line let through (0): this test counts them; the budget has tests of its own.
    with (
        served_gateway(log_provider_failures_per_second=0) as gateway,
        httpx.Client(timeout=30) as client,
    ):
        faults = f"{gateway.url}/sandbox/xendit/_sandbox/faults"
        assert client.put(
            faults, json={"error_rate": 1.0, "status": 503}, headers=CONTROL
        ).is_success
        answers = [
            client.post(
                f"{gateway.url}/graphql",
                json={"query": f"query Three {{ {LISTINGS} }}"},
                headers={"authorization": f"Bearer {READ_KEY}", "x-request-id": f"partial-{n}"},
            ).json()
            for n in range(2)
        ]
    for answer in answers:
        assert [e["extensions"]["provider"] for e in answer["errors"]] == ["xendit"] * 3
        assert all(answer["data"][f"l{n}"]["edges"] for n in range(3))  # FlexPrice's invoices
    lines = [r.getMessage() for r in caplog.records if "partial answer" in r.getMessage()]
    assert lines == [
        "partial answer: xendit failed (PROVIDER_UNAVAILABLE): xendit answered HTTP 503 "
        f"[request partial-{n}]"
        for n in range(2)
    ]
