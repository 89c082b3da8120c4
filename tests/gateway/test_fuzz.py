"""Property-based fuzzing of the schema with hypothesis-graphql, through real HTTP.

Queries and mutations generated from the served schema, valid ones (`Mode.POSITIVE`) and ones
with one schema violation each (`Mode.NEGATIVE`), go to the gateway served on 127.0.0.1 over
both in-process sandboxes, whose keys (and the callers' keys) hold a sentinel. Every answer
must be below 500, every error coded and masked (an `INTERNAL_SERVER_ERROR` counts as a found
bug), the sentinel nowhere, and the gateway must log no error.

The run is reproducible: derandomized, no example database, a fixed number of examples
(`GATEWAY_FUZZ_EXAMPLES` raises it for a longer run by hand). Valid mutations change the
sandboxes (invoices created, voided, paid): at most one per example.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from gateway.ids import GlobalId, NodeType
from gateway.schema import build_schema
from tests.gateway.hostile import WRITE_KEY, Hostile, leaks, served_gateway

EXAMPLES = int(os.environ.get("GATEWAY_FUZZ_EXAMPLES", "150"))
MODES = {"valid": Mode.POSITIVE, "invalid": Mode.NEGATIVE}
CURRENCIES = ["USD", "usd", "EUR", "IDR", "PHP", "JPY", "VND", "XXX", "US", "€", "USDT", ""]

Value = st.SearchStrategy[graphql.ValueNode]


def _ids(real: list[str]) -> Value:
    """Mostly ids of both providers' invoices and customers; some forged or junk."""
    forged = st.builds(
        lambda kind, provider, native: GlobalId(kind, provider, native).encode(),
        st.sampled_from(list(NodeType)),
        st.sampled_from(["flexprice", "xendit", "stripe", ""]),
        st.text(max_size=24),
    )
    return st.one_of(
        st.sampled_from(real), st.sampled_from(real), forged, st.text(max_size=40)
    ).map(nodes.String)


def _decimals() -> Value:
    money = st.decimals(min_value=0, max_value=10_000, places=2)
    wide = st.integers(min_value=0, max_value=12).flatmap(
        lambda places: st.decimals(
            min_value=Decimal("-1e14"), max_value=Decimal("1e14"), places=places
        )
    )
    odd = st.sampled_from(["1e5", "NaN", "Infinity", "-0", "1_000", " 1", "+2", "١٢", "0x10", ""])
    return st.one_of(
        st.one_of(money, money, wide).map(lambda d: nodes.String(format(d, "f"))),
        odd.map(nodes.String),
        st.integers(min_value=-(10**20), max_value=10**20).map(nodes.Int),
        st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
    )


def _datetimes() -> Value:
    offsets = st.timedeltas(min_value=-dt.timedelta(hours=23), max_value=dt.timedelta(hours=23))
    zones = st.none() | st.just(dt.UTC) | offsets.map(dt.timezone)
    moments = st.datetimes(timezones=zones).map(lambda moment: moment.isoformat())
    odd = st.sampled_from(["", "2026-13-01T00:00:00Z", "9999-12-31T23:59:59-23:59", "now"])
    return st.one_of(moments, moments, odd, st.text(max_size=30)).map(nodes.String)


def _strings() -> Value:
    texts = st.one_of(
        st.sampled_from(CURRENCIES),
        st.sampled_from(["flexprice", "xendit", "ledger", "sub_1", "BCA", "OVO", "CREDIT_CARD"]),
        st.emails().map(str),
        st.sampled_from(["https://example.com/i.pdf", "http://x", "javascript:alert(1)"]),
        st.text(max_size=60),
        st.text(min_size=400, max_size=1100),
    )
    return texts.map(nodes.String)


@dataclass
class ErrorRecords(logging.Handler):
    """The gateway's ERROR records (a masked bug is logged at ERROR)."""

    records: list[logging.LogRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(logging.ERROR)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __hash__(self) -> int:
        return id(self)


@dataclass
class Fuzzed:
    gateway: Hostile
    client: httpx.Client
    errors: ErrorRecords
    strategies: dict[tuple[str, str], st.SearchStrategy[str]]


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[Fuzzed]:
    sdl = build_schema().as_str()
    errors = ErrorRecords()
    logger = logging.getLogger("gateway")
    logger.addHandler(errors)
    with (
        served_gateway() as gateway,
        httpx.Client(
            base_url=gateway.url, headers={"authorization": f"Bearer {WRITE_KEY}"}, timeout=30
        ) as client,
    ):
        scalars = {
            "ID": _ids([i for ids in gateway.ids.values() for i in ids]),
            "Decimal": _decimals(),
            "DateTime": _datetimes(),
            "String": _strings(),
        }
        strategies = {
            (operation, mode): make(sdl, custom_scalars=scalars, mode=MODES[mode])
            for operation, make in (("query", queries), ("mutation", mutations))
            for mode in MODES
        }
        yield Fuzzed(gateway=gateway, client=client, errors=errors, strategies=strategies)
    logger.removeHandler(errors)


@pytest.mark.parametrize("operation", ["query", "mutation"])
@pytest.mark.parametrize("mode", list(MODES))
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_no_generated_operation_gets_a_5xx_an_unmasked_error_or_a_secret(
    fuzzed: Fuzzed, operation: str, mode: str, data: Any
) -> None:
    document = data.draw(fuzzed.strategies[(operation, mode)], label="document")
    fuzzed.errors.records.clear()
    response = fuzzed.client.post("/graphql", json={"query": document})
    problems = leaks(response.status_code, response.headers, response.text)
    assert problems == [], f"{document}\n{response.text}"
    assert response.status_code == 200, f"{document}\n{response.text}"
    body = response.json()
    assert "data" in body, f"{document}\n{body}"
    if mode == "invalid":
        assert body["errors"], f"{document}\n{body}"
    logged = [record.getMessage() for record in fuzzed.errors.records]
    assert logged == [], f"{document}\n{logged}"
