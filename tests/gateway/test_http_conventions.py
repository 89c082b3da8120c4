"""The HTTP conventions clients expect, through the served gateway over real HTTP: the media
type of an answer and its status (the GraphQL-over-HTTP spec), `Cache-Control: no-store`, a
document with several operations, and CORS preflights. Compression is in
test_http_compression.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.gateway.hostile import READ_KEY, Hostile, served_gateway

ORIGIN = "https://app.example.com"
KEY = {"authorization": f"Bearer {READ_KEY}"}
NEW = "application/graphql-response+json"
PREFLIGHT = {"apollo-require-preflight": "true"}
TWO = "query A { __typename } query B { providers { name } }"


@pytest.fixture(scope="module")
def gateway() -> Iterator[Hostile]:
    with served_gateway(cors_origins=(ORIGIN,), max_cost=20, max_body_bytes=4096) as served:
        yield served


@pytest.fixture
def client(gateway: Hostile) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.url, headers=KEY, timeout=10) as http:
        yield http


def post(
    client: httpx.Client, body: Any, accept: str | None = None, **headers: str
) -> httpx.Response:
    sent = {"content-type": "application/json", **headers}
    if accept is not None:
        sent["accept"] = accept
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/graphql", content=content, headers=sent)


def get(client: httpx.Client, accept: str | None = None, **params: Any) -> httpx.Response:
    """A GET operation; `variables` sent as JSON when given."""
    headers = {**PREFLIGHT, **({"accept": accept} if accept else {})}
    if params.get("variables") is not None:
        params["variables"] = json.dumps(params["variables"])
    sent = {name: value for name, value in params.items() if value is not None}
    return client.get("/graphql", params=sent, headers=headers)


def codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json()["errors"]]


# -- application/graphql-response+json ----------------------------------------------------------

COSTLY = (
    "{ invoices(first: 100) { edges { node { customer { invoices(first: 100) "
    "{ edges { cursor } } } } } } }"
)
#: Requests refused before anything ran: (query, variables, code).
REFUSED = [
    pytest.param("{", None, "GRAPHQL_VALIDATION_FAILED", id="parse-error"),
    pytest.param("{ nope }", None, "GRAPHQL_VALIDATION_FAILED", id="validation-error"),
    pytest.param(
        "query($n: Int) { invoices(first: $n) { edges { cursor } } }",
        {"n": "many"},
        "GRAPHQL_VALIDATION_FAILED",
        id="variable-coercion",
    ),
    pytest.param(TWO, None, "GRAPHQL_VALIDATION_FAILED", id="two-operations-no-name"),
    pytest.param(COSTLY, None, "QUERY_TOO_COSTLY", id="too-costly"),
    pytest.param(
        "{ " + " ".join(f"a{n}: __typename" for n in range(31)) + " }",
        None,
        "TOO_MANY_ALIASES",
        id="too-many-aliases",
    ),
]


@pytest.mark.parametrize(("query", "variables", "code"), REFUSED)
def test_a_request_refused_before_it_ran_is_400_without_data_in_the_new_media_type(
    client: httpx.Client, query: str, variables: dict[str, Any] | None, code: str
) -> None:
    body = {"query": query, "variables": variables}
    for response in (
        post(client, body, accept=NEW),  # the view's own POST path
        get(client, accept=NEW, query=query, variables=variables),  # Strawberry's
    ):
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == f"{NEW}; charset=utf-8"
        assert "data" not in response.json()  # a request error has no data entry
        assert codes(response)[0] == code


@pytest.mark.parametrize(("query", "variables", "code"), REFUSED)
def test_application_json_keeps_200_with_null_data_for_the_same_refusals(
    client: httpx.Client, query: str, variables: dict[str, Any] | None, code: str
) -> None:
    body = {"query": query, "variables": variables}
    for response in (
        post(client, body, accept="application/json"),
        get(client, accept="application/json", query=query, variables=variables),
    ):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.json()["data"] is None
        assert codes(response)[0] == code


def test_an_operation_that_ran_is_200_with_its_errors_in_the_new_media_type(
    client: httpx.Client,
) -> None:
    query = '{ invoice(id: "not-an-id") { id } providers { name } }'
    for response in (post(client, {"query": query}, accept=NEW), get(client, NEW, query=query)):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == f"{NEW}; charset=utf-8"
        answer = response.json()
        assert answer["data"]["invoice"] is None
        assert {p["name"] for p in answer["data"]["providers"]} == {"flexprice", "xendit"}
        assert codes(response) == ["INVALID_ID"]


def test_a_read_keys_mutation_is_a_field_error_so_200_in_the_new_media_type(
    client: httpx.Client,
) -> None:
    # voidInvoice's payload is non-null: its error nulls `data`, yet the operation ran.
    mutation = 'mutation { voidInvoice(input: {id: "x"}) { userErrors { code } } }'
    response = post(client, {"query": mutation}, accept=NEW)
    assert response.status_code == 200, response.text
    assert codes(response) == ["FORBIDDEN"]
    assert response.json()["data"] is None
    assert response.json()["errors"][0]["path"] == ["voidInvoice"]


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (f"{NEW}, application/json;q=0.9", NEW),  # what Apollo Client sends
        (f"{NEW}, application/json", NEW),  # equal q: the first listed
        (f"application/json, {NEW}", "application/json"),
        (f"{NEW};q=0.5, application/json", "application/json"),
        (f"application/json;q=0.5, {NEW}", NEW),
        (f"application/json;q=0, {NEW};q=0.1", NEW),
        ("*/*", "application/json"),  # the spec's legacy default
        ("application/*", "application/json"),
        ("application/json;q=0, */*", NEW),  # json refused by name, the other by wildcard
        (f"text/html, {NEW};q=0.8", NEW),
        ("APPLICATION/GRAPHQL-RESPONSE+JSON", NEW),
    ],
)
def test_the_media_type_is_the_one_accept_prefers(
    client: httpx.Client, accept: str, media: str
) -> None:
    for response in (
        post(client, {"query": "{ nope }"}, accept=accept),
        get(client, accept, query="{ nope }"),
    ):
        assert response.headers["content-type"].split(";")[0] == media
        assert response.status_code == (400 if media == NEW else 200)


def test_without_an_accept_header_the_answer_is_application_json(gateway: Hostile) -> None:
    with httpx.Client(base_url=gateway.url, headers=KEY, timeout=10) as http:
        del http.headers["accept"]
        response = http.post("/graphql", json={"query": "{ nope }"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["data"] is None


@pytest.mark.parametrize("accept", ["text/html", "application/xml", f"{NEW};q=0, text/plain"])
def test_an_accept_that_allows_neither_type_is_406_before_anything_runs(
    client: httpx.Client, accept: str
) -> None:
    for response in (
        post(client, {"query": "{ providers { name } }"}, accept=accept),
        get(client, accept, query="{ providers { name } }"),
    ):
        assert response.status_code == 406, response.text
        assert codes(response) == ["NOT_ACCEPTABLE"]
        assert NEW in response.json()["errors"][0]["message"]


def test_graphiql_and_a_stream_keep_their_own_media_types(client: httpx.Client) -> None:
    page = client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    with client.stream(
        "POST",
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"accept": "text/event-stream"},
    ) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")


def test_unreadable_requests_keep_their_4xx_and_carry_the_new_media_type(
    client: httpx.Client,
) -> None:
    for body in (b"NONSENSE", b"[]", b'{"query": 5}', b'{"qeury": "{ __typename }"}'):
        response = post(client, body, accept=NEW)
        assert response.status_code == 400, (body, response.text)
        assert response.headers["content-type"] == f"{NEW}; charset=utf-8"
        assert codes(response) == ["BAD_REQUEST"]
        legacy = post(client, body, accept="application/json")
        assert legacy.status_code == 400
        assert legacy.headers["content-type"] == "application/json"


# -- several operations ---------------------------------------------------------------------


def test_operation_name_runs_the_operation_it_names(client: httpx.Client) -> None:
    for accept in (NEW, "application/json"):
        for response in (
            post(client, {"query": TWO, "operationName": "B"}, accept=accept),
            get(client, accept, query=TWO, operationName="B"),
        ):
            assert response.status_code == 200, response.text
            assert "errors" not in response.json()
            assert response.json()["data"]["providers"]
        a = post(client, {"query": TWO, "operationName": "A"}, accept=accept)
        assert a.json()["data"] == {"__typename": "Query"}


def test_two_operations_without_operation_name_say_what_is_missing(client: httpx.Client) -> None:
    response = post(client, {"query": TWO}, accept=NEW)
    assert response.status_code == 400
    message = response.json()["errors"][0]["message"]
    assert "operationName" in message
    assert "multiple operations" in message


def test_an_unknown_operation_name_is_400_naming_it(client: httpx.Client) -> None:
    for accept in (NEW, "application/json"):
        for response in (
            post(client, {"query": TWO, "operationName": "C"}, accept=accept),
            get(client, accept, query=TWO, operationName="C"),
        ):
            assert response.status_code == 400, response.text
            assert codes(response) == ["BAD_REQUEST"]
            assert response.json()["errors"][0]["message"] == 'Unknown operation named "C".'


@pytest.mark.parametrize("name", [5, True, {"a": 1}, ["A"]])
def test_an_operation_name_that_is_not_a_string_is_400_naming_the_field(
    client: httpx.Client, name: Any
) -> None:
    body = {"query": TWO, "operationName": name}
    sse = {"accept": "text/event-stream"}  # read by Strawberry's run, not the view's POST
    for response in (post(client, body), post(client, body, **sse)):
        assert response.status_code == 400, response.text
        assert codes(response) == ["BAD_REQUEST"]
        assert "`operationName` must be a string or null" in response.json()["errors"][0]["message"]


# -- Cache-Control --------------------------------------------------------------------------


def test_every_answer_of_graphql_says_no_store(gateway: Hostile, client: httpx.Client) -> None:
    listing = "{ invoices(first: 2) { edges { cursor } } }"
    answers = {
        "executed POST": post(client, {"query": listing}),
        "executed GET": get(client, query=listing),
        "refused in the new type": post(client, {"query": "{"}, accept=NEW),
        "unreadable": post(client, b"NONSENSE"),
        "406": post(client, {"query": listing}, accept="text/html"),
        "CSRF refusal": client.get("/graphql", params={"query": listing}),
        "413": post(client, {"query": listing, "pad": "x" * 5000}),
        "401": httpx.post(f"{gateway.url}/graphql", json={"query": listing}),
        "GraphiQL page": client.get("/graphql", headers={"accept": "text/html"}),
        "preflight": client.options(
            "/graphql",
            headers={"origin": ORIGIN, "access-control-request-method": "POST"},
        ),
    }
    statuses = {kind: answer.status_code for kind, answer in answers.items()}
    assert statuses == {
        "executed POST": 200,
        "executed GET": 200,
        "refused in the new type": 400,
        "unreadable": 400,
        "406": 406,
        "CSRF refusal": 400,
        "413": 413,
        "401": 401,
        "GraphiQL page": 200,
        "preflight": 200,
    }
    assert {kind: a.headers.get("cache-control") for kind, a in answers.items()} == {
        kind: "no-store" for kind in answers
    }
    with client.stream(
        "POST",
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"accept": "text/event-stream"},
    ) as stream:
        assert stream.headers["cache-control"] == "no-store"
    # Not the other routes: GraphiQL's files keep their own rule.
    assert client.get("/_graphiql/page.css").headers["cache-control"] != "no-store"


# -- CORS -----------------------------------------------------------------------------------

#: What browsers' GraphQL clients and tracing send cross-origin.
CLIENT_HEADERS = [
    "apollographql-client-name",
    "apollographql-client-version",
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "graphql-client-name",
    "graphql-client-version",
    "traceparent",
    "tracestate",
    "baggage",
    "authorization",
    "x-api-key",
    "x-request-id",
    "content-type",
]


def preflight(gateway: Hostile, headers: str, origin: str = ORIGIN) -> httpx.Response:
    return httpx.options(
        f"{gateway.url}/graphql",
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": headers,
        },
    )


@pytest.mark.parametrize("header", CLIENT_HEADERS)
def test_a_preflight_for_each_header_clients_send_is_allowed(gateway: Hostile, header: str) -> None:
    response = preflight(gateway, header)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == ORIGIN
    allowed = response.headers["access-control-allow-headers"].lower().split(", ")
    assert header in allowed


def test_a_preflight_for_what_apollo_client_sends_at_once_is_allowed(gateway: Hostile) -> None:
    response = preflight(
        gateway,
        "Apollographql-Client-Name,apollographql-client-version,content-type,traceparent",
    )
    assert response.status_code == 200, response.text


def test_a_preflight_for_another_header_or_from_another_origin_is_refused(
    gateway: Hostile,
) -> None:
    other_header = preflight(gateway, "traceparent,x-forwarded-user")
    assert other_header.status_code == 400
    assert other_header.text == "Disallowed CORS headers"
    allowed = other_header.headers["access-control-allow-headers"].lower().split(", ")
    assert "x-forwarded-user" not in allowed  # what the browser checks: it sends nothing
    other_origin = preflight(gateway, "traceparent", origin="https://evil.example")
    assert other_origin.status_code == 400
    assert "access-control-allow-origin" not in other_origin.headers


def test_a_cross_origin_answer_exposes_the_request_id(gateway: Hostile) -> None:
    response = httpx.post(
        f"{gateway.url}/graphql",
        json={"query": "{ __typename }"},
        headers={**KEY, "origin": ORIGIN, "traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-expose-headers"].lower() == "x-request-id"
    assert response.headers["x-request-id"]


# -- statuses that no request of the served gateway reaches on purpose ----------------------


def test_a_masked_bug_before_execution_is_500_and_a_nulled_answer_that_ran_is_200() -> None:
    # No request can make the served gateway fail before execution on purpose: the rule
    # itself, on the results Strawberry would hand the view.
    from graphql import GraphQLError
    from strawberry.http import GraphQLHTTPResponse
    from strawberry.types import ExecutionResult

    from gateway.media import Media, conform

    bug = GraphQLError("Unexpected error.", extensions={"code": "INTERNAL_SERVER_ERROR"})
    answer: GraphQLHTTPResponse = {"data": None, "errors": [bug.formatted]}
    result = ExecutionResult(data=None, errors=[bug])
    assert conform(answer, result, Media.JSON) == 200
    assert "data" in answer
    assert conform(answer, result, Media.GRAPHQL_RESPONSE) == 500
    assert "data" not in answer
    ran = GraphQLError("gone", path=["voidInvoice"], extensions={"code": "NOT_FOUND"})
    nulled: GraphQLHTTPResponse = {"data": None, "errors": [ran.formatted]}
    assert conform(nulled, ExecutionResult(data=None, errors=[ran]), Media.GRAPHQL_RESPONSE) == 200
    assert nulled["data"] is None
