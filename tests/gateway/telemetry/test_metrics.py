"""/metrics after a scripted mix of requests: every count exact, read as Prometheus reads it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.ids import GlobalId, NodeType
from tests.gateway.hostile import CONTROL, READ_KEY, WRITE_KEY, Hostile, served_gateway

READ = {"authorization": f"Bearer {READ_KEY}"}
WRITE = {"authorization": f"Bearer {WRITE_KEY}"}
XENDIT_ONLY = 'query { invoices(first: 1, filter: {provider: "xendit"}) { edges { node { id } } } }'
LISTING = "query Listing { invoices(first: 3) { edges { node { id } } } }"
CREATE = """mutation Create($input: CreateInvoiceInput!) { createInvoice(input: $input) {
  invoice { providerId } userErrors { code } } }"""

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(gateway: Hostile, client: httpx.Client, **headers: str) -> Samples:
    response = client.get(f"{gateway.url}/metrics", headers={**READ, **headers})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name` over every series whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, found), v in samples.items() if n == name and wanted <= found)


def post(
    gateway: Hostile, client: httpx.Client, query: str, headers: dict[str, str], **kw: Any
) -> dict[str, Any]:
    response = client.post(f"{gateway.url}/graphql", json={"query": query, **kw}, headers=headers)
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def gateway() -> Iterator[Hostile]:
    # QUERY_TOO_COSTLY below 3 listings' worth of calls; the breaker opens after 2 failures.
    with served_gateway(max_cost=5) as served:
        yield served


def faults(gateway: Hostile, client: httpx.Client, provider: str, **settings: Any) -> None:
    url = f"{gateway.url}/sandbox/{provider}/_sandbox/faults"
    response = (
        client.put(url, json=settings, headers=CONTROL)
        if settings
        else client.delete(url, headers=CONTROL)
    )
    assert response.status_code == 200, response.text


def test_a_scripted_mix_is_counted_exactly(gateway: Hostile) -> None:
    with httpx.Client(timeout=30) as client:
        gateway.reset_upstream(client)
        for _ in range(3):
            assert "errors" not in post(gateway, client, LISTING, READ)
        assert client.post(f"{gateway.url}/graphql", json={"query": LISTING}).status_code == 401
        assert (
            post(gateway, client, "query Bad { nope }", READ)["errors"][0]["extensions"]["code"]
            == "GRAPHQL_VALIDATION_FAILED"
        )
        costly = " ".join(
            f"a{i}: invoices(first: 1) {{ edges {{ node {{ id }} }} }}" for i in range(4)
        )
        refused = post(gateway, client, f"query Costly {{ {costly} }}", READ)
        assert refused["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"

        # Xendit fails every call: the listing is partial, Xendit's calls retried.
        faults(gateway, client, "xendit", error_rate=1.0, status=503)
        partial = post(gateway, client, LISTING, READ)
        extensions = partial["errors"][0]["extensions"]
        assert (extensions["code"], extensions["provider"]) == ("PROVIDER_UNAVAILABLE", "xendit")
        assert partial["data"]["invoices"]["edges"]
        faults(gateway, client, "xendit")

        customer = GlobalId(
            NodeType.CUSTOMER, "flexprice", sorted(gateway.sandbox("flexprice").customers)[0]
        ).encode()
        create = {
            "input": {
                "customerId": customer,
                "currency": "USD",
                "idempotencyKey": "metrics-1",
                "lineItems": [{"description": "Plan", "quantity": "1", "unitAmount": "10"}],
            }
        }
        first = post(gateway, client, CREATE, WRITE, variables=create)
        again = post(gateway, client, CREATE, WRITE, variables=create)
        assert (
            first["data"]["createInvoice"]["invoice"] == again["data"]["createInvoice"]["invoice"]
        )

        served = {
            name: client.get(f"{gateway.url}/sandbox/{name}/_sandbox/stats", headers=CONTROL).json()
            for name in ("flexprice", "xendit")
        }
        for name in ("flexprice", "xendit"):
            print(
                client.get(f"{gateway.url}/sandbox/{name}/_sandbox/stats", headers=CONTROL).json()
            )
        samples = scrape(gateway, client)

    requests = "gateway_requests_total"
    assert value(samples, requests, operation="Listing", type="query", outcome="OK") == 3
    assert (
        value(samples, requests, operation="Listing", type="query", outcome="PROVIDER_UNAVAILABLE")
        == 1
    )
    assert (
        value(samples, requests, operation="Bad", type="query", outcome="GRAPHQL_VALIDATION_FAILED")
        == 1
    )
    assert (
        value(samples, requests, operation="Costly", type="query", outcome="QUERY_TOO_COSTLY") == 1
    )
    assert (
        value(samples, requests, operation="~anonymous", type="unknown", outcome="UNAUTHENTICATED")
        == 1
    )
    assert value(samples, requests, operation="Create", type="mutation", outcome="OK") == 2
    assert (
        total(samples, requests) == 9
    )  # nothing else: /metrics and the sandboxes' routes are not operations
    assert (
        value(samples, "gateway_request_duration_seconds_count", operation="Listing", type="query")
        == 4
    )

    refused = "gateway_refused_operations_total"
    assert {labels: v for (n, labels), v in samples.items() if n == refused} == {
        frozenset({("code", "UNAUTHENTICATED")}): 1,
        frozenset({("code", "GRAPHQL_VALIDATION_FAILED")}): 1,
        frozenset({("code", "QUERY_TOO_COSTLY")}): 1,
    }

    calls = "gateway_upstream_requests_total"
    # What the gateway counted is what each sandbox served, call for call (no route here has
    # an id, so the sandbox's path is the route template, below FlexPrice's /v1).
    for provider, stats in served.items():
        assert total(samples, calls, provider=provider) == stats["requests_total"]
        for call, count in stats["requests"].items():
            method, path = call.split(" ", 1)
            route = path.removeprefix("/v1") if provider == "flexprice" else path
            assert total(samples, calls, provider=provider, route=route, method=method) == count
    assert (
        value(samples, calls, provider="xendit", route="/v2/invoices", method="GET", status="200")
        == 3
    )
    assert (
        value(samples, calls, provider="xendit", route="/v2/invoices", method="GET", status="503")
        == 3
    )  # the attempts
    assert (
        value(
            samples,
            "gateway_upstream_request_duration_seconds_count",
            provider="xendit",
            route="/v2/invoices",
        )
        == 6
    )

    assert (
        value(
            samples,
            "gateway_partial_failures_total",
            provider="xendit",
            code="PROVIDER_UNAVAILABLE",
        )
        == 1
    )
    assert value(samples, "gateway_idempotency_requests_total", outcome="created") == 1
    assert value(samples, "gateway_idempotency_requests_total", outcome="replayed") == 1
    for provider in ("flexprice", "xendit"):
        assert (
            value(samples, "gateway_upstream_circuit_state", provider=provider, state="closed") == 1
        )
        assert (
            value(samples, "gateway_upstream_circuit_state", provider=provider, state="open") == 0
        )
        assert value(samples, "gateway_upstream_in_flight", provider=provider) == 0


def test_the_breaker_opening_shows_and_its_refusals_are_counted(gateway: Hostile) -> None:
    with httpx.Client(timeout=30) as client:
        faults(gateway, client, "xendit", error_rate=1.0, status=503)
        # FAST's breaker opens after 5 failed calls (each after its retries).
        for _ in range(6):
            post(gateway, client, XENDIT_ONLY, READ)
        samples = scrape(gateway, client)
    assert value(samples, "gateway_upstream_circuit_state", provider="xendit", state="open") == 1
    assert value(samples, "gateway_upstream_circuit_state", provider="xendit", state="closed") == 0
    assert value(samples, "gateway_upstream_circuit_opened_total", provider="xendit") == 1
    assert (
        value(samples, "gateway_upstream_rejected_calls_total", provider="xendit", guard="circuit")
        == 1
    )
    assert (
        value(samples, "gateway_upstream_circuit_state", provider="flexprice", state="closed") == 1
    )
    assert (
        value(
            samples,
            "gateway_requests_total",
            operation="~anonymous",
            type="query",
            outcome="PROVIDER_CIRCUIT_OPEN",
        )
        == 1
    )


def test_metrics_need_a_key_and_name_no_key(gateway: Hostile) -> None:
    with httpx.Client(timeout=30) as client:
        assert client.get(f"{gateway.url}/metrics").status_code == 401
        post(gateway, client, LISTING, READ)
        text = client.get(f"{gateway.url}/metrics", headers=READ).text
    assert "SENTINEL" not in text


def test_operation_names_are_bounded(gateway: Hostile, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gateway.telemetry.metrics.MAX_OPERATION_NAMES", 2)
    with httpx.Client(timeout=30) as client:
        for name in ("One", "Two", "Three", "Four"):
            post(gateway, client, f"query {name} {{ __typename }}", READ)
        samples = scrape(gateway, client)
    names = {
        dict(labels)["operation"]
        for (n, labels), _ in samples.items()
        if n == "gateway_requests_total"
    }
    assert names == {"One", "Two", "~other"}
    assert (
        value(samples, "gateway_requests_total", operation="~other", type="query", outcome="OK")
        == 2
    )
