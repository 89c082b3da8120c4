"""A POST with a JSON body is answered by the view itself (`GatewayGraphQL._post`), not by
Strawberry's `run`, and the answer is byte for byte the one `run` gives: status, headers and
body, for operations that run and for every way a request can be refused before or during
execution.

Regression: `run` built a Starlette request and a sub-response, parsed the content type with
`email.message` and looked for stream transports on every request: about a fifth of the CPU of
a `{ __typename }` request. Served over HTTP on 127.0.0.1; no test here asserts a duration.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.view import GatewayGraphQL
from tests.gateway.hostile import READ_KEY, WRITE_KEY, Hostile, served_gateway

JSON = "application/json"

#: (content type, body): each is sent as is.
REQUESTS: list[tuple[str, bytes]] = [
    (JSON, b'{"query": "{ __typename }"}'),
    ("application/json; charset=utf-8", b'{"query": "{ __typename }"}'),
    (JSON, b'{"query": "{ invoices(first: 2) { edges { node { id status } } } }"}'),
    (JSON, b"{"),
    (JSON, b"[]"),
    (JSON, b"null"),
    (JSON, b'{"query": 5}'),
    (JSON, b'{"query": "{ __typename }", "variables": []}'),
    (JSON, b'{"query": "{ __typename }", "extensions": "x"}'),
    (JSON, b"{}"),
    (JSON, b'{"query": null}'),
    (JSON, b'{"query": "query A { __typename } query B { __typename }"}'),
    (JSON, b'{"query": "query A { __typename }", "operationName": "C"}'),
    (JSON, b'{"query": "subscription { invoices }"}'),
    (JSON, b'{"query": "{ nope }"}'),
    (JSON, b'{"query": "{"}'),
    (
        JSON,
        b'{"query": "query($n: Int) { invoices(first: $n) { totalCount } }", '
        b'"variables": {"n": "x"}}',
    ),
    (JSON, b'{"query": "mutation { createInvoice(input: {}) { __typename } }"}'),
    (JSON, b'{"query": "{ invoice(id: \\"bm90IGFuIGlk\\") { id } }"}'),
    (JSON, b'{"query": "{ a: __typename b: __typename c: __typename }"}'),
    ("Application/JSON", b'{"query": "{ __typename }"}'),
    ("text/plain", b'{"query": "{ __typename }"}'),
]


@pytest.fixture(scope="module")
def gateway() -> Iterator[Hostile]:
    with served_gateway(max_aliases=2) as served:
        yield served


def view(app: Any) -> GatewayGraphQL:
    for route in app.routes:
        if isinstance(getattr(route, "app", None), GatewayGraphQL):
            return route.app  # type: ignore[no-any-return]
        if isinstance(getattr(route, "endpoint", None), GatewayGraphQL):
            return route.endpoint  # type: ignore[no-any-return]
    raise AssertionError("no GraphQL view among the routes")


def answers(gateway: Hostile, key: str) -> list[tuple[int, list[tuple[str, str]], bytes]]:
    out = []
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        for kind, body in REQUESTS:
            response = client.post(
                "/graphql",
                content=body,
                headers={
                    "content-type": kind,
                    "authorization": f"Bearer {key}",
                    "x-request-id": "direct-post-test",
                },
            )
            headers = [(k, v) for k, v in response.headers.multi_items() if k != "date"]
            out.append((response.status_code, headers, response.content))
    return out


@pytest.mark.parametrize("key", [WRITE_KEY, READ_KEY], ids=["write", "read"])
def test_the_view_answers_as_strawberrys_run(gateway: Hostile, key: str) -> None:
    graphql = view(gateway.app)
    assert graphql._direct_posts
    direct = answers(gateway, key)
    graphql._direct_posts = False
    try:
        through_run = answers(gateway, key)
    finally:
        graphql._direct_posts = True
    for (kind, body), one, other in zip(REQUESTS, direct, through_run, strict=True):
        assert one == other, (kind, body)
    statuses = {status for status, _, _ in direct}
    assert statuses == {200, 400}  # both kinds of answer were compared
    first = json.loads(direct[2][2])
    assert len(first["data"]["invoices"]["edges"]) == 2  # one that reached a provider


def test_a_json_post_skips_strawberrys_run(
    gateway: Hostile, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[str] = []
    real = GatewayGraphQL.run

    async def counted(self: GatewayGraphQL, request: Any, *args: Any, **kwargs: Any) -> Any:
        runs.append(request.method)
        return await real(self, request, *args, **kwargs)

    monkeypatch.setattr(GatewayGraphQL, "run", counted)
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        auth = {"authorization": f"Bearer {READ_KEY}"}
        posted = client.post("/graphql", json={"query": "{ __typename }"}, headers=auth)
        assert posted.json()["data"] == {"__typename": "Query"}
        assert runs == []
        # A GET operation (with its preflight header) still goes through Strawberry's run.
        got = client.get(
            "/graphql",
            params={"query": "{ __typename }"},
            headers={**auth, "apollo-require-preflight": "1"},
        )
        assert got.json()["data"] == {"__typename": "Query"}
        assert runs == ["GET"]
