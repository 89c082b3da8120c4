"""The operating surface (request records, metrics, persisted documents, HTTP conventions) under
a hostile client, through the served gateway: what a client can send must not grow the metrics
without end, nor turn into a 500."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client.parser import text_string_to_metric_families

from gateway.telemetry.tracing import Tracing
from sandboxes.xendit import create_sandbox_app as xendit_sandbox
from tests.gateway.hostile import READ_KEY, WRITE_KEY, Hostile, leaks, served_gateway
from tests.processes import clean_env, free_port, running
from tests.serving import ServedApp

READ = {"authorization": f"Bearer {READ_KEY}"}
WRITE = {"authorization": f"Bearer {WRITE_KEY}"}
XENDIT = "xnd_development_hostile_ops_0123456789"
SERVE_KEY = "web-key-0123456789abcdef"
#: A label value's length no scrape should show, whatever the client sent.
MAX_LABEL_CHARS = 200


def test_an_operation_name_a_client_makes_long_does_not_grow_the_metrics() -> None:
    # A name is one token: a body of a few hundred KB holds a name that long, and each one
    # of the first 200 names became the label of ~20 series (a counter and a histogram).
    long_names = [f"Op{n}" + "x" * 20_000 for n in range(3)]
    with served_gateway() as gateway, httpx.Client(timeout=30) as client:
        for name in long_names:
            # Fails validation: refused, yet named (its document parsed).
            answer = client.post(
                f"{gateway.url}/graphql", json={"query": f"query {name} {{ nope }}"}, headers=READ
            )
            assert answer.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        scrape = client.get(f"{gateway.url}/metrics", headers=READ)
        assert scrape.status_code == 200
    requests = [
        sample
        for family in text_string_to_metric_families(scrape.text)
        if family.name == "gateway_requests"
        for sample in family.samples
    ]
    too_long = [
        s.labels["operation"][:40] for s in requests if len(s.labels["operation"]) > MAX_LABEL_CHARS
    ]
    assert not too_long, f"operation labels over {MAX_LABEL_CHARS} chars: {too_long}"
    refused = sum(s.value for s in requests if s.labels["outcome"] == "GRAPHQL_VALIDATION_FAILED")
    assert refused == len(long_names)  # still counted
    assert len(scrape.content) < 100_000, len(scrape.content)


#: `\ud800` is valid JSON (an escape) but no Unicode character: Python reads it as a lone
#: surrogate, which cannot be hashed, encoded as UTF-8 or answered.
MARK = "LONE-SURROGATE"
APQ = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}


CREATE = """mutation Create($input: CreateInvoiceInput!) {
  createInvoice(input: $input) { invoice { id } userErrors { code } } }"""
INPUT = {
    "customerId": "set by the test",
    "currency": "USD",
    "description": f"Seats{MARK}",
    "lineItems": [{"description": "Seats", "quantity": 1, "unitAmount": "1"}],
}
#: The field each case's error names.
FIELDS = {
    "apq": "query",
    "apq-sse": "query",
    "op-name": "operationName",
    "variables": "variables.f",
    "an-input": "variables.input.description",
}


def customer(gateway: Hostile) -> str:
    return gateway.ids["flexprice_customer"][0]


def with_lone_surrogate(body: dict[str, object]) -> str:
    return json.dumps(body).replace(MARK, "\\ud800")


@pytest.mark.parametrize(
    ("body", "accept"),
    [
        pytest.param({"query": f"{{ __typename }}{MARK}", "extensions": APQ}, None, id="apq"),
        pytest.param(
            {"query": f"{{ __typename }}{MARK}", "extensions": APQ},
            "text/event-stream",
            id="apq-sse",
        ),
        pytest.param({"query": "{ __typename }", "operationName": MARK}, None, id="op-name"),
        pytest.param(
            {
                "query": "query ($f: Int) { invoices(first: $f) { edges { cursor } } }",
                "variables": {"f": MARK},
            },
            None,
            id="variables",
        ),
        pytest.param({"query": CREATE, "variables": {"input": INPUT}}, None, id="an-input"),
    ],
)
def test_a_lone_surrogate_in_a_json_body_is_a_bad_request_not_a_500(
    body: dict[str, object], accept: str | None, request: pytest.FixtureRequest
) -> None:
    request_id = request.node.callspec.id
    headers = {**(WRITE if "input" in str(body) else READ), "content-type": "application/json"}
    if accept:
        headers["accept"] = accept
    with served_gateway() as gateway, httpx.Client(timeout=30) as client:
        if "input" in str(body):  # a customer that exists: the input is good but for its text
            body = {**body, "variables": {"input": {**INPUT, "customerId": customer(gateway)}}}
        gateway.reset_upstream(client)
        answer = client.post(
            f"{gateway.url}/graphql", content=with_lone_surrogate(body).encode(), headers=headers
        )
        assert gateway.upstream(client) == {"flexprice": 0, "xendit": 0}
        assert answer.status_code == 400, answer.text
        assert answer.headers.get("x-request-id")
        assert answer.headers.get("cache-control") == "no-store"
        assert not leaks(answer.status_code, answer.headers, answer.text)
        [error] = answer.json()["errors"]
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert f"`{FIELDS[request_id]}` holds a lone surrogate" in error["message"]
        # The gateway still answers a good request afterwards.
        fine = client.post(f"{gateway.url}/graphql", json={"query": "{ __typename }"}, headers=READ)
        assert fine.json()["data"] == {"__typename": "Query"}


def test_json_logs_hold_the_providers_lines_too() -> None:
    # A provider that sends a status the gateway's table does not know is logged by the
    # provider package (`providers.xendit.mapping`): with GATEWAY_LOG_FORMAT=json that line,
    # as every other, must be one JSON object with the request's id.
    sandbox = xendit_sandbox(api_key=XENDIT)
    state = sandbox.state.sandbox
    owner = next(iter(state.accounts))
    for invoice in state.invoices.values():
        if invoice.user_id == owner:
            invoice.status = "HOSTILE\nINFO:     forged line"
    port = free_port()
    env = clean_env(
        GATEWAY_LOG_FORMAT="json",
        GATEWAY_PROVIDERS="xendit",
        GATEWAY_API_KEYS=f"web:read:{SERVE_KEY}",
    )
    with tempfile.TemporaryDirectory() as folder, ServedApp(sandbox) as upstream:
        env.update(XENDIT_SECRET_KEY=XENDIT, XENDIT_BASE_URL=upstream.url)
        err = Path(folder) / "stderr.log"
        url = f"http://127.0.0.1:{port}"
        with (
            running(["serve", "--port", str(port)], env, f"{url}/healthz", log=err),
            httpx.Client(timeout=30) as client,
        ):
            answer = client.post(
                f"{url}/graphql",
                json={"query": "{ invoices(first: 3) { edges { node { status } } } }"},
                headers={"authorization": f"Bearer {SERVE_KEY}", "x-request-id": "hostile-1"},
            )
            assert answer.status_code == 200, answer.text
            statuses = {e["node"]["status"] for e in answer.json()["data"]["invoices"]["edges"]}
            assert statuses == {"UNKNOWN"}
        lines = err.read_text().splitlines()
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    plain = [line for line in lines if not line.startswith("{")]
    # serve's plain start-up lines come before its logging is set up; none after.
    assert not any("HOSTILE" in line or "forged" in line for line in plain), plain
    [unknown] = [line for line in logged if "unknown invoice status" in line["message"]]
    assert unknown["request_id"] == "hostile-1"
    assert unknown["level"] == "WARNING"


def test_trace_headers_a_client_makes_up_are_logged_short_few_and_as_json() -> None:
    # OpenTelemetry's propagators warn about a malformed `baggage` or `tracestate` and quote
    # it: a client's 8 KB header, on every request.
    port = free_port()
    env = clean_env(
        GATEWAY_LOG_FORMAT="json",
        GATEWAY_API_KEYS=f"web:read:{SERVE_KEY}",
        GATEWAY_LOG_REFUSED_PER_SECOND="2",
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{free_port()}",
        OTEL_TRACES_SAMPLER="always_off",  # headers are read all the same; nothing is exported
    )
    hostile = {
        "authorization": f"Bearer {SERVE_KEY}",
        "baggage": "k=" + "v" * 100 + "," + "x" * 6_000 + ";",
        "tracestate": "a=1," + "y" * 300 + "=bad=",
    }
    sent = 30
    with tempfile.TemporaryDirectory() as folder:
        err = Path(folder) / "stderr.log"
        url = f"http://127.0.0.1:{port}"
        with (
            running(["serve", "--port", str(port)], env, f"{url}/healthz", log=err),
            httpx.Client(timeout=30) as client,
        ):
            started = time.monotonic()
            for _ in range(sent):
                answer = client.post(
                    f"{url}/graphql", json={"query": "{ __typename }"}, headers=hostile
                )
                assert answer.status_code == 200, answer.text
            seconds = time.monotonic() - started
        lines = err.read_text().splitlines()
    assert not [line for line in lines if "xxxxxxxxxx" in line and not line.startswith("{")]
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    about_headers = [line for line in logged if line["logger"].startswith("opentelemetry")]
    assert about_headers, "the propagators' warnings are in the JSON log"
    assert all(len(line["message"]) < 500 for line in about_headers), about_headers[0]
    # 2 a second, and one line a second counting what was held back; sent: 2 * 30 warnings.
    assert len(about_headers) <= 3 * (int(seconds) + 2) < 2 * sent, (len(about_headers), seconds)


def test_a_span_is_named_by_its_route_never_by_a_path_a_client_makes_up() -> None:
    # Tracing backends list span names (an index per name): one name per random path a client
    # asks for would grow it without end. The path itself stays an attribute.
    exporter = InMemorySpanExporter()
    made_up = [f"/guess-{n}-{'z' * 50}" for n in range(5)] + ["/sandbox/flexprice/v1/nothing-1"]
    with (
        served_gateway(tracing=Tracing(SimpleSpanProcessor(exporter))) as gateway,
        httpx.Client(timeout=30) as client,
    ):
        for path in made_up:
            assert client.get(f"{gateway.url}{path}", headers=READ).status_code == 404
        assert client.get(f"{gateway.url}/healthz", headers=READ).status_code == 200
    servers = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER]
    names = {span.name for span in servers}
    assert not [name for name in names if "guess" in name or "nothing" in name], names
    assert "GET /healthz" in names
    paths = {span.attributes["url.path"] for span in servers if span.attributes}
    assert set(made_up) <= paths


@pytest.mark.parametrize(
    ("method", "fields"),
    [
        ("POST", {}),
        ("POST", {"query": ""}),
        ("POST", {"extensions": {}}),
        ("GET", {"extensions": "{}"}),
        ("GET", {"variables": "{}"}),
    ],
)
def test_a_stream_asked_for_without_a_query_is_a_bad_request_not_a_masked_bug(
    method: str, fields: dict[str, object]
) -> None:
    # Over plain JSON this is 400 "No GraphQL query found"; asking for SSE made it a masked
    # bug: INTERNAL_SERVER_ERROR in the stream and a traceback in the bug log, for anyone.
    headers = {**READ, "accept": "text/event-stream", "apollo-require-preflight": "true"}
    with served_gateway() as gateway, httpx.Client(timeout=30) as client:
        url = f"{gateway.url}/graphql"
        if method == "GET":
            answer = client.get(url, params=fields, headers=headers)
        else:
            answer = client.post(url, json=fields, headers=headers)
    assert answer.status_code == 400, answer.text
    assert answer.headers.get("x-request-id")
    assert not leaks(answer.status_code, answer.headers, answer.text)
    [error] = answer.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["message"] == "No GraphQL query found in the request"


def test_a_bug_before_any_answer_is_a_coded_500_naming_the_request(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gateway.view

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug with a secret-looking detail sk_live_x")

    monkeypatch.setattr(gateway.view.GatewayGraphQL, "_post", broken)
    with served_gateway() as gateway, httpx.Client(timeout=30) as client:
        response = client.post(
            f"{gateway.url}/graphql",
            json={"query": "{ __typename }"},
            headers={"authorization": f"Bearer {READ_KEY}", "x-request-id": "bug-1"},
        )
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "bug-1"
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["errors"][0]["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": "bug-1",
    }
    assert "sk_live_x" not in response.text
    assert any("bug-1" in r.getMessage() and r.exc_info for r in caplog.records)
