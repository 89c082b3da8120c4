"""What an operation may cost upstream: estimated before it runs, refused over GATEWAY_MAX_COST
with nothing sent, capped while it runs by GATEWAY_MAX_UPSTREAM_CALLS, and reported in
`extensions.cost` of every response. Through real HTTP, over both sandboxes, counting what
they served."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.client import GatewayClient
from bench.scenarios import KEY_PLACEHOLDER, SCENARIOS
from gateway.schema.cost import extension as cost_extension
from gateway.schema.extensions import MAX_ERRORS_PER_KIND
from gateway.settings import GatewaySettings
from tests.gateway.hostile import WRITE_KEY, Hostile, served_gateway

DEFAULT_MAX_COST = GatewaySettings().max_cost
ROOT = Path(__file__).resolve().parents[2]
#: The README and the pages under docs/: every query they show.
DOCUMENTS = "\n".join(
    page.read_text(encoding="utf-8")
    for page in [ROOT / "README.md", *sorted(ROOT.glob("docs/*.md"))]
)

#: The query of the issue: 1,153 FlexPrice calls before (101 searches, 1,052 summaries).
FANNED_OUT = """{ invoices(first:100, filter:{provider:["flexprice"]}){ edges{ node{ customer{
  invoices(first:100){ edges{ node{ customer{ invoiceSummary{currency} }}}}}}}}}"""
#: The same, 30 times through a fragment (the alias limit's worth).
FANNED_OUT_30 = (
    "{ "
    + " ".join(
        f'a{n}: invoices(first:100, filter:{{provider:["flexprice"]}}) {{ ...F }}'
        for n in range(30)
    )
    + " } fragment F on InvoiceConnection { edges { node { customer { invoices(first:100) {"
    " edges { node { customer { invoiceSummary { currency } } } } } } } } }"
)
#: Xendit's list cannot filter by customer: 81 list calls in the issue.
XENDIT_FANNED_OUT = """{ invoices(first:20, filter:{provider:["xendit"]}){ edges{ node{ customer{
  invoices(first:20){ edges{ node{ id }}}}}}}}"""


@pytest.fixture(scope="module")
def gateway() -> Iterator[Hostile]:
    with served_gateway() as served:
        yield served


@pytest.fixture
def client(gateway: Hostile) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=gateway.url, headers={"authorization": f"Bearer {WRITE_KEY}"}, timeout=60
    ) as made:
        yield made


def run(
    gateway: Hostile, client: httpx.Client, query: str, variables: dict[str, Any] | None = None
) -> tuple[dict[str, Any], int]:
    """The answer (HTTP 200) and the upstream requests both sandboxes served for it."""
    gateway.reset_upstream(client)
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    served = sum(gateway.upstream(client).values())
    return response.json(), served


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors") or []]


def test_every_response_reports_its_estimate_and_the_calls_it_made(
    gateway: Hostile, client: httpx.Client
) -> None:
    body, served = run(gateway, client, "{ __typename }")
    assert body["extensions"]["cost"] == {"estimated": 0, "actual": 0}
    body, served = run(gateway, client, "{ invoices(first: 3) { edges { node { id } } } }")
    assert "errors" not in body
    assert body["extensions"]["cost"] == {"estimated": 2, "actual": 2}  # one page of each
    assert served == 2
    body, served = run(gateway, client, "{ invoices(first: 3) { edges { node { id } }")
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]  # a syntax error: nothing runs
    assert body["extensions"]["cost"] == {"estimated": 0, "actual": 0}


@pytest.mark.parametrize(
    ("query", "over"),
    [(FANNED_OUT, 10_000), (FANNED_OUT_30, 300_000), (XENDIT_FANNED_OUT, 200)],
    ids=["the issue's query", "30 aliases of it", "xendit's"],
)
def test_a_fanned_out_query_is_refused_before_any_provider_call(
    gateway: Hostile, client: httpx.Client, query: str, over: int
) -> None:
    body, served = run(gateway, client, query)
    assert served == 0
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    estimated = error["extensions"]["cost"]["estimated"]
    assert estimated > over
    assert error["extensions"]["cost"]["limit"] == DEFAULT_MAX_COST
    assert f"may make {estimated} upstream calls" in error["message"]
    assert "GATEWAY_MAX_COST" in error["message"]
    assert body["extensions"]["cost"] == {"estimated": estimated, "actual": 0}


def test_the_documented_queries_fit_under_the_default(
    gateway: Hostile, client: httpx.Client
) -> None:
    blocks = re.findall(r"```graphql\n(.*?)```", DOCUMENTS, re.DOTALL)
    # A subscription runs as a stream, not one POST (tests/gateway/events run the docs' one).
    blocks = [block for block in blocks if not block.lstrip().startswith("subscription")]
    assert len(blocks) >= 2
    customer = gateway.ids["flexprice_customer"][0]
    for block in blocks:
        body, served = run(gateway, client, block.replace("<a Customer id>", customer))
        assert "errors" not in body, (block, body["errors"])
        cost = body["extensions"]["cost"]
        assert 0 < cost["estimated"] <= DEFAULT_MAX_COST
        assert cost["actual"] == served <= cost["estimated"]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_benchmarks_scenarios_fit_under_the_default(
    gateway: Hostile, client: httpx.Client, name: str
) -> None:
    # `prepare` sends the scenario's own preparation queries too, and fails on any error.
    with GatewayClient(gateway.url, api_key=WRITE_KEY) as bench:
        workload = SCENARIOS[name].prepare(bench)
    sent = json.loads(workload.body.replace(KEY_PLACEHOLDER.encode(), b"cost-test"))
    body, served = run(gateway, client, sent["query"], sent.get("variables"))
    assert "errors" not in body, body["errors"]
    cost = body["extensions"]["cost"]
    assert cost["estimated"] <= DEFAULT_MAX_COST
    assert cost["actual"] == served <= cost["estimated"]


def _xendit_invoices(gateway: Hostile, count: int) -> str:
    ids = gateway.ids["xendit_invoice"][:count]
    return " ".join(f'x{n}: invoice(id: "{gid}") {{ id }}' for n, gid in enumerate(ids))


def _flexprice_invoices(gateway: Hostile, count: int) -> str:
    ids = gateway.ids["flexprice_invoice"][:count]
    return " ".join(f'f{n}: invoice(id: "{gid}") {{ id }}' for n, gid in enumerate(ids))


PDFS = """query($n: Int = 3) { invoices(first: $n, filter: {provider: ["flexprice"]}) {
  edges { node { pdfUrl } } } }"""
TWICE = """{ a: invoices(first: 10) { ...Pdfs } b: invoices(first: 10) { ...Pdfs } }
fragment Pdfs on InvoiceConnection { edges { node { pdfUrl } } }"""
FULL_CUSTOMERS = """{ invoices(first: 7, filter: {provider: ["xendit"]}) { edges { node {
  customer { name externalId address { city } } } } } }"""
NESTED = """query($status: [InvoiceStatus!]) {
  invoices(first: 4, filter: {provider: ["flexprice"]}) { edges { node { customer {
    invoices(first: 2, filter: {status: $status}) { totalCount } } } } } }"""


@pytest.mark.parametrize(
    ("make", "variables", "expected"),
    [
        # A variable is read, and its default when it is not sent: the listing, then a PDF each.
        (lambda g: PDFS, None, 1 + 3),
        (lambda g: PDFS, {"n": 40}, 1 + 40),
        # ... as execution reads it: a float without a fraction is an Int (it was read as
        # the default page size, 20, while 40 PDFs were fetched).
        (lambda g: PDFS, {"n": 40.0}, 1 + 40),
        # Aliases through a fragment: each connection counts, two listings and 10 PDFs each.
        (lambda g: TWICE, None, 2 * (2 + 10)),
        # Look-ups by id: Xendit one call each, FlexPrice one search for all.
        (lambda g: "{ " + _xendit_invoices(g, 5) + " }", None, 5),
        (lambda g: "{ " + _flexprice_invoices(g, 5) + " }", None, 1),
        # A Xendit invoice carries a copy of its customer: other fields read it, once each.
        (lambda g: FULL_CUSTOMERS, None, 1 + 7),
        # node(id:) runs only the fragment of the id's type.
        (
            lambda g: (
                f'{{ node(id: "{g.ids["flexprice_invoice"][0]}") {{ '
                "... on Customer { invoiceSummary { currency } } ... on Invoice { pdfUrl } } }"
            ),
            None,
            1 + 1,
        ),
        # 4 customers' first pages: a batch and, at most, each alone; a status filter that
        # FlexPrice needs two searches for doubles that.
        (lambda g: NESTED, None, 1 + (1 + 4)),
        (lambda g: NESTED, {"status": ["DRAFT", "OPEN"]}, 1 + 2 * (1 + 4)),
    ],
    ids=[
        "variable default",
        "variable",
        "float variable",
        "fragment aliases",
        "xendit ids",
        "flexprice ids",
        "xendit customers",
        "node fragments",
        "nested connection",
        "nested connection, two searches",
    ],
)
def test_the_estimate_reads_variables_fragments_aliases_and_ids(
    gateway: Hostile,
    client: httpx.Client,
    make: Any,
    variables: dict[str, Any] | None,
    expected: int,
) -> None:
    body, served = run(gateway, client, make(gateway), variables)
    assert "errors" not in body, body["errors"]
    cost = body["extensions"]["cost"]
    assert cost["estimated"] == expected
    assert cost["actual"] == served <= expected


#: One id where a list is expected is a list of one (GraphQL's input coercion), in the
#: document or in a variable: it was estimated at 0 calls and everything under it ran.
ONE_CUSTOMER = """{ customers(ids: "%s") { invoices(first: 100) { edges { node {
  pdfUrl customer { invoices(first: 100) { edges { node { pdfUrl } } } } } } } } }"""
ONE_CUSTOMER_VARIABLE = """query($ids: [ID!]!) { customers(ids: $ids) {
  invoices(first: 100) { edges { node { pdfUrl customer { invoices(first: 100) {
  edges { node { pdfUrl } } } } } } } } }"""


@pytest.mark.parametrize("in_variable", [False, True], ids=["literal", "variable"])
def test_one_id_for_a_list_is_estimated_as_the_list_it_becomes(
    gateway: Hostile, client: httpx.Client, in_variable: bool
) -> None:
    customer = gateway.ids["flexprice_customer"][0]
    if in_variable:
        body, served = run(gateway, client, ONE_CUSTOMER_VARIABLE, {"ids": customer})
    else:
        body, served = run(gateway, client, ONE_CUSTOMER % customer)
    assert served == 0
    assert codes(body) == ["QUERY_TOO_COSTLY"]
    assert body["extensions"]["cost"]["estimated"] > 10_000


def test_max_cost_zero_turns_the_refusal_off() -> None:
    with (
        served_gateway(max_cost=0) as gateway,
        httpx.Client(base_url=gateway.url, headers={"authorization": f"Bearer {WRITE_KEY}"}) as c,
    ):
        body, served = run(gateway, c, XENDIT_FANNED_OUT)
    assert "errors" not in body, body["errors"]
    cost = body["extensions"]["cost"]
    assert cost["estimated"] > DEFAULT_MAX_COST
    assert 0 < cost["actual"] == served <= cost["estimated"]


def test_past_max_upstream_calls_nothing_more_is_sent_and_the_rest_is_partial_data() -> None:
    query = """{ invoices(first: 10, filter: {provider: ["flexprice"]}) {
      edges { node { id pdfUrl } } } }"""
    with (
        served_gateway(max_upstream_calls=5) as gateway,
        httpx.Client(base_url=gateway.url, headers={"authorization": f"Bearer {WRITE_KEY}"}) as c,
    ):
        body, served = run(gateway, c, query)
    # The listing and 4 PDF URLs were fetched; the other PDFs were never asked for.
    assert served == 5
    assert body["extensions"]["cost"] == {"estimated": 11, "actual": 5}
    nodes = [edge["node"] for edge in body["data"]["invoices"]["edges"]]
    assert len(nodes) == 10
    assert all(node["id"] for node in nodes)
    refused = body["errors"]
    assert refused, "some PDF URLs must have been refused"
    assert {error["extensions"]["code"] for error in refused} == {"TOO_MANY_UPSTREAM_CALLS"}
    assert {error["extensions"]["provider"] for error in refused} == {"flexprice"}
    assert all("GATEWAY_MAX_UPSTREAM_CALLS" in error["message"] for error in refused)
    assert len(refused) == sum(1 for node in nodes if node["pdfUrl"] is None)
    assert sorted(error["path"][2] for error in refused) == [
        n for n, node in enumerate(nodes) if node["pdfUrl"] is None
    ]


def test_many_errors_of_one_kind_from_one_provider_are_counted_not_repeated(
    gateway: Hostile, client: httpx.Client
) -> None:
    # Xendit has no invoice summary: each of 60 customers' invoiceSummary is an error.
    query = """{ invoices(first: 60, filter: {provider: ["xendit"]}) {
      edges { node { id customer { invoiceSummary { currency } } } } } }"""
    body, _ = run(gateway, client, query)
    edges = body["data"]["invoices"]["edges"]
    failed = [e for e in edges if e["node"]["customer"] is not None]
    assert len(failed) > MAX_ERRORS_PER_KIND + 5
    errors = body["errors"]
    assert len(errors) == MAX_ERRORS_PER_KIND + 1
    assert {e["extensions"]["code"] for e in errors} == {"UNSUPPORTED_BY_PROVIDER"}
    assert all(e["path"][-1] == "invoiceSummary" for e in errors[:MAX_ERRORS_PER_KIND])
    summary = errors[-1]
    assert "path" not in summary
    assert summary["extensions"] == {
        "code": "UNSUPPORTED_BY_PROVIDER",
        "provider": "xendit",
        "omitted": len(failed) - MAX_ERRORS_PER_KIND,
    }
    assert f"{len(failed) - MAX_ERRORS_PER_KIND} more UNSUPPORTED_BY_PROVIDER" in summary["message"]


def test_a_repeated_query_without_variables_is_estimated_once(
    gateway: Hostile, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    walks: list[str | None] = []
    real = cost_extension.estimate

    def counted(schema: Any, operation: Any, *args: Any, **kwargs: Any) -> Any:
        walks.append(operation.name.value if operation.name else None)
        return real(schema, operation, *args, **kwargs)

    monkeypatch.setattr(cost_extension, "estimate", counted)
    plain = (
        "query Plain { invoices(first: 3) { edges { node { id } } } } query Other { __typename }"
    )
    for _ in range(3):
        response = client.post("/graphql", json={"query": plain, "operationName": "Plain"})
        assert response.json()["extensions"]["cost"]["estimated"] == 2
    # The other operation of the same document is its own estimate.
    other = client.post("/graphql", json={"query": plain, "operationName": "Other"})
    assert other.json()["extensions"]["cost"]["estimated"] == 0
    assert walks == ["Plain", "Other"]
    # With variables, the estimate depends on them: walked once for each set of them.
    walks.clear()
    varied = (
        "query Varied($p: [String!]) "
        "{ invoices(first: 2, filter: {provider: $p}) { edges { node { id } } } }"
    )
    for providers, expected in [
        (["flexprice"], 1),
        (["xendit", "flexprice"], 2),
        (["flexprice"], 1),
        (["xendit", "flexprice"], 2),
    ]:
        response = client.post("/graphql", json={"query": varied, "variables": {"p": providers}})
        assert response.json()["extensions"]["cost"]["estimated"] == expected
    assert walks == ["Varied", "Varied"]
    # A refusal is remembered as well as a pass: the answer is the same every time.
    too_costly = client.post("/graphql", json={"query": FANNED_OUT})
    again = client.post("/graphql", json={"query": FANNED_OUT})
    assert codes(too_costly.json()) == codes(again.json()) == ["QUERY_TOO_COSTLY"]
    assert too_costly.json()["errors"] == again.json()["errors"]


def test_estimates_with_variables_are_kept_by_their_values_and_bounded(
    gateway: Hostile, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    walks: list[str | None] = []
    real = cost_extension.estimate

    def counted(schema: Any, operation: Any, *args: Any, **kwargs: Any) -> Any:
        walks.append(json.dumps(args[1], sort_keys=True))
        return real(schema, operation, *args, **kwargs)

    monkeypatch.setattr(cost_extension, "estimate", counted)
    monkeypatch.setattr(cost_extension, "MAX_KEPT_ESTIMATES", 2)
    fanned = FANNED_OUT.replace("{ invoices(first:100,", "query F($n: Int) { invoices(first:$n,")

    def cost_of(n: Any) -> tuple[list[str], Any]:
        body = client.post("/graphql", json={"query": fanned, "variables": {"n": n}}).json()
        return codes(body), body["extensions"]["cost"]["estimated"]

    # A refusal is kept as well as a pass, each for its own values.
    # (n = 100: 101 searches and 100 x 100 summaries, over the limit; n = 1 and 2 under it.)
    too_many, one, two = 10102, 102, 204
    assert cost_of(100) == (["QUERY_TOO_COSTLY"], too_many)
    assert cost_of(1) == ([], one)
    assert cost_of(100) == (["QUERY_TOO_COSTLY"], too_many)
    assert cost_of(1) == ([], one)
    assert walks == ['{"n": 100}', '{"n": 1}']
    # Over the bound the oldest goes: n = 100 is walked again after two others.
    assert cost_of(2)[1] == two
    assert cost_of(100) == (["QUERY_TOO_COSTLY"], too_many)
    assert walks == ['{"n": 100}', '{"n": 1}', '{"n": 2}', '{"n": 100}']
    # Variables too long to keep are walked every time (a cursor of 600 characters here).
    walks.clear()
    long = "query L($a: String) { invoices(first: 1, after: $a) { edges { node { id } } } }"
    for _ in range(2):
        body = client.post("/graphql", json={"query": long, "variables": {"a": "x" * 600}})
        assert body.json()["extensions"]["cost"]["estimated"] == 2
    assert len(walks) == 2
