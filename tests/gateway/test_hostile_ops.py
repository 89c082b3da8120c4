"""The operating surface (request records, metrics, persisted documents, HTTP conventions) under
a hostile client, through the served gateway: what a client can send must not grow the metrics
without end, nor turn into a 500."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.gateway.hostile import READ_KEY, served_gateway

READ = {"authorization": f"Bearer {READ_KEY}"}
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
