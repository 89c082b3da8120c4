"""The cache of parsed and validated queries holds a bounded amount of memory.

Regression: Strawberry's ParserCache and ValidationCache kept 256 documents whatever their size,
so 260 distinct ~950 kB queries took a process from 82 to 558 MB. Memory is measured with
tracemalloc around requests to the app (in-process, so the server's allocations are the ones
traced); no test here asserts a duration.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import GraphQLError, specified_rules

from gateway.app import create_app, providers_from_environment
from gateway.documents import DocumentCache, estimated_size
from gateway.schema import build_schema
from gateway.settings import GatewaySettings

BUDGET = 2_000_000
MB = 1_000_000
#: What a run may keep besides the cache: one-off growth elsewhere (the interpreter's table of
#: interned strings alone grew by 1.9 MB once, importing a module mid-test).
SLACK = 4 * MB


@pytest.fixture
async def app() -> AsyncIterator[Any]:
    settings = GatewaySettings(document_cache_bytes=BUDGET)
    providers = providers_from_environment(settings, {})
    yield create_app(settings=settings, providers=providers)
    for wired in providers.values():
        await wired.provider.aclose()


def commented(n: int, size: int) -> str:
    """A distinct document of about `size` characters that runs nothing upstream: one comment
    is one token, so it passes the token limit at any length."""
    return f"query Q{n} {{ __typename }}\n# {'x' * size}\n"


async def retained_after(app: Any, queries: list[str]) -> int:
    """Bytes still allocated, after a collection, by sending `queries` (each must answer)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        await client.post("/graphql", json={"query": "{ __typename }"})  # warm up
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for query in queries:
                response = await client.post("/graphql", json={"query": query})
                assert response.json()["data"] == {"__typename": "Query"}, response.text
            del response
            gc.collect()
            return tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()


async def test_large_distinct_queries_are_not_kept(app: Any) -> None:
    # 30 distinct documents of 450 kB: 13.5 MB of text, 27 MB as parsed (text and token values).
    queries = [commented(n, 450_000) for n in range(30)]
    retained = await retained_after(app, queries)
    assert retained < SLACK, f"{retained / MB:.1f} MB kept for 30 large queries"
    documents: DocumentCache = app.state.documents
    assert documents.size < 10_000  # only the warm-up's `{ __typename }`: each is over BUDGET/16


async def test_what_the_cache_keeps_adds_up_to_at_most_its_budget(app: Any) -> None:
    # 200 distinct 30 kB documents (12 MB parsed) fit one by one, not all together.
    queries = [commented(n, 30_000) for n in range(200)]
    retained = await retained_after(app, queries)
    documents: DocumentCache = app.state.documents
    assert 0 < len(documents) < 200
    assert documents.size <= BUDGET
    assert retained < BUDGET + SLACK, f"{retained / MB:.1f} MB kept, budget {BUDGET / MB} MB"


# -- DocumentCache ------------------------------------------------------------------------


def test_a_repeated_query_is_parsed_and_validated_once() -> None:
    schema = build_schema()._schema
    cache = DocumentCache(1_000_000)
    document = cache.parse("{ __typename }", {})
    assert cache.parse("{ __typename }", {}) is document
    assert cache.parse("{ __typename }", {"max_tokens": 5}) is not document  # other options
    errors = cache.validate(schema, document, (), query="{ __typename }", options={})
    assert errors == []
    assert len(cache) == 2


def test_validation_errors_are_remembered_as_copies() -> None:
    schema = build_schema()._schema
    cache = DocumentCache(1_000_000)
    query = "{ nope }"
    document = cache.parse(query, {})
    rules = tuple(specified_rules)
    first = cache.validate(schema, document, rules, query=query, options={})
    assert [type(e) for e in first] == [GraphQLError]
    first.append(GraphQLError("added by a caller"))
    again = cache.validate(schema, document, rules, query=query, options={})
    assert len(again) == 1
    assert again[0] is first[0]


def test_the_least_recently_used_go_first_and_the_size_is_the_sum_kept() -> None:
    queries = [f"query Q{n:02} {{ __typename }}" for n in range(20)]
    one = estimated_size(queries[0], DocumentCache(10**9).parse(queries[0], {}))
    cache = DocumentCache(one * 16 + one // 2)  # room for 16 (each within a sixteenth)
    for query in queries[:16]:
        cache.parse(query, {})
    kept = cache.parse(queries[0], {})  # used again: now the most recent
    cache.parse(queries[16], {})  # one more: Q01, the least recently used, goes
    assert len(cache) == 16
    assert cache.parse(queries[0], {}) is kept
    assert cache.size <= cache.max_bytes
    assert cache.size == 16 * one
    cache.parse(queries[1], {})  # parsed again, and kept again: Q02 goes
    assert len(cache) == 16


def test_a_budget_of_zero_keeps_nothing() -> None:
    cache = DocumentCache(0)
    assert cache.parse("{ __typename }", {}) is not cache.parse("{ __typename }", {})
    assert (len(cache), cache.size) == (0, 0)


def test_the_estimate_counts_every_token() -> None:
    cache = DocumentCache(10**9)
    small = "{ __typename }"
    many = "{ " + "__typename " * 500 + "}"
    assert estimated_size(many, cache.parse(many, {})) > 500 * 500
    assert estimated_size(small, cache.parse(small, {})) < 5_000
