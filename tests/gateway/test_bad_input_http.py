"""Bad input through real HTTP: every category of hostile input listed below, sent to the
gateway served on 127.0.0.1 over both sandboxes (tests/gateway/hostile.py). Each refusal is
checked for its status, its GraphQL error shape and code, and that nothing ran: no provider was
called (the sandboxes count every API request) and no invoice was made.

Categories and where they are tested:
- depth, aliases, aliases through fragments and fragment cycles, token floods, body size,
  invalid JSON, wrong content type and CSRF, introspection, field suggestions, Int overflow,
  invalid money, invalid currency, Unicode control characters, WebSocket init, origin and
  subprotocol: here;
- error leaks under concurrency: tests/gateway/test_leaks_http.py (200 requests at once);
- the log lines of refused queries (token floods among them): tests/gateway/test_logs.py.

No test here asserts a duration.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.gateway.hostile import (
    READ_KEY,
    WRITE_KEY,
    Hostile,
    leaks,
    served_gateway,
)

ORIGIN = "https://app.example.com"
NOTHING = {"flexprice": 0, "xendit": 0}
CREATE = """mutation($c: ID!, $cur: String!, $q: Decimal!, $u: Decimal!, $d: String!) {
  createInvoice(input: {customerId: $c, currency: $cur, description: $d,
                        lineItems: [{description: $d, quantity: $q, unitAmount: $u}]}) {
    invoice { id currency description total { amount } lineItems { description } }
    userErrors { code message field }
  }
}"""


@pytest.fixture(scope="module")
def gateway() -> Iterator[Hostile]:
    """Default limits, introspection on, browsers of ORIGIN allowed."""
    with served_gateway(cors_origins=(ORIGIN,)) as served:
        yield served


@pytest.fixture(scope="module")
def hidden() -> Iterator[Hostile]:
    """Introspection (and so field suggestions) off, as in production."""
    with served_gateway(introspection=False) as served:
        yield served


@pytest.fixture(scope="module")
def lax() -> Iterator[Hostile]:
    """Every query limit off: what graphql-core and Strawberry do on their own."""
    with served_gateway(max_depth=0, max_aliases=0, max_tokens=0, max_root_fields=0) as served:
        yield served


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(headers={"authorization": f"Bearer {WRITE_KEY}"}, timeout=60) as made:
        yield made


def invoices(gateway: Hostile) -> dict[str, int]:
    return {name: len(gateway.sandbox(name).invoices) for name in ("flexprice", "xendit")}


class Untouched:
    """`with Untouched(gateway, client):` asserts that no provider was called and no invoice
    made inside the block."""

    def __init__(self, gateway: Hostile, client: httpx.Client) -> None:
        self.gateway, self.client = gateway, client

    def __enter__(self) -> None:
        self.gateway.reset_upstream(self.client)
        self.before = invoices(self.gateway)

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            assert self.gateway.upstream(self.client) == NOTHING
            assert invoices(self.gateway) == self.before


def post(
    client: httpx.Client, gateway: Hostile, query: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    # json.dumps as a client would: non-ASCII escaped (so a lone surrogate can be sent), and
    # Infinity written out (not JSON, but what Python and JavaScript clients can produce).
    return client.post(
        f"{gateway.url}/graphql",
        content=json.dumps({"query": query, "variables": variables}),
        headers={"content-type": "application/json"},
    )


def refused(response: httpx.Response, *, status: int, code: str) -> list[dict[str, Any]]:
    """The errors of a response that refused the whole request with `code`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    assert leaks(response.status_code, response.headers, response.text) == []
    body = response.json()
    assert body.get("data") is None, body
    errors: list[dict[str, Any]] = body["errors"]
    assert errors, body
    for error in errors:
        assert isinstance(error["message"], str), error
        assert error["extensions"]["code"], error
    assert code in [error["extensions"]["code"] for error in errors], body
    return errors


def user_errors(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert leaks(response.status_code, response.headers, response.text) == []
    body = response.json()
    assert "errors" not in body, body
    payload = next(iter(body["data"].values()))
    assert payload["invoice"] is None, payload
    found: list[dict[str, Any]] = payload["userErrors"]
    assert found, payload
    return found


def finalize(invoice: str) -> str:
    return f'mutation {{ finalizeInvoice(input: {{id: "{invoice}"}}) {{ userErrors {{ code }} }} }}'


def customer(gateway: Hostile, provider: str) -> str:
    return gateway.ids[f"{provider}_customer"][0]


def nested(depth: int, inner: str = "id") -> str:
    """`customer { invoices { edges { node { ... } } } }` repeated: 4 levels per repeat."""
    opening = "customer { invoices(first: 1) { edges { node { " * depth
    return opening + inner + " } } } }" * depth


# -- depth ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "{ invoices(first: 1) { edges { node { " + nested(2) + " } } } }",
        "query { invoices(first: 1) { ...Deep } } "
        "fragment Deep on InvoiceConnection { edges { node { " + nested(2) + " } } }",
    ],
    ids=["inline", "through-a-fragment"],
)
def test_a_query_deeper_than_the_limit_is_refused_before_anything_runs(
    gateway: Hostile, client: httpx.Client, query: str
) -> None:
    with Untouched(gateway, client):
        refused(post(client, gateway, query), status=200, code="QUERY_TOO_DEEP")


DEEP_DOCUMENTS = {
    "selections": "{ providers " + "{ name " * 5000 + "}" * 5000 + " }",
    "list-values": "{ customers(ids: " + "[" * 5000 + "]" * 5000 + ") { id } }",
    "object-values": "{ invoices(filter: " + "{a: " * 5000 + "1" + "}" * 5000 + ") { edges } }",
}


def _code(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


@pytest.mark.parametrize("which", ["gateway", "lax"])
@pytest.mark.parametrize("document", list(DEEP_DOCUMENTS))
def test_very_deep_nesting_is_a_coded_refusal_never_a_500(
    request: pytest.FixtureRequest, client: httpx.Client, which: str, document: str
) -> None:
    gateway: Hostile = request.getfixturevalue(which)
    # The parser's nesting bound ("nested too deeply") or the token limit stops it, whichever
    # comes first; never Python's recursion limit.
    with Untouched(gateway, client):
        response = post(client, gateway, DEEP_DOCUMENTS[document])
        [error] = refused(response, status=200, code=_code(response))
    assert error["extensions"]["code"] in ("GRAPHQL_VALIDATION_FAILED", "TOO_MANY_TOKENS")
    assert "nested too deeply" in error["message"] or "tokens" in error["message"]


@pytest.mark.parametrize("depth", [900, 100_000])
def test_json_nested_deeper_than_python_recurses_is_400_not_500(
    gateway: Hostile, client: httpx.Client, depth: int
) -> None:
    # Regression: 100000 nested arrays (200 kB) made json.loads raise RecursionError, a 500.
    body = b'{"query": "{ __typename }", "variables": {"v": ' + b"[" * depth + b"]" * depth + b"}}"
    with Untouched(gateway, client):
        response = client.post(
            f"{gateway.url}/graphql", content=body, headers={"content-type": "application/json"}
        )
        if depth < 1000:  # parsed, and the variable is not declared: nothing to refuse
            assert response.json()["data"] == {"__typename": "Query"}
        else:
            refused(response, status=400, code="BAD_REQUEST")


# -- aliases --------------------------------------------------------------------------------


def test_more_aliases_than_the_limit_are_refused_and_no_resolver_runs(
    gateway: Hostile, client: httpx.Client
) -> None:
    ids = gateway.ids["xendit_invoice"]  # one upstream call per id, were they resolved
    fields = " ".join(f'a{n}: invoice(id: "{ids[n % len(ids)]}") {{ id }}' for n in range(31))
    with Untouched(gateway, client):
        refused(post(client, gateway, f"{{ {fields} }}"), status=200, code="TOO_MANY_ALIASES")


def test_thirty_aliases_are_within_the_limit(gateway: Hostile, client: httpx.Client) -> None:
    ids = gateway.ids["flexprice_invoice"]
    fields = " ".join(f'a{n}: invoice(id: "{ids[n % len(ids)]}") {{ id }}' for n in range(30))
    gateway.reset_upstream(client)
    body = post(client, gateway, f"{{ {fields} }}").json()
    assert "errors" not in body, body
    assert len(body["data"]) == 30
    assert gateway.upstream(client) == {"flexprice": 1, "xendit": 0}  # one batched search


@pytest.mark.parametrize(
    "query",
    [
        # 4 aliases x 8 spreads = 32
        "{ ...F ...F ...F ...F ...F ...F ...F ...F } "
        "fragment F on Query { a: providers { name } b: providers { name } "
        "c: providers { name } d: providers { name } }",
        # 4 aliases x 2 spreads in G x 4 spreads of G = 32, none of them in the operation
        "{ ...G ...G ...G ...G } fragment G on Query { ...F ...F } "
        'fragment F on Query { a: invoice(id: "ID") { id } b: invoice(id: "ID") { id } '
        'c: invoice(id: "ID") { id } d: invoice(id: "ID") { id } }',
    ],
    ids=["one-fragment", "nested-fragments"],
)
def test_aliases_multiplied_through_fragments_count_toward_the_limit(
    gateway: Hostile, client: httpx.Client, query: str
) -> None:
    query = query.replace("ID", gateway.ids["xendit_invoice"][0])
    with Untouched(gateway, client):
        refused(post(client, gateway, query), status=200, code="TOO_MANY_ALIASES")


@pytest.mark.parametrize("which", ["gateway", "lax"])
@pytest.mark.parametrize(
    "query",
    [
        "{ ...A } fragment A on Query { providers { name } ...A }",
        "{ ...A } fragment A on Query { ...B } fragment B on Query { ...C } "
        "fragment C on Query { ...A }",
        "{ invoices(first: 1) { edges { node { ...I } } } } "
        "fragment I on Invoice { customer { ...C } } "
        "fragment C on Customer { invoices(first: 1) { edges { node { ...I } } } }",
    ],
    ids=["self", "three", "through-types"],
)
def test_fragment_cycles_are_a_validation_error_not_a_recursion(
    request: pytest.FixtureRequest, client: httpx.Client, which: str, query: str
) -> None:
    gateway: Hostile = request.getfixturevalue(which)
    with Untouched(gateway, client):
        errors = refused(post(client, gateway, query), status=200, code="GRAPHQL_VALIDATION_FAILED")
    assert any("Cannot spread fragment" in error["message"] for error in errors), errors


# -- several operations ---------------------------------------------------------------------

#: A read and a write in one document: which one runs must never be a guess.
TWO_OPERATIONS = """query Read { invoices(first: 1) { edges { node { id } } } }
mutation Write { finalizeInvoice(input: {id: "ID"}) { userErrors { code } } }"""


def two_operations(gateway: Hostile) -> str:
    return TWO_OPERATIONS.replace("ID", gateway.ids["flexprice_invoice"][0])


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_several_operations_without_an_operation_name_run_none(
    gateway: Hostile, client: httpx.Client, method: str
) -> None:
    # The GraphQL spec (GetOperation): with more than one operation, operationName is required.
    with Untouched(gateway, client):
        if method == "POST":
            response = post(client, gateway, two_operations(gateway))
        else:
            response = client.get(
                f"{gateway.url}/graphql",
                params={"query": two_operations(gateway)},
                headers={"apollo-require-preflight": "true"},
            )
        [error] = refused(response, status=200, code="GRAPHQL_VALIDATION_FAILED")
    assert "operationName" in error["message"], error


@pytest.mark.parametrize("name", ["Read", "Write"])
def test_several_operations_with_an_operation_name_run_the_one_named(
    gateway: Hostile, client: httpx.Client, name: str
) -> None:
    gateway.reset_upstream(client)
    response = client.post(
        f"{gateway.url}/graphql",
        json={"query": two_operations(gateway), "operationName": name},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    assert set(body["data"]) == {"Read": {"invoices"}, "Write": {"finalizeInvoice"}}[name]
    assert gateway.upstream(client)["flexprice"] >= 1


# -- token floods ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "{ " + "providers { name } " * 5000 + "}",
        "{ __typename " + "#\n" * 300_000 + "}",  # comments count too
        "{ " + " ".join(f'a{n}: invoice(id: "x") {{ id }}' for n in range(2000)) + " }",
    ],
    ids=["fields", "comments", "aliases"],
)
def test_a_token_flood_is_refused_while_parsing(
    gateway: Hostile, client: httpx.Client, query: str
) -> None:
    with Untouched(gateway, client):
        errors = refused(post(client, gateway, query), status=200, code="TOO_MANY_TOKENS")
    assert len(json.dumps(errors)) < 1000  # the answer does not echo the flood


# -- body size ------------------------------------------------------------------------------


def _padded_mutation(gateway: Hostile) -> bytes:
    return json.dumps(
        {
            "query": CREATE,
            "variables": {
                "c": customer(gateway, "flexprice"),
                "cur": "USD",
                "q": "1",
                "u": "1",
                "d": "x" * 1_100_000,
            },
        }
    ).encode()


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ("mutation", "application/json"),
        ("garbage", "application/json"),
        ("garbage", "text/plain"),
        ("garbage", None),
    ],
)
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_body_over_the_limit_is_413_before_it_is_parsed_whatever_it_holds(
    gateway: Hostile,
    client: httpx.Client,
    content: str,
    content_type: str | None,
    framing: str,
) -> None:
    body = _padded_mutation(gateway) if content == "mutation" else b"\xff{[" * 400_000
    headers = {} if content_type is None else {"content-type": content_type}

    def chunks() -> Iterator[bytes]:  # no content-length: counted while it streams in
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    sent: bytes | Iterator[bytes] = body if framing == "content-length" else chunks()
    with Untouched(gateway, client):
        response = client.post(f"{gateway.url}/graphql", content=sent, headers=headers)
        refused(response, status=413, code="REQUEST_TOO_LARGE")


# -- invalid JSON ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b'{"query": "{ __typename }"',
        b"\xff\xfe{}",
        b"null",
        b"[]",
        b'"{ __typename }"',
        b'{"query": 1}',
        b'{"query": "mutation { x }", "variables": []}',
        b'{"query": "{ __typename }", "variables": {"n": ' + b"9" * 5000 + b"}}",
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=[
        "empty",
        "cut",
        "unclosed",
        "not-utf8",
        "null",
        "array",
        "string",
        "query-not-a-string",
        "variables-not-an-object",
        "huge-integer",
        "deep-arrays",
    ],
)
def test_an_unreadable_body_is_400_with_a_graphql_error(
    gateway: Hostile, client: httpx.Client, body: bytes
) -> None:
    with Untouched(gateway, client):
        response = client.post(
            f"{gateway.url}/graphql", content=body, headers={"content-type": "application/json"}
        )
        [error] = refused(response, status=400, code="BAD_REQUEST")
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]


# -- wrong content type, CSRF ---------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "text/plain;charset=UTF-8",
        "text/plain; charset=application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ],
)
def test_a_post_a_browser_could_send_cross_site_is_400_and_not_executed(
    gateway: Hostile, client: httpx.Client, content_type: str | None
) -> None:
    body = json.dumps(
        {
            "query": CREATE,
            "variables": {
                "c": customer(gateway, "flexprice"),
                "cur": "USD",
                "q": "1",
                "u": "1",
                "d": "csrf",
            },
        }
    )
    headers = {} if content_type is None else {"content-type": content_type}
    with Untouched(gateway, client):
        response = client.post(f"{gateway.url}/graphql", content=body, headers=headers)
        refused(response, status=400, code="BAD_REQUEST")


def test_a_get_operation_needs_a_preflight_header_and_never_mutates(
    gateway: Hostile, client: httpx.Client
) -> None:
    url = f"{gateway.url}/graphql"
    mutation = finalize(gateway.ids["flexprice_invoice"][0])
    with Untouched(gateway, client):
        refused(
            client.get(url, params={"query": "{ invoices(first: 1) { totalCount } }"}),
            status=400,
            code="CSRF_PREVENTED",
        )
        refused(
            client.get(url, params={"query": mutation}, headers={"apollo-require-preflight": "1"}),
            status=400,
            code="BAD_REQUEST",
        )
    allowed = client.get(
        url, params={"query": "{ __typename }"}, headers={"apollo-require-preflight": "1"}
    )
    assert allowed.json()["data"] == {"__typename": "Query"}


# -- introspection and field suggestions ------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "{ __schema { types { name } } }",
        '{ __type(name: "Invoice") { fields { name } } }',
        "{ s: __schema { queryType { name } } }",
        "{ ...F } fragment F on Query { __schema { types { name } } }",
        '{ invoices(first: 0) { totalCount } __type(name: "Money") { name } }',
    ],
    ids=["schema", "type", "aliased", "in-a-fragment", "beside-a-field"],
)
def test_introspection_off_refuses_schema_and_type_before_anything_runs(
    hidden: Hostile, client: httpx.Client, query: str
) -> None:
    with Untouched(hidden, client):
        errors = refused(post(client, hidden, query), status=200, code="GRAPHQL_VALIDATION_FAILED")
    assert all("introspection has been disabled" in e["message"] for e in errors), errors


def test_introspection_off_keeps_typename(hidden: Hostile, client: httpx.Client) -> None:
    body = post(client, hidden, "{ __typename providers { __typename name } }").json()
    assert body["data"]["__typename"] == "Query"
    assert {p["__typename"] for p in body["data"]["providers"]} == {"Provider"}


SUGGESTED = [
    # (document, variables, a schema name the refusal must not reveal)
    ("{ invoicez(first: 1) { totalCount } }", None, "invoices"),
    ("{ invoices(firs: 1) { totalCount } }", None, "first"),
    (
        "{ invoices { ...F } } fragment F on InvoiceConnectio { totalCount }",
        None,
        "'InvoiceConnection'",
    ),
    ("{ invoices(filter: {status: [OPN]}) { totalCount } }", None, "OPEN"),
    ("{ invoices(filter: {statuss: [OPEN]}) { totalCount } }", None, "'status'"),
    (
        "query($s: [InvoiceStatus!]) { invoices(filter: {status: $s}) { totalCount } }",
        {"s": ["OPN"]},
        "OPEN",
    ),
    (
        "query($f: InvoiceFilterInput) { invoices(filter: $f) { totalCount } }",
        {"f": {"paymentStatuss": ["PAID"]}},
        "'paymentStatus'",
    ),
    (
        "query($f: InvoiceFiltrInput) { invoices(filter: $f) { totalCount } }",
        None,
        "'InvoiceFilterInput'",
    ),
]


@pytest.mark.parametrize(
    ("query", "variables", "hint"),
    SUGGESTED,
    ids=[
        "field",
        "argument",
        "type",
        "enum-value",
        "input-field",
        "variable-enum-value",
        "variable-input-field",
        "variable-type",
    ],
)
def test_no_refusal_suggests_a_name_when_introspection_is_off(
    hidden: Hostile,
    gateway: Hostile,
    client: httpx.Client,
    query: str,
    variables: dict[str, Any] | None,
    hint: str,
) -> None:
    # Regression: Strawberry removed only the field hint; argument, type, enum value and input
    # field hints named parts of the hidden schema.
    with Untouched(hidden, client):
        errors = refused(
            post(client, hidden, query, variables), status=200, code="GRAPHQL_VALIDATION_FAILED"
        )
    for error in errors:
        assert "Did you mean" not in error["message"], error
        assert hint not in error["message"], error
    shown = post(client, gateway, query, variables).json()["errors"]  # introspection on
    assert any("Did you mean" in error["message"] for error in shown), shown


# -- Int overflow ---------------------------------------------------------------------------

FIRST = "query($n: Int) { invoices(first: $n) { totalCount } }"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ invoices(first: 2147483648) { totalCount } }", None),
        ("{ invoices(first: -2147483649) { totalCount } }", None),
        ("{ invoices(first: 99999999999999999999999999) { totalCount } }", None),
        ("{ invoices(first: 1.5) { totalCount } }", None),
        ("{ invoices(first: 1e3) { totalCount } }", None),
        ('{ invoices(first: "10") { totalCount } }', None),
        (FIRST, {"n": 2**31}),
        (FIRST, {"n": -(2**63)}),
        (FIRST, {"n": 1.5}),
        (FIRST, {"n": "10"}),
        (FIRST, {"n": True}),
        (FIRST, {"n": float("inf")}),
        (
            'mutation($c: ID!) { createInvoice(input: {customerId: $c, currency: "IDR", '
            'lineItems: [{description: "x", quantity: "1", unitAmount: "1"}], '
            "paymentPage: {durationSeconds: 4294967296}}) { userErrors { code } } }",
            None,
        ),
    ],
)
def test_an_int_out_of_range_or_not_an_integer_fails_coercion_before_any_call(
    gateway: Hostile,
    client: httpx.Client,
    query: str,
    variables: dict[str, Any] | None,
) -> None:
    if "$c" in query:
        variables = {"c": customer(gateway, "xendit")}
    with Untouched(gateway, client):
        refused(
            post(client, gateway, query, variables), status=200, code="GRAPHQL_VALIDATION_FAILED"
        )


def test_a_negative_first_is_a_coded_user_input_error(
    gateway: Hostile, client: httpx.Client
) -> None:
    with Untouched(gateway, client):
        response = post(client, gateway, FIRST, {"n": -1})
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# -- money and currency ---------------------------------------------------------------------


def create(
    client: httpx.Client,
    gateway: Hostile,
    *,
    provider: str = "flexprice",
    currency: str = "USD",
    quantity: object = "1",
    unit_amount: object = "12.5",
    text: str = "Seats",
) -> httpx.Response:
    variables = {
        "c": customer(gateway, provider),
        "cur": currency,
        "q": quantity,
        "u": unit_amount,
        "d": text,
    }
    return post(client, gateway, CREATE, variables)


@pytest.mark.parametrize(
    ("quantity", "unit_amount", "code"),
    [
        ("1", "-1", "INVALID_INPUT"),
        ("-1", "1", "INVALID_INPUT"),
        ("0", "1", "INVALID_INPUT"),
        ("1", "1.234", "INVALID_INPUT"),  # finer than a cent
        ("1", "1000000000000", "INVALID_INPUT"),  # 10^12
        ("100000", "100000000", "INVALID_INPUT"),  # a line of 10^13
        ("1", "0.000000001", "INVALID_INPUT"),  # 9 decimal places
        ("1", "1e2", "GRAPHQL_VALIDATION_FAILED"),
        ("1", "NaN", "GRAPHQL_VALIDATION_FAILED"),
        ("1", "Infinity", "GRAPHQL_VALIDATION_FAILED"),
        ("1", "1_000", "GRAPHQL_VALIDATION_FAILED"),
        ("1", "\u0661\u0662", "GRAPHQL_VALIDATION_FAILED"),  # Arabic-Indic digits
        ("1", "", "GRAPHQL_VALIDATION_FAILED"),
        ("1", 12.5, "GRAPHQL_VALIDATION_FAILED"),  # a JSON float has lost exactness
        ("1", True, "GRAPHQL_VALIDATION_FAILED"),
        ("1", [1], "GRAPHQL_VALIDATION_FAILED"),
    ],
)
def test_invalid_money_is_refused_before_any_provider_call(
    gateway: Hostile, client: httpx.Client, quantity: object, unit_amount: object, code: str
) -> None:
    with Untouched(gateway, client):
        response = create(client, gateway, quantity=quantity, unit_amount=unit_amount)
        if code == "INVALID_INPUT":
            [error] = user_errors(response)
            assert error["code"] == code
            assert error["field"][:2] == ["input", "lineItems"], error
        else:
            refused(response, status=200, code=code)


def test_money_goes_in_and_out_as_a_decimal_string(gateway: Hostile, client: httpx.Client) -> None:
    body = create(client, gateway, quantity="3", unit_amount="12.5").json()
    assert body["data"]["createInvoice"]["userErrors"] == [], body
    assert body["data"]["createInvoice"]["invoice"]["total"] == {"amount": "37.50"}


@pytest.mark.parametrize(
    ("provider", "currency", "code"),
    [
        ("flexprice", "ABC", "INVALID_INPUT"),
        ("flexprice", "US", "INVALID_INPUT"),
        ("flexprice", "USDT", "INVALID_INPUT"),
        ("flexprice", "\u20ac", "INVALID_INPUT"),
        ("flexprice", "", "INVALID_INPUT"),
        ("flexprice", "U\u0000SD", "INVALID_INPUT"),
        ("xendit", "EUR", "PROVIDER_REJECTED"),  # ISO 4217, but not one Xendit takes
    ],
)
def test_a_currency_off_the_allow_list_is_a_user_error_before_any_call(
    gateway: Hostile, client: httpx.Client, provider: str, currency: str, code: str
) -> None:
    with Untouched(gateway, client):
        [error] = user_errors(create(client, gateway, provider=provider, currency=currency))
    assert error["code"] == code
    assert error["field"] == ["input", "currency"]


def test_a_currency_is_read_in_any_case_and_without_padding(
    gateway: Hostile, client: httpx.Client
) -> None:
    body = create(client, gateway, currency=" usd ").json()
    assert body["data"]["createInvoice"]["invoice"]["currency"] == "USD", body


# -- Unicode control characters ---------------------------------------------------------------


@pytest.mark.parametrize("provider", ["flexprice", "xendit"])
@pytest.mark.parametrize(
    "text",
    [
        "Seats\u0000",  # NUL
        "\u001b[31mSeats",  # an ANSI escape
        "Seats\u202e",  # right-to-left override
        "\ufeffSeats",  # byte order mark
        "Se\u200bats",  # zero-width space
        "Seats\uffff",  # a noncharacter
        # A lone surrogate ("\ud800") is no character at all: the JSON body holding one is
        # refused before GraphQL reads it (test_hostile_ops).
    ],
)
def test_control_and_invisible_characters_are_refused_before_any_call(
    gateway: Hostile, client: httpx.Client, provider: str, text: str
) -> None:
    currency = "USD" if provider == "flexprice" else "IDR"
    with Untouched(gateway, client):
        found = user_errors(
            create(
                client, gateway, provider=provider, currency=currency, unit_amount="1", text=text
            )
        )
    assert {tuple(error["field"]) for error in found} == {
        ("input", "description"),
        ("input", "lineItems", "0", "description"),
    }
    assert {error["code"] for error in found} == {"INVALID_INPUT"}


@pytest.mark.parametrize("provider", ["flexprice", "xendit"])
def test_text_reaches_the_provider_in_nfc_and_new_lines_and_scripts_pass(
    gateway: Hostile, client: httpx.Client, provider: str
) -> None:
    currency = "USD" if provider == "flexprice" else "IDR"
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # ZWNJ inside a word
    family = "\U0001f468\u200d\U0001f469"  # an emoji joined by ZWJ
    text = f"Cafe\u0301\tline\nsecond {persian} {family}"
    body = create(
        client, gateway, provider=provider, currency=currency, unit_amount="1", text=text
    ).json()
    invoice = body["data"]["createInvoice"]["invoice"]
    assert body["data"]["createInvoice"]["userErrors"] == [], body
    expected = text.replace("Cafe\u0301", "Caf\u00e9")  # composed, as NFC has it
    assert invoice["description"] == expected
    assert invoice["lineItems"][0]["description"] == expected


#: U+FB2C (HEBREW LETTER SHIN WITH DAGESH AND SHIN DOT) is excluded from composition: NFC
#: writes it as three characters, so a text within a limit can exceed it once normalized.
SHIN = "\ufb2c"


@pytest.mark.parametrize("provider", ["flexprice", "xendit"])
def test_lengths_are_checked_after_nfc(
    gateway: Hostile, client: httpx.Client, provider: str
) -> None:
    currency = "USD" if provider == "flexprice" else "IDR"
    text = SHIN * 200  # 200 characters as sent, 600 in NFC: over the 500 of a line
    with Untouched(gateway, client):
        found = user_errors(
            create(
                client, gateway, provider=provider, currency=currency, unit_amount="1", text=text
            )
        )
    by_field = {tuple(error["field"]): error for error in found}
    assert set(by_field) == {("input", "lineItems", "0", "description")}, found
    error = by_field["input", "lineItems", "0", "description"]
    assert error["code"] == "INVALID_INPUT"
    assert "at most 500 characters" in error["message"], error


def test_a_memo_that_nfc_makes_longer_than_its_limit_is_refused(
    gateway: Hostile, client: httpx.Client
) -> None:
    query = """mutation($c: ID!, $d: String!) {
      createInvoice(input: {customerId: $c, currency: "USD", description: $d,
                            lineItems: [{description: "Seats", quantity: "1", unitAmount: "1"}]}) {
        invoice { id } userErrors { code message field }
      }
    }"""
    with Untouched(gateway, client):
        found = user_errors(
            post(client, gateway, query, {"c": customer(gateway, "flexprice"), "d": SHIN * 1000})
        )
    assert [(e["code"], e["field"]) for e in found] == [("INVALID_INPUT", ["input", "description"])]
    assert "at most 1000 characters" in found[0]["message"], found


# -- WebSocket ------------------------------------------------------------------------------


def _ws(gateway: Hostile) -> str:
    return gateway.url.replace("http://", "ws://", 1) + "/graphql"


def _closed_with(gateway: Hostile, **options: Any) -> tuple[int | None, str]:
    """How the server ended a graphql-transport-ws connection that sends one subscribe."""
    try:
        with connect(_ws(gateway), open_timeout=10, close_timeout=5, **options) as socket:
            socket.send(json.dumps({"type": "subscribe", "id": "1", "payload": {"query": "{ a }"}}))
            socket.recv(timeout=10)
    except ConnectionClosed as closed:
        if closed.rcvd is None:
            return None, "closed without a close frame"
        return closed.rcvd.code, closed.rcvd.reason
    except InvalidStatus as refused_:
        return refused_.response.status_code, "handshake refused"
    raise AssertionError("the connection stayed open")


def test_a_websocket_operation_before_connection_init_closes_the_socket(
    gateway: Hostile, client: httpx.Client
) -> None:
    headers = {"authorization": f"Bearer {WRITE_KEY}"}
    with Untouched(gateway, client):
        code, _ = _closed_with(
            gateway, subprotocols=["graphql-transport-ws"], additional_headers=headers
        )
    assert code == 4401


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 403),  # no key
        ({"authorization": "Bearer wrong-key-0123456789"}, 403),
        ({"authorization": f"Bearer {WRITE_KEY}", "origin": "https://evil.example"}, 403),
    ],
    ids=["no-key", "wrong-key", "foreign-origin"],
)
def test_a_websocket_handshake_without_a_key_or_from_a_foreign_origin_is_refused(
    gateway: Hostile, client: httpx.Client, headers: dict[str, str], status: int
) -> None:
    with Untouched(gateway, client):
        code, reason = _closed_with(
            gateway, subprotocols=["graphql-transport-ws"], additional_headers=headers
        )
    assert (code, reason) == (status, "handshake refused")


def test_the_legacy_graphql_ws_protocol_is_not_spoken(
    gateway: Hostile, client: httpx.Client
) -> None:
    headers = {"authorization": f"Bearer {WRITE_KEY}"}
    with Untouched(gateway, client):
        code, _ = _closed_with(gateway, subprotocols=["graphql-ws"], additional_headers=headers)
    assert code == 4406


def test_a_websocket_from_an_allowed_origin_works_and_keeps_the_rules(
    gateway: Hostile, client: httpx.Client
) -> None:
    headers = {"authorization": f"Bearer {READ_KEY}", "origin": ORIGIN}
    mutation = finalize(gateway.ids["flexprice_invoice"][0])
    with (
        Untouched(gateway, client),
        connect(
            _ws(gateway),
            subprotocols=["graphql-transport-ws"],
            additional_headers=headers,
            open_timeout=10,
            close_timeout=5,
        ) as socket,
    ):
        socket.send(json.dumps({"type": "connection_init"}))
        ack = socket.recv(timeout=10)
        assert isinstance(ack, str), "graphql-transport-ws messages are text frames"
        assert json.loads(ack) == {"type": "connection_ack"}
        # The schema has no subscriptions, so the per-connection subscription cap has nothing
        # to count; a subscription is a coded error and the socket stays usable.
        socket.send(
            json.dumps({"type": "subscribe", "id": "s", "payload": {"query": "subscription { x }"}})
        )
        answer = json.loads(socket.recv(timeout=10))
        assert answer["type"] == "error"
        assert answer["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        socket.send(json.dumps({"type": "subscribe", "id": "m", "payload": {"query": mutation}}))
        result = json.loads(socket.recv(timeout=10))
        assert result["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"


class Socket:
    """An initialised graphql-transport-ws connection (see `open_socket`)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.connection.send(json.dumps({"type": "connection_init"}))
        assert json.loads(self.connection.recv(timeout=10)) == {"type": "connection_ack"}

    def subscribe(self, id: str, payload: dict[str, Any]) -> None:
        self.connection.send(json.dumps({"type": "subscribe", "id": id, "payload": payload}))

    def answer(self) -> dict[str, Any]:
        frame = self.connection.recv(timeout=10)
        assert isinstance(frame, str), "graphql-transport-ws messages are text frames"
        message: dict[str, Any] = json.loads(frame)
        return message

    def closed(self) -> tuple[int | None, str]:
        """How the server ends the connection (after whatever it still sends)."""
        try:
            for _ in range(10):
                self.connection.recv(timeout=10)
        except ConnectionClosed as closed:
            return (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, "no frame")
        raise AssertionError("the connection stayed open")


@contextlib.contextmanager
def open_socket(gateway: Hostile) -> Iterator[Socket]:
    """A graphql-transport-ws connection with a write key, initialised."""
    with connect(
        _ws(gateway),
        subprotocols=["graphql-transport-ws"],
        additional_headers={"authorization": f"Bearer {WRITE_KEY}"},
        open_timeout=10,
        close_timeout=5,
        max_size=None,
    ) as connection:
        yield Socket(connection)


REFUSED = {
    "tokens": ({"query": "{ " + "providers { name } " * 700 + "}"}, "TOO_MANY_TOKENS"),
    "syntax": ({"query": "{ providers { name "}, "GRAPHQL_VALIDATION_FAILED"),
    "depth": (
        {"query": "{ invoices(first: 1) { edges { node { " + nested(3) + " } } } }"},
        "QUERY_TOO_DEEP",
    ),
    "aliases": (
        {"query": "{ providers { " + " ".join(f"a{n}: name" for n in range(31)) + " } }"},
        "TOO_MANY_ALIASES",
    ),
    "operations": ({"query": TWO_OPERATIONS}, "GRAPHQL_VALIDATION_FAILED"),
    "operation-name": (
        {"query": "query A { __typename }", "operationName": "B"},
        "BAD_REQUEST",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_websocket_operation_is_refused_with_the_errors_http_gives_and_the_socket_stays(
    gateway: Hostile, client: httpx.Client, case: str
) -> None:
    payload, code = REFUSED[case]
    payload = {
        **payload,
        "query": payload["query"].replace("ID", gateway.ids["flexprice_invoice"][0]),
    }
    over_http = client.post(f"{gateway.url}/graphql", json=payload).json()["errors"]
    with Untouched(gateway, client), open_socket(gateway) as socket:
        socket.subscribe("refused", payload)
        answer = socket.answer()
        socket.subscribe("after", {"query": "{ __typename }"})
        following = socket.answer()
    assert answer["type"] == "error", answer  # not a bare `complete`
    assert answer["id"] == "refused"
    assert [e["extensions"]["code"] for e in answer["payload"]] == [code]
    assert [e["message"] for e in answer["payload"]] == [e["message"] for e in over_http]
    assert (following["id"], following["type"]) == ("after", "next")
    assert following["payload"]["data"] == {"__typename": "Query"}


def test_a_websocket_message_over_the_body_limit_closes_the_socket_and_runs_nothing(
    gateway: Hostile, client: httpx.Client
) -> None:
    variables = {
        "c": customer(gateway, "flexprice"),
        "cur": "USD",
        "q": "1",
        "u": "1",
        "d": "x" * 10_000_000,  # 10 MB: Strawberry ran it
    }
    with Untouched(gateway, client), open_socket(gateway) as socket:
        socket.subscribe("big", {"query": CREATE, "variables": variables})
        code, reason = socket.closed()
    assert code == 1009  # message too big
    assert "1000000 bytes" in reason or "too big" in reason.lower()


def test_a_websocket_message_within_the_body_limit_runs(
    gateway: Hostile, client: httpx.Client
) -> None:
    padding = "x" * 900_000
    with open_socket(gateway) as socket:
        socket.subscribe("fits", {"query": "{ __typename }", "variables": {"pad": padding}})
        assert socket.answer()["type"] == "next"


@pytest.mark.parametrize("depth", [100_000, 1500])
def test_deeply_nested_json_over_websocket_is_refused_as_unreadable_not_a_crash(
    gateway: Hostile, client: httpx.Client, depth: int
) -> None:
    message = (
        '{"type": "subscribe", "id": "1", "payload": {"query": "{ __typename }", "variables": '
        '{"v": ' + "[" * depth + "]" * depth + "}}}"
    )
    with Untouched(gateway, client), open_socket(gateway) as socket:
        socket.connection.send(message)
        code, reason = socket.closed()
    # What graphql-transport-ws does with a message it cannot read; Strawberry's handler died
    # on the RecursionError and the socket ended without a close frame.
    assert (code, reason) == (4400, "WebSocket message must be valid JSON")
    with open_socket(gateway) as again:  # and the server goes on
        again.subscribe("2", {"query": "{ __typename }"})
        assert again.answer()["type"] == "next"


MALFORMED = {
    "id-object": (
        {"type": "subscribe", "id": {"a": 1}, "payload": {"query": "{ __typename }"}},
        "subscribe: id must be a string",
    ),
    "id-missing": (
        {"type": "subscribe", "payload": {"query": "{ __typename }"}},
        "subscribe: id must be a string",
    ),
    "payload-string": (
        {"type": "subscribe", "id": "1", "payload": "{ __typename }"},
        "subscribe: payload must be an object",
    ),
    "query-number": (
        {"type": "subscribe", "id": "1", "payload": {"query": 1}},
        "subscribe: payload.query must be a string",
    ),
    "variables-list": (
        {"type": "subscribe", "id": "1", "payload": {"query": "{ __typename }", "variables": []}},
        "subscribe: payload.variables must be an object",
    ),
    "operation-name-list": (
        {"type": "subscribe", "id": "1", "payload": {"query": "{ a }", "operationName": ["A"]}},
        "subscribe: payload.operationName must be a string",
    ),
    "complete-id-list": ({"type": "complete", "id": ["1"]}, "complete: id must be a string"),
    "type-list": ({"type": ["subscribe"], "id": "1"}, "type must be a string"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_websocket_message_of_the_wrong_shape_closes_with_4400_and_its_reason(
    gateway: Hostile, client: httpx.Client, case: str
) -> None:
    message, reason = MALFORMED[case]
    with Untouched(gateway, client), open_socket(gateway) as socket:
        socket.connection.send(json.dumps(message))
        closed = socket.closed()
    # graphql-transport-ws's answer to a message it cannot use. Strawberry's handler raised a
    # TypeError on most of these (a traceback in the log) and dropped the connection with no
    # close frame.
    assert closed == (4400, reason)
    with open_socket(gateway) as again:  # and the server goes on
        again.subscribe("2", {"query": "{ __typename }"})
        assert again.answer()["type"] == "next"
