"""Refused queries are logged short and few, so a flood of them cannot flood the log, while a
masked bug's detail still reaches the log whole, with its request id."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.ids import GlobalId, NodeType
from gateway.logs import (
    BUG_LOGGERS,
    EXCERPT_CHARS,
    PROVIDER_LOGGERS,
    QUERY_LOGGERS,
    Excerpts,
    RateLimit,
    excerpt,
    limit_error_logs,
    limit_query_logs,
)
from gateway.settings import GatewaySettings
from gateway.wiring import on_sandbox
from providers.flexprice import FlexPriceProvider
from providers.transport import Request, Response, Timeouts, Transport
from tests.gateway.conftest import FAST
from tests.gateway.hostile import WRITE_KEY, served_gateway

FLOOD = 500
#: What one record about a refused operation may hold: two excerpts (the error message, the
#: query), their length marks, the code and the request id.
RECORD_CHARS = 2 * (EXCERPT_CHARS + 20) + 150


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _restore_filters() -> Iterator[None]:
    names = (*QUERY_LOGGERS, *PROVIDER_LOGGERS, *BUG_LOGGERS)
    saved = {name: list(logging.getLogger(name).filters) for name in names}
    yield
    for name, filters in saved.items():
        logger = logging.getLogger(name)
        for added in list(logger.filters):
            logger.removeFilter(added)
        for kept in filters:
            logger.addFilter(kept)


@pytest.fixture
async def gateway() -> AsyncIterator[tuple[httpx.AsyncClient, FlexPriceProvider]]:
    wired = on_sandbox("flexprice", policy=FAST)
    assert isinstance(wired.provider, FlexPriceProvider)
    app = create_app(settings=GatewaySettings(), providers={"flexprice": wired})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
        yield c, wired.provider
    await wired.provider.aclose()


def _record(msg: object, *args: object) -> logging.LogRecord:
    return logging.LogRecord("gateway.graphql", logging.INFO, __file__, 1, msg, args, None)


def test_an_excerpt_is_one_line_cut_to_its_limit_with_the_original_length() -> None:
    assert excerpt("{ providers { name } }") == "{ providers { name } }"
    long = "query {\n" + "x" * 5000 + "\n}"
    cut = excerpt(long)
    assert cut == repr(long[:200])[1:-1][:200] + f" … ({len(long)} chars)"
    assert "\n" not in cut
    forged = excerpt("ok\n2026-11-21 ERROR gateway.errors forged line")
    assert forged == "ok\\n2026-11-21 ERROR gateway.errors forged line"  # one line


def test_excerpts_cut_arguments_or_a_bare_message() -> None:
    record = _record("refused (%s): %s", "CODE", "y" * 10_000)
    assert Excerpts().filter(record)
    assert len(record.getMessage()) < EXCERPT_CHARS + 60
    bare = _record(ValueError("z" * 10_000))  # Strawberry logs the error object itself
    assert Excerpts().filter(bare)
    assert bare.getMessage().endswith("(10000 chars)")


def test_a_rate_limit_drops_past_its_budget_then_counts_what_it_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    limit = RateLimit(10, clock=clock)
    passed = [limit.filter(_record("refused %d", n)) for n in range(25)]
    assert passed == [True] * 10 + [False] * 15
    clock.now += 1.5
    with caplog.at_level(logging.WARNING, logger="gateway.graphql"):
        logging.getLogger("gateway.graphql").addFilter(limit)
        try:
            assert limit.filter(_record("refused again"))
        finally:
            logging.getLogger("gateway.graphql").removeFilter(limit)
    [summary] = caplog.records
    assert summary.getMessage() == (
        "15 similar log records held back in the last 2 s (at most 10 a second)"
    )


async def test_a_flood_of_refused_queries_logs_a_bounded_number_of_short_records(
    gateway: tuple[httpx.AsyncClient, FlexPriceProvider], caplog: pytest.LogCaptureFixture
) -> None:
    client, _ = gateway
    clock = Clock()  # the flood arrives within one second, however long the test takes
    limit_query_logs(per_second=10, clock=clock)
    floods = [
        "{ " + "providers { name } " * 700 + "}",  # over the token limit
        "{ " + "a" * 20_000 + " }",  # one huge unknown field
        '{ invoice(id: "' + "x" * 20_000,  # a syntax error after a huge string
        "{ providers { " + "nme " * 120 + "} }",  # 100 validation errors, then it stops
    ]
    with caplog.at_level(logging.DEBUG, logger="gateway"):
        for n in range(FLOOD):
            response = await client.post("/graphql", json={"query": floods[n % len(floods)]})
            assert response.status_code == 200
            assert response.json()["errors"]
        clock.now += 1.0
        await client.post("/graphql", json={"query": "{ nope }"})
    about = [r for r in caplog.records if r.name in QUERY_LOGGERS]
    refusals = [r for r in about if not hasattr(r, "held_back")]
    [summary] = [r for r in about if hasattr(r, "held_back")]
    assert len(refusals) == 11  # ten in the flood's second, one in the next
    assert summary.getMessage().startswith(f"{FLOOD - 10} similar log records held back")
    for record in refusals:
        message = record.getMessage()
        assert message.startswith("refused operation (")
        assert len(message) <= RECORD_CHARS, message
    assert all("chars)" in r.getMessage() for r in refusals[:10])  # each long query was cut
    assert sum(len(r.getMessage()) for r in about) <= 12 * RECORD_CHARS
    assert "TOO_MANY_TOKENS" in refusals[0].getMessage()


async def test_the_app_installs_the_limits_and_a_bug_is_still_logged_whole(
    gateway: tuple[httpx.AsyncClient, FlexPriceProvider],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, provider = gateway
    for name in QUERY_LOGGERS:
        kinds = {type(f) for f in logging.getLogger(name).filters}
        assert {RateLimit, Excerpts} <= kinds, name
    detail = "internal detail " + "d" * 5000

    async def broken(ids: Any) -> Any:
        raise RuntimeError(detail)

    monkeypatch.setattr(provider, "get_invoices", broken)
    invoice = GlobalId(NodeType.INVOICE, "flexprice", "inv_1").encode()
    with caplog.at_level(logging.INFO):
        for _ in range(50):  # spend the refusals' budget first
            await client.post("/graphql", json={"query": "{ " + "x" * 10_000 + " }"})
        response = await client.post(
            "/graphql", json={"query": f'{{ invoice(id: "{invoice}") {{ id }} }}'}
        )
    request_id = response.json()["errors"][0]["extensions"]["requestId"]
    [bug] = [r for r in caplog.records if r.name == "gateway.errors" and r.levelno == logging.ERROR]
    assert request_id in bug.getMessage()
    assert bug.exc_info is not None
    assert str(bug.exc_info[1]) == detail  # whole: not cut, not dropped
    assert len([r for r in caplog.records if r.name == "gateway.graphql"]) <= 11


# -- what fails while operations run ------------------------------------------------------------


class FailingPdfs:
    """FlexPrice answers 503 to every PDF request; everything else reaches the sandbox."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner

    async def send(self, request: Request, *, timeouts: Timeouts, max_bytes: int) -> Response:
        if request.url.path.endswith("/pdf"):
            return Response.of(503, json={"message": "unavailable"})
        return await self.inner.send(request, timeouts=timeouts, max_bytes=max_bytes)

    async def aclose(self) -> None:
        await self.inner.aclose()


#: Ten PDF links of each of 100 FlexPrice invoices: one failure per field, about a thousand.
PDFS = (
    '{ invoices(first: 100, filter: {provider: ["flexprice"]}) { edges { node { '
    + " ".join(f"p{n}: pdfUrl" for n in range(10))
    + " } } } }"
)


#: The flood is the point: no cost estimate or upstream cap stops the request first.
UNLIMITED = {"max_cost": 0, "max_upstream_calls": 0}


def _failures(url: str) -> int:
    """The fields that failed, counting those a capped response only counts (`omitted`)."""
    with httpx.Client(headers={"authorization": f"Bearer {WRITE_KEY}"}, timeout=60) as client:
        body = client.post(f"{url}/graphql", json={"query": PDFS}).json()
    return sum(error.get("extensions", {}).get("omitted", 1) for error in body["errors"])


def test_a_thousand_provider_failures_in_one_request_write_a_bounded_number_of_lines(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()  # the request runs within one second of the limit, however long it takes
    with served_gateway(transport=FailingPdfs, **UNLIMITED) as gateway:
        limit_error_logs(provider_failures_per_second=10, bugs_per_second=5, clock=clock)
        with caplog.at_level(logging.INFO):
            failed = _failures(gateway.url)
            clock.now += 1.0
            failed_later = _failures(gateway.url)
    assert failed > 900, failed
    assert failed_later >= 1  # the circuit is open by now: the listing itself fails at once
    lines = [r for r in caplog.records if r.name in PROVIDER_LOGGERS]
    [summary] = [r for r in lines if hasattr(r, "held_back")]
    # Ten in the first request's second (its failures, and stamina's retries, together); the
    # first line of the next second is preceded by the count of what was left out.
    assert len(lines) == 10 + 1 + 1
    assert lines.index(summary) == 10
    assert summary.levelno == logging.WARNING
    # What was held back: the request logs at most MAX_ERRORS_PER_KIND failures of a kind
    # itself (the response counts the rest), plus stamina's lines about its retries.
    assert int(summary.getMessage().split()[0]) >= 1
    assert all(len(r.getMessage()) <= 2 * EXCERPT_CHARS + 150 for r in lines)
    assert not [r for r in caplog.records if r.name in BUG_LOGGERS]


def test_a_thousand_masked_bugs_in_one_request_log_few_tracebacks_each_whole(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    detail = "internal detail " + "d" * 5000

    async def broken(invoice_id: str) -> str:
        raise RuntimeError(detail)

    with served_gateway(**UNLIMITED) as gateway:
        monkeypatch.setattr(gateway.flexprice, "get_invoice_pdf_url", broken)
        limit_error_logs(provider_failures_per_second=10, bugs_per_second=5, clock=clock)
        with caplog.at_level(logging.INFO):
            failed = _failures(gateway.url)
            clock.now += 1.0
            _failures(gateway.url)
    assert failed > 900, failed
    bugs = [r for r in caplog.records if r.name in BUG_LOGGERS]
    [summary] = [r for r in bugs if hasattr(r, "held_back")]
    tracebacks = [r for r in bugs if r.exc_info is not None]
    assert len(tracebacks) == 2 * 5
    assert all(str(r.exc_info[1]) == detail for r in tracebacks if r.exc_info)  # whole
    assert summary.getMessage().startswith(f"{failed - 5} similar log records held back")


#: Xendit has no invoice summary, and `invoices(first: -1)` fails at once: each customer
#: becomes null, which cancels its summary while that is still being read.
CANCELLED_SUMMARIES = """{ invoices(first: 10, filter: {provider: ["xendit"]}) { edges { node {
  customer { invoiceSummary { currency } invoices(first: -1) { totalCount } } } } } }"""
#: The same customer twice at the root: both start its summary early, one of them is left.
TWICE_EARLY = """query($id: ID!) { a: customer(id: $id) { invoiceSummary { currency } }
  b: customer(id: $id) { invoiceSummary { currency } } }"""


def test_a_failure_no_field_awaits_any_more_is_not_logged_by_asyncio(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with (
        served_gateway() as gateway,
        httpx.Client(headers={"authorization": f"Bearer {WRITE_KEY}"}, timeout=60) as client,
        caplog.at_level(logging.ERROR),
    ):
        customer = gateway.ids["xendit_customer"][0]
        for _ in range(3):
            body = client.post(f"{gateway.url}/graphql", json={"query": CANCELLED_SUMMARIES})
            edges = body.json()["data"]["invoices"]["edges"]
            assert edges
            assert all(edge["node"]["customer"] is None for edge in edges)
            twice = client.post(
                f"{gateway.url}/graphql", json={"query": TWICE_EARLY, "variables": {"id": customer}}
            )
            assert twice.json()["data"] == {
                "a": {"invoiceSummary": None},
                "b": {"invoiceSummary": None},
            }
        gc.collect()  # what asyncio logs, it logs when the future is collected
    unretrieved = [r.getMessage() for r in caplog.records if "never retrieved" in r.getMessage()]
    # 6 ERROR records with a traceback per customer and request, outside every log budget.
    assert unretrieved == []
