"""Automatic persisted queries through the served gateway, as Apollo Client's persisted-queries
link speaks them: a hash alone is PERSISTED_QUERY_NOT_FOUND until the query was sent with it,
then runs; over POST and GET (with the preflight header) and the WebSocket; every refusal coded,
with nothing run."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from gateway.persisted.store import MAX_QUERIES, MemoryQueries
from tests.gateway.persisted_served import (
    QUERY,
    Served,
    apq,
    error_of,
    served,
    sha256,
)


@pytest.fixture(scope="module")
def gateway() -> Iterator[Served]:
    with served({"GATEWAY_MAX_BODY_BYTES": "20000"}) as gateway:
        yield gateway


def test_apollo_links_three_requests_over_post(gateway: Served) -> None:
    query = QUERY.replace("Few", "FewPost")
    before = gateway.upstream_total()
    # Apollo Client's body, variables included.
    missing = gateway.post({"operationName": "FewPost", "variables": {}, "extensions": apq(query)})
    assert missing.status_code == 404
    assert error_of(missing) == ("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
    assert gateway.upstream_total() == before  # nothing reached the provider
    assert missing.headers["cache-control"] == "no-store"  # no CDN keeps the miss

    sent = gateway.post({"query": query, "operationName": "FewPost", "extensions": apq(query)})
    assert sent.status_code == 200, sent.text
    edges = sent.json()["data"]["invoices"]["edges"]
    assert edges
    assert "errors" not in sent.json()
    after_register = gateway.upstream_total()
    assert after_register > before

    again = gateway.post({"operationName": "FewPost", "extensions": apq(query)})
    assert again.status_code == 200, again.text
    assert again.json()["data"]["invoices"]["edges"] == edges
    assert gateway.upstream_total() > after_register  # it ran, upstream included


def test_apollo_links_requests_over_get_with_the_preflight_header(gateway: Served) -> None:
    query = QUERY.replace("Few", "FewGet")
    # Apollo Client's query string (useGETForHashedQueries).
    params = {"operationName": "FewGet", "variables": "{}", "extensions": json.dumps(apq(query))}
    before = gateway.upstream_total()
    missing = gateway.get(params)
    assert missing.status_code == 404
    assert missing.headers["cache-control"] == "no-store"
    assert error_of(missing)[0] == "PERSISTED_QUERY_NOT_FOUND"
    assert gateway.upstream_total() == before

    # Without the preflight header a GET is refused, hash or not.
    refused = gateway.get({**params, "query": query}, headers={})
    assert refused.status_code == 400
    assert error_of(refused)[0] == "CSRF_PREVENTED"

    sent = gateway.get({**params, "query": query})
    assert sent.status_code == 200, sent.text
    assert sent.json()["data"]["invoices"]["edges"]
    again = gateway.get(params)
    assert again.status_code == 200, again.text
    assert again.json()["data"] == sent.json()["data"]
    assert gateway.upstream_total() > before


def test_a_hash_registered_over_post_runs_over_get_and_the_reverse(gateway: Served) -> None:
    query = QUERY.replace("Few", "FewBoth")
    assert gateway.post({"query": query, "extensions": apq(query)}).status_code == 200
    hashed = gateway.get({"extensions": json.dumps(apq(query))})
    assert hashed.status_code == 200, hashed.text
    assert hashed.json()["data"]["invoices"]["edges"]


@pytest.mark.parametrize(
    ("extensions", "status", "code", "words"),
    [
        (apq(QUERY, hash_="0" * 64), 400, "PERSISTED_QUERY_HASH_MISMATCH", "not the SHA-256"),
        (apq(QUERY, version=2), 400, "PERSISTED_QUERY_NOT_SUPPORTED", "version` must be 1"),
        (apq(QUERY, version="1"), 400, "PERSISTED_QUERY_NOT_SUPPORTED", "version` must be 1"),
        (apq(QUERY, hash_="abc"), 400, "BAD_REQUEST", "64 hexadecimal digits"),
        (apq(QUERY, hash_="g" * 64), 400, "BAD_REQUEST", "64 hexadecimal digits"),
        ({"persistedQuery": "x"}, 400, "BAD_REQUEST", "must be an object"),
    ],
)
def test_a_bad_persisted_query_is_refused_with_a_code_and_nothing_runs(
    gateway: Served, extensions: dict[str, object], status: int, code: str, words: str
) -> None:
    before = gateway.upstream_total()
    for send in (
        lambda: gateway.post({"query": QUERY, "extensions": extensions}),
        lambda: gateway.get({"query": QUERY, "extensions": json.dumps(extensions)}),
    ):
        response = send()
        assert response.status_code == status, response.text
        got, message = error_of(response)
        assert got == code
        assert words in message
        assert "data" not in response.json()
    assert gateway.upstream_total() == before
    # A mismatched hash registered nothing under either hash.
    for hash_ in (sha256(QUERY), "0" * 64):
        hashed = gateway.post({"extensions": apq(QUERY, hash_=hash_)})
        assert error_of(hashed)[0] == "PERSISTED_QUERY_NOT_FOUND"


def test_an_oversized_query_is_refused_before_anything_runs(gateway: Served) -> None:
    query = QUERY.replace("Few", "Big") + " " * 25_000
    before = gateway.upstream_total()
    response = gateway.post({"query": query, "extensions": apq(query)})
    assert response.status_code == 413
    assert error_of(response)[0] == "REQUEST_TOO_LARGE"
    assert gateway.upstream_total() == before
    assert error_of(gateway.post({"extensions": apq(query)}))[0] == "PERSISTED_QUERY_NOT_FOUND"


def test_a_query_that_fails_validation_is_not_registered(gateway: Served) -> None:
    query = "{ invoices(first: 2) { nope } }"
    refused = gateway.post({"query": query, "extensions": apq(query)})
    assert refused.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    hashed = gateway.post({"extensions": apq(query)})
    assert error_of(hashed)[0] == "PERSISTED_QUERY_NOT_FOUND"


def test_a_persisted_query_meets_the_same_limits_as_the_query_sent_in_full() -> None:
    deep = (
        "{ invoices(first: 1) { edges { node { customer { invoices(first: 1) "
        "{ edges { node { id } } } } } } } }"
    )
    with served({"GATEWAY_MAX_DEPTH": "4", "GATEWAY_PROVIDERS": "flexprice"}) as gateway:
        before = gateway.upstream_total()
        full = gateway.post({"query": deep})
        registered = gateway.post({"query": deep, "extensions": apq(deep)})
        for response in (full, registered):
            assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
        hashed = gateway.post({"extensions": apq(deep)})
        assert error_of(hashed)[0] == "PERSISTED_QUERY_NOT_FOUND"
        assert gateway.upstream_total() == before


def test_apq_off_answers_not_supported_so_the_link_sends_queries_in_full() -> None:
    with served({"GATEWAY_APQ": "false"}) as gateway:
        for body in ({"extensions": apq(QUERY)}, {"query": QUERY, "extensions": apq(QUERY)}):
            response = gateway.post(body)
            assert response.status_code == 400
            assert error_of(response) == (
                "PERSISTED_QUERY_NOT_SUPPORTED",
                "PersistedQueryNotSupported",
            )
        assert gateway.post({"query": QUERY}).json()["data"]["invoices"]["edges"]


def test_a_persisted_query_needs_a_key_as_any_query() -> None:
    keys = "billing:write:writer-0123456789abcdef"
    with served({"GATEWAY_API_KEYS": keys}) as gateway:
        response = gateway.post({"extensions": apq(QUERY)})
        assert response.status_code == 401
        assert error_of(response)[0] == "UNAUTHENTICATED"


def test_over_the_websocket_a_hash_names_a_registered_query(gateway: Served) -> None:
    query = QUERY.replace("Few", "FewSocket")
    url = gateway.url.replace("http://", "ws://") + "/graphql"
    answers = []
    with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=10) as ws:
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        subscribe = {"type": "subscribe", "payload": {"extensions": apq(query)}}
        ws.send(json.dumps({"id": "1", **subscribe}))
        answers.append(json.loads(ws.recv(timeout=10)))
        registered = gateway.post({"query": query, "extensions": apq(query)})
        assert registered.status_code == 200
        ws.send(json.dumps({"id": "2", **subscribe}))
        answers.append(json.loads(ws.recv(timeout=10)))
    missing, run = answers
    assert missing["type"] == "error"
    assert missing["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert run["type"] == "next"
    assert run["payload"]["data"]["invoices"]["edges"]


def test_registrations_are_bounded_in_bytes_least_recently_used_out_first() -> None:
    queries = [f"query Q{n} {{ providers {{ name }} }}" for n in range(60)]
    with served({"GATEWAY_APQ_CACHE_BYTES": "8000"}) as gateway:
        for query in queries:
            assert gateway.post({"query": query, "extensions": apq(query)}).status_code == 200
        oldest = gateway.post({"extensions": apq(queries[0])})
        assert error_of(oldest)[0] == "PERSISTED_QUERY_NOT_FOUND"
        newest = gateway.post({"extensions": apq(queries[-1])})
        assert newest.json()["data"]["providers"]
        # A query over a sixteenth of the bound runs, and is never kept.
        big = "query Big { providers { name } }" + " " * 600
        assert gateway.post({"query": big, "extensions": apq(big)}).json()["data"]["providers"]
        assert error_of(gateway.post({"extensions": apq(big)}))[0] == "PERSISTED_QUERY_NOT_FOUND"


async def test_the_memory_store_keeps_at_most_max_queries() -> None:
    store = MemoryQueries(1 << 30)
    for n in range(MAX_QUERIES + 5):
        await store.put(f"{n:064x}", "{ providers { name } }")
    assert len(store) == MAX_QUERIES
    assert await store.get(f"{0:064x}") is None
    assert await store.get(f"{MAX_QUERIES + 4:064x}") == "{ providers { name } }"


def test_a_query_that_is_no_unicode_text_is_refused_not_hashed(gateway: Served) -> None:
    # JSON can carry a lone surrogate, which UTF-8 cannot: it has no SHA-256 (it was a 500).
    body = '{"query": "{ __typename } # \\ud800", "extensions": ' + json.dumps(apq("x")) + "}"
    refused = gateway.http.post(
        f"{gateway.url}/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert refused.status_code == 400
    assert error_of(refused)[0] == "BAD_REQUEST"
    assert "lone surrogate" in error_of(refused)[1]
