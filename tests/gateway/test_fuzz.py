"""Property-based fuzzing of the schema with hypothesis-graphql, through real HTTP.

Queries and mutations generated from the served schema, valid ones (`Mode.POSITIVE`) and ones
with one schema violation each (`Mode.NEGATIVE`), go to the gateway served on 127.0.0.1 over
both in-process sandboxes, whose keys (and the callers' keys) hold a sentinel. Every answer
must be below 500, every error coded and masked (an `INTERNAL_SERVER_ERROR` counts as a found
bug), the sentinel nowhere, and the gateway must log no error. The cost estimate must bound
the upstream requests the operation sent (`extensions.cost`: actual <= estimated).

The run is reproducible: derandomized, no example database, a fixed number of examples
(`GATEWAY_FUZZ_EXAMPLES` raises it for a longer run by hand). Valid mutations change the
sandboxes (invoices created, voided, paid): at most one per example.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import unicodedata
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


def _decimals(*, readable: bool) -> Value:
    """Plain decimal strings (money, and any sign, size and precision the domain rules must
    refuse); unless `readable`, also what the scalar must refuse (exponents, floats, ...)."""
    money = st.decimals(min_value=Decimal("0.01"), max_value=10_000, places=2)
    wide = st.integers(min_value=0, max_value=12).flatmap(
        lambda places: st.decimals(
            min_value=Decimal("-1e14"), max_value=Decimal("1e14"), places=places
        )
    )
    plain = st.one_of(money, money, money, wide).map(lambda d: nodes.String(format(d, "f")))
    if readable:
        return st.one_of(plain, st.integers(min_value=0, max_value=10**6).map(nodes.Int))
    odd = st.sampled_from(["1e5", "NaN", "Infinity", "-0", "1_000", " 1", "+2", "١٢", "0x10", ""])
    return st.one_of(
        plain,
        odd.map(nodes.String),
        st.integers(min_value=-(10**20), max_value=10**20).map(nodes.Int),
        st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
    )


def _datetimes(*, readable: bool) -> Value:
    """ISO 8601 date-times with and without offsets in the accepted range; unless `readable`,
    also any datetime Python has (out of range at both ends) and strings that are none."""
    offsets = st.timedeltas(min_value=-dt.timedelta(hours=23), max_value=dt.timedelta(hours=23))
    zones = st.none() | st.just(dt.UTC) | offsets.map(dt.timezone)
    near = st.datetimes(
        min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2200, 1, 1), timezones=zones
    )
    if readable:
        return near.map(lambda moment: nodes.String(moment.isoformat()))
    anywhere = st.datetimes(timezones=zones)
    odd = st.sampled_from(["", "2026-13-01T00:00:00Z", "9999-12-31T23:59:59-23:59", "now"])
    moments = st.one_of(near, anywhere).map(lambda moment: moment.isoformat())
    return st.one_of(moments, moments, odd, st.text(max_size=30)).map(nodes.String)


def _strings() -> Value:
    """Currencies weighted up (a create needs one its provider takes), provider and payment
    method names, emails, URLs, and any text, short or past the length limits."""
    texts = st.one_of(
        st.sampled_from(CURRENCIES),
        st.sampled_from(["USD", "IDR"]),
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
        ids = _ids([i for ids in gateway.ids.values() for i in ids])

        def scalars(mode: str) -> dict[str, Value]:
            # A valid operation gets values its scalars read, so that it runs (and the domain
            # rules and providers meet odd values); an invalid one gets anything.
            readable = mode == "valid"
            return {
                "ID": ids,
                "Decimal": _decimals(readable=readable),
                "DateTime": _datetimes(readable=readable),
                "String": _strings(),
            }

        strategies = {
            (operation, mode): make(sdl, custom_scalars=scalars(mode), mode=MODES[mode])
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
    cost = body["extensions"]["cost"]
    assert cost["actual"] <= (cost["estimated"] or 0), f"{document}\n{cost}"
    logged = [record.getMessage() for record in fuzzed.errors.records]
    assert logged == [], f"{document}\n{logged}"


# -- valid creates, fuzzed -------------------------------------------------------------------

CREATE = """mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) {
  invoice { id provider currency description total { amount currency } lineItems { description } }
  userErrors { code message field } } }"""
#: (currency, minor-unit digits a line may use) each provider takes; Xendit takes IDR in whole
#: units only.
CURRENCIES_OF = {
    "flexprice": [("USD", 2), ("EUR", 2), ("JPY", 0), ("BHD", 3)],
    "xendit": [("IDR", 0), ("PHP", 2), ("USD", 2)],
}
TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cf", "Cs")), min_size=1, max_size=80
).filter(str.strip)


@st.composite
def _creates(draw: st.DrawFn, customers: dict[str, list[str]]) -> tuple[str, dict[str, Any]]:
    """(provider, input) of a create every rule allows, but for what a provider may refuse."""
    provider = draw(st.sampled_from(sorted(CURRENCIES_OF)))
    currency, digits = draw(st.sampled_from(CURRENCIES_OF[provider]))
    lines = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "description": TEXT,
                    "quantity": st.integers(min_value=1, max_value=50).map(str),
                    "unitAmount": st.decimals(min_value=0, max_value=100_000, places=digits).map(
                        lambda d: format(d, "f")
                    ),
                }
            ),
            min_size=1,
            max_size=4,
        )
    )
    optional = st.fixed_dictionaries(
        {},
        optional={
            "description": TEXT,
            "dueAt": st.timedeltas(
                min_value=dt.timedelta(days=1), max_value=dt.timedelta(days=300)
            ).map(lambda ahead: (dt.datetime.now(dt.UTC) + ahead).isoformat()),
            "metadata": st.lists(
                st.fixed_dictionaries({"key": TEXT.map(lambda t: t[:40]), "value": TEXT}),
                max_size=3,
                unique_by=lambda entry: entry["key"].strip(),
            ),
        },
    )
    return provider, {
        "customerId": draw(st.sampled_from(customers[provider])),
        "currency": currency,
        "lineItems": lines,
        **draw(optional),
    }


@settings(max_examples=40, deadline=None, database=None, derandomize=True)
@given(data=st.data())
def test_a_fuzzed_valid_create_makes_one_exact_invoice_or_a_user_error(
    fuzzed: Fuzzed, data: Any
) -> None:
    customers = {name: fuzzed.gateway.ids[f"{name}_customer"] for name in ("flexprice", "xendit")}
    provider, given_input = data.draw(_creates(customers), label="input")
    sandbox = fuzzed.gateway.sandbox(provider)
    before = len(sandbox.invoices)
    response = fuzzed.client.post(
        "/graphql", json={"query": CREATE, "variables": {"input": given_input}}
    )
    assert leaks(response.status_code, response.headers, response.text) == [], response.text
    body = response.json()
    assert "errors" not in body, body
    payload = body["data"]["createInvoice"]
    if payload["userErrors"]:
        # Only what a provider may refuse (e.g. a Xendit customer's currency) is left.
        assert {e["code"] for e in payload["userErrors"]} <= {"PROVIDER_REJECTED"}, payload
        assert len(sandbox.invoices) == before
        return
    invoice = payload["invoice"]
    assert len(sandbox.invoices) == before + 1
    expected = sum(
        (
            Decimal(line["quantity"]) * Decimal(line["unitAmount"])
            for line in given_input["lineItems"]
        ),
        Decimal(0),
    )
    assert (invoice["provider"], invoice["currency"]) == (provider, given_input["currency"])
    assert Decimal(invoice["total"]["amount"]) == expected
    texts = [line["description"] for line in given_input["lineItems"]]
    assert [line["description"] for line in invoice["lineItems"]] == [
        unicodedata.normalize("NFC", text.strip()) for text in texts
    ]
