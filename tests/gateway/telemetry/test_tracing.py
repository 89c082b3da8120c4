"""The span tree of a request, with an in-memory exporter: the request, each provider operation
(a loader's batch is one, with its size), each upstream HTTP attempt; and the trace context that
goes on to the sandboxes with the request id."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from gateway.telemetry import tracing_from_environment
from gateway.telemetry.tracing import Tracing
from providers.transport import Request, Response, Timeouts, Transport
from tests.gateway.hostile import CONTROL, READ_KEY, Hostile, served_gateway

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
XENDIT_ONLY = '{ invoices(first: 1, filter: {provider: "xendit"}) { edges { node { id } } } }'
HEADERS = {
    "authorization": f"Bearer {READ_KEY}",
    "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01",
    "x-request-id": "trace-test-1",
}


@dataclass
class Recording:
    """A transport that keeps the headers of every request it sends to its sandbox."""

    inner: Transport
    sent: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    async def send(self, request: Request, *, timeouts: Timeouts, max_bytes: int) -> Response:
        self.sent.append((f"{request.method} {request.url.path}", dict(request.headers)))
        return await self.inner.send(request, timeouts=timeouts, max_bytes=max_bytes)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Traced:
    gateway: Hostile
    exporter: InMemorySpanExporter
    transports: list[Recording]


@pytest.fixture
def traced() -> Iterator[Traced]:
    exporter = InMemorySpanExporter()
    transports: list[Recording] = []

    def record(inner: Transport) -> Transport:
        transports.append(Recording(inner))
        return transports[-1]

    with served_gateway(
        tracing=Tracing(SimpleSpanProcessor(exporter)), transport=record
    ) as gateway:
        yield Traced(gateway, exporter, transports)


def _hex(value: int, digits: int) -> str:
    return format(value, f"0{digits}x")


def test_a_listing_is_one_tree_from_the_callers_trace_to_the_sandboxes(traced: Traced) -> None:
    query = "query Listing { invoices(first: 3) { edges { node { id } } } }"
    with httpx.Client(timeout=30) as client:
        response = client.post(
            f"{traced.gateway.url}/graphql", json={"query": query}, headers=HEADERS
        )
    assert response.status_code == 200
    assert "errors" not in response.json()
    spans = traced.exporter.get_finished_spans()
    assert {s.context.trace_id for s in spans} == {int(TRACE_ID, 16)}
    by_name = {s.name: s for s in spans}

    request = by_name["query Listing"]
    assert request.kind is SpanKind.SERVER
    assert request.parent is not None
    assert _hex(request.parent.span_id, 16) == PARENT_ID
    assert request.attributes is not None
    assert request.attributes["graphql.operation.name"] == "Listing"
    assert request.attributes["gateway.request_id"] == "trace-test-1"
    assert request.attributes["gateway.caller"] == "dashboard"

    for provider, call in (("flexprice", "POST /invoices/search"), ("xendit", "GET /v2/invoices")):
        operation = by_name[f"{provider} list_invoices"]
        assert operation.parent is not None
        assert operation.parent.span_id == request.context.span_id
        attempt = by_name[call]
        assert attempt.kind is SpanKind.CLIENT
        assert attempt.parent is not None
        assert attempt.parent.span_id == operation.context.span_id
        assert attempt.attributes is not None
        assert attempt.attributes["http.response.status_code"] == 200
    assert len(spans) == 5

    # What reached the sandboxes: the attempt's own span as parent, and the request's id.
    sent = [headers for recording in traced.transports for _, headers in recording.sent]
    assert len(sent) == 2
    attempts = {
        _hex(by_name[name].context.span_id, 16)
        for name in ("POST /invoices/search", "GET /v2/invoices")
    }
    assert {h["traceparent"] for h in sent} == {f"00-{TRACE_ID}-{span}-01" for span in attempts}
    assert {h["x-request-id"] for h in sent} == {"trace-test-1"}


def test_a_loader_batch_is_one_span_with_its_size(traced: Traced) -> None:
    ids = traced.gateway.ids["flexprice_invoice"][:3]
    aliases = " ".join(f'i{n}: node(id: "{id_}") {{ id }}' for n, id_ in enumerate(ids))
    with httpx.Client(timeout=30) as client:
        response = client.post(
            f"{traced.gateway.url}/graphql",
            json={"query": f"query Three {{ {aliases} }}"},
            headers=HEADERS,
        )
    assert response.status_code == 200
    assert "errors" not in response.json(), response.text
    spans = traced.exporter.get_finished_spans()
    batches = [s for s in spans if s.name.startswith("flexprice get_invoices")]
    assert len(batches) == 1
    assert batches[0].attributes is not None
    assert batches[0].attributes["gateway.batch_size"] == 3
    calls = [s for s in spans if s.kind is SpanKind.CLIENT]
    assert calls
    assert all(
        s.parent is not None and s.parent.span_id == batches[0].context.span_id for s in calls
    )


def test_a_failed_attempt_is_an_error_span(traced: Traced) -> None:
    with httpx.Client(timeout=30) as client:
        url = f"{traced.gateway.url}/sandbox/xendit/_sandbox/faults"
        assert (
            client.put(url, json={"error_rate": 1.0, "status": 503}, headers=CONTROL).status_code
            == 200
        )
        client.post(
            f"{traced.gateway.url}/graphql",
            json={"query": XENDIT_ONLY},
            headers=HEADERS,
        )
    attempts = [s for s in traced.exporter.get_finished_spans() if s.name == "GET /v2/invoices"]
    assert len(attempts) == 3  # FAST's attempts, each its own span
    assert all(s.status.status_code.name == "ERROR" for s in attempts)
    assert all(
        s.attributes is not None and s.attributes["http.response.status_code"] == 503
        for s in attempts
    )


def test_tracing_is_off_without_an_endpoint() -> None:
    assert tracing_from_environment({}) is None
    assert (
        tracing_from_environment(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"}
        )
        is None
    )
    tracing = tracing_from_environment({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert tracing is not None
    tracing.shutdown()
