"""The scenarios: what each sends, how it is prepared against a freshly reset stack, how a
good answer is recognised, and its floor.

The floor of a scenario is the number of upstream round trips on its critical path that the
providers' APIs force, under the limits the gateway documents (XENDIT_MAX_CONCURRENCY), times
the sandboxes' latency. What a better gateway could save is not in the floor: it shows up as
overhead. Each scenario's `floor_basis` says how its count was reached.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.client import GatewayClient

__all__ = [
    "ALL_SCENARIOS",
    "EVENTS_SCENARIOS",
    "FLOORS",
    "KEY_PLACEHOLDER",
    "SCENARIOS",
    "Scenario",
    "Workload",
]

#: In a body with `fresh_keys`, replaced by a new idempotency key for every request.
KEY_PLACEHOLDER = "__BENCH_IDEMPOTENCY_KEY__"


@dataclass(frozen=True)
class Workload:
    """One prepared request: the body every request sends and what its answer must contain."""

    body: bytes
    fresh_keys: bool = False
    #: Byte strings a good answer contains (besides being 200 without `errors`).
    must_contain: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    floor_round_trips: int
    floor_basis: str
    #: Builds the workload from the seeded data (ids differ after every reset) and checks that
    #: one answer to it has the expected shape; raises AssertionError if not.
    prepare: Callable[[GatewayClient], Workload]
    #: The driver: `bench.loadgen` sends the workload's body back to back; for
    #: `bench.events_driver` the body is the subscription its subscribers hold while it posts
    #: webhooks.
    driver: str = "bench.loadgen"
    #: Part of a run that names no `--scenario`.
    default: bool = True
    #: For an events scenario: upstream round trips between a webhook's receipt and its
    #: delivery that the providers force (times L: the delivery latency's floor).
    delivery_round_trips: int = 0


def _body(query: str, variables: dict[str, Any] | None = None) -> bytes:
    payload: dict[str, Any] = {"query": " ".join(query.split())}
    if variables:
        payload["variables"] = variables
    return json.dumps(payload, separators=(",", ":")).encode()


def _ids(client: GatewayClient, provider: str, count: int) -> list[str]:
    query = """query($p: [String!], $n: Int) { invoices(first: $n, filter: {provider: $p}) {
        edges { node { id } } } }"""
    data = client.data(query, {"p": [provider], "n": count})
    ids = [edge["node"]["id"] for edge in data["invoices"]["edges"]]
    assert len(ids) == count, f"the {provider} sandbox listed {len(ids)} invoices, not {count}"
    return ids


# -- typename ------------------------------------------------------------------------------


def _typename(client: GatewayClient) -> Workload:
    body = _body("{ __typename }")
    assert client.post(body)["data"] == {"__typename": "Query"}
    return Workload(body)


# -- invoices-with-customers ---------------------------------------------------------------

INVOICES_WITH_CUSTOMERS = """
query InvoicesWithCustomers {
  invoices(first: 50) {
    edges { node {
      id provider number status paymentStatus dueAt
      total { amount currency formatted }
      amountDue { amount currency formatted }
      customer { name email }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def _invoices_with_customers(client: GatewayClient) -> Workload:
    body = _body(INVOICES_WITH_CUSTOMERS)
    edges = client.post(body)["data"]["invoices"]["edges"]
    assert len(edges) == 50, f"{len(edges)} invoices listed, not 50"
    providers = {edge["node"]["provider"] for edge in edges}
    assert providers == {"flexprice", "xendit"}, f"only {providers} in the first 50"
    # Some seeded Xendit invoices name no customer record (customer is null): most do.
    named = sum(1 for edge in edges if (edge["node"]["customer"] or {}).get("name"))
    assert named >= 40, f"only {named} of 50 invoices came with a customer's name"
    return Workload(body)


# -- flexprice-50, xendit-50 ----------------------------------------------------------------

#: The question the comparison with an off-the-shelf generated gateway (GraphQL Mesh + Hive
#: Gateway) asks of one provider: 50 invoices with id, status, total and the customer's name
#: and email.
ONE_PROVIDER_50 = """
query OneProvider50($p: [String!]) {
  invoices(first: 50, filter: {provider: $p}) {
    edges { node { id status total { amount currency } customer { name email } } }
  }
}"""


def _one_provider_50(provider: str) -> Callable[[GatewayClient], Workload]:
    def prepare(client: GatewayClient) -> Workload:
        body = _body(ONE_PROVIDER_50, {"p": [provider]})
        edges = client.post(body)["data"]["invoices"]["edges"]
        assert len(edges) == 50, f"{len(edges)} {provider} invoices listed, not 50"
        named = sum(1 for edge in edges if (edge["node"]["customer"] or {}).get("email"))
        assert named >= 40, f"only {named} of 50 {provider} invoices came with an email"
        return Workload(body)

    return prepare


# -- invoice-by-id -------------------------------------------------------------------------

INVOICE_FIELDS = "id provider number status total { amount currency formatted } customer { name }"


def _invoice_by_id(client: GatewayClient) -> Workload:
    flexprice, xendit = _ids(client, "flexprice", 10), _ids(client, "xendit", 10)
    mixed = [gid for pair in zip(flexprice, xendit, strict=True) for gid in pair]
    fields = " ".join(
        f'i{n}: invoice(id: "{gid}") {{ {INVOICE_FIELDS} }}' for n, gid in enumerate(mixed)
    )
    body = _body(f"query InvoiceById {{ {fields} }}")
    data = client.post(body)["data"]
    assert [data[f"i{n}"]["id"] for n in range(20)] == mixed, "an invoice was not found"
    return Workload(body)


# -- customer-page -------------------------------------------------------------------------

CUSTOMER_PAGE = """
query CustomerPage($id: ID!) {
  customer(id: $id) {
    id name email
    invoices(first: 20) {
      totalCount
      edges { node { id number status paymentStatus dueAt total { amount currency formatted } } }
      pageInfo { hasNextPage endCursor }
    }
    invoiceSummary {
      currency totalInvoiceCount unpaidInvoiceCount overdueInvoiceCount
      totalRevenue { amount currency formatted }
      totalUnpaid { amount currency formatted }
      totalOverdue { amount currency formatted }
    }
  }
}"""


def _busiest_flexprice_customer(client: GatewayClient) -> str:
    data = client.data(
        """{ invoices(first: 100, filter: {provider: ["flexprice"]}) {
             edges { node { customer { id } } } } }"""
    )
    counts = Counter[str](edge["node"]["customer"]["id"] for edge in data["invoices"]["edges"])
    # The most invoices, then the smallest id: the same customer for the same seed.
    return min(counts, key=lambda cid: (-counts[cid], cid))


def _customer_page(client: GatewayClient) -> Workload:
    customer = _busiest_flexprice_customer(client)
    body = _body(CUSTOMER_PAGE, {"id": customer})
    found = client.post(body)["data"]["customer"]
    assert found["id"] == customer, "the customer was not found"
    assert found["invoices"]["edges"], "the customer has no invoices"
    assert found["invoiceSummary"], "the customer has no invoice summary"
    return Workload(body)


# -- create-invoice ------------------------------------------------------------------------

CREATE_INVOICE = """
mutation CreateInvoice($input: CreateInvoiceInput!) {
  createInvoice(input: $input) {
    invoice { id number status total { amount currency formatted } }
    userErrors { code message field }
  }
}"""


def _create_invoice(client: GatewayClient) -> Workload:
    customer = _busiest_flexprice_customer(client)
    variables = {
        "input": {
            "customerId": customer,
            "currency": "USD",
            "description": "Benchmark",
            "idempotencyKey": KEY_PLACEHOLDER,
            "lineItems": [
                {"description": "Seats", "quantity": "3", "unitAmount": "12.50"},
                {"description": "API calls", "quantity": "1230", "unitAmount": "0.001"},
            ],
        }
    }
    body = _body(CREATE_INVOICE, variables)
    once = body.replace(KEY_PLACEHOLDER.encode(), b"bench-check")
    created = client.post(once)["data"]["createInvoice"]
    assert created["userErrors"] == [], f"createInvoice refused: {created['userErrors']}"
    assert created["invoice"]["status"] == "OPEN", created["invoice"]
    return Workload(body, fresh_keys=True, must_contain=('"userErrors":[]',))


# -- events --------------------------------------------------------------------------------

#: What each subscriber selects: nothing that reads the invoice upstream (`invoice` would: once
#: per event and gateway process).
EVENTS = "subscription BenchEvents { invoiceEvents { id type invoiceId receivedAt } }"
#: The same with the invoice as the provider has it now: one Xendit GET per event.
EVENTS_INVOICE = (
    "subscription BenchEventsInvoice { invoiceEvents { id type invoiceId receivedAt "
    "invoice { status } } }"
)


def _events(query: str) -> Callable[[GatewayClient], Workload]:
    def prepare(client: GatewayClient) -> Workload:
        # Nothing to read: the callbacks name invoices of their own, and the driver proves the
        # path (a callback recorded and delivered to every subscriber) before it measures.
        return Workload(query.encode())

    return prepare


#: The request scenarios: one GraphQL request each, sent back to back (`bench.loadgen`).
SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        Scenario(
            name="typename",
            description="{ __typename }: HTTP and GraphQL machinery alone",
            floor_round_trips=0,
            floor_basis="no upstream call",
            prepare=_typename,
        ),
        Scenario(
            name="invoices-with-customers",
            description="invoices(first: 50) over both providers: totals, status, "
            "customer { name email }",
            floor_round_trips=1,
            floor_basis="one list call per provider, in parallel; both embed the customer "
            "(the issue assumed a FlexPrice customer search after the list: 2)",
            prepare=_invoices_with_customers,
        ),
        Scenario(
            name="flexprice-50",
            description="invoices(first: 50) of FlexPrice alone: id, status, total, "
            "customer { name email }",
            floor_round_trips=1,
            floor_basis="one search; FlexPrice embeds the customer",
            prepare=_one_provider_50("flexprice"),
        ),
        Scenario(
            name="xendit-50",
            description="invoices(first: 50) of Xendit alone: id, status, total, "
            "customer { name email }",
            floor_round_trips=1,
            floor_basis="one list call; Xendit embeds the customer",
            prepare=_one_provider_50("xendit"),
        ),
        Scenario(
            name="invoice-by-id",
            description="20 aliased invoice(id:), 10 FlexPrice and 10 Xendit, interleaved",
            floor_round_trips=2,
            floor_basis="FlexPrice: one search for the 10 ids; Xendit: no batch call, 10 GETs "
            "at most 8 at once (XENDIT_MAX_CONCURRENCY) = 2 waves; in parallel",
            prepare=_invoice_by_id,
        ),
        Scenario(
            name="customer-page",
            description="one FlexPrice customer with invoices(first: 20) and invoiceSummary",
            floor_round_trips=1,
            floor_basis="customer look-up, invoice search and summary need only the id: all "
            "three could run at once (the gateway runs the look-up first: 2)",
            prepare=_customer_page,
        ),
        Scenario(
            name="create-invoice",
            description="createInvoice for a FlexPrice customer, a fresh idempotency key each",
            floor_round_trips=1,
            floor_basis="one POST /invoices (FlexPrice keeps the idempotency key itself)",
            prepare=_create_invoice,
        ),
    ]
}


#: The events scenarios: webhooks posted while subscribers listen (`bench.events_driver`).
EVENTS_SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        Scenario(
            name="events",
            description="Xendit invoice callbacks posted back to back to /webhooks/xendit, "
            "each delivered to every subscriber of invoiceEvents over SSE "
            "(id type invoiceId receivedAt)",
            floor_round_trips=0,
            floor_basis="no upstream call: the callback is recorded and the subscribers select "
            "nothing the provider is asked for",
            prepare=_events(EVENTS),
            driver="bench.events_driver",
        ),
        Scenario(
            name="events-invoice",
            description="events, each subscriber also selecting invoice { status }: the invoice "
            "read again from Xendit, once per event for all subscribers",
            floor_round_trips=0,
            floor_basis="the POST: no upstream call. Each delivery waits for one GET "
            "/v2/invoices/{id}, shared by every subscriber (a delivery floor of 1 x L); the "
            "callbacks name invoices Xendit does not have, so it answers 404 and invoice is null",
            prepare=_events(EVENTS_INVOICE),
            driver="bench.events_driver",
            default=False,
            delivery_round_trips=1,
        ),
    ]
}

#: Every scenario `python bench/run.py --scenario` takes, in the order a run measures them.
ALL_SCENARIOS: dict[str, Scenario] = {**SCENARIOS, **EVENTS_SCENARIOS}


#: `python bench/run.py --floor MODE`: the same request as `typename`, answered by
#: `bench.floor_app` in MODE instead of the gateway: what a Python server on this stack costs
#: with no gateway in it, bare (`serve`) and with one upstream call (`proxy`, `proxy-decode`).
FLOORS: dict[str, Scenario] = {
    mode: Scenario(
        name=f"floor-{mode}",
        description=description,
        floor_round_trips=0 if mode == "serve" else 1,
        floor_basis="no upstream call" if mode == "serve" else "one list call",
        prepare=_typename,  # the floor app answers what the gateway answers `{ __typename }`
    )
    for mode, description in [
        ("serve", "uvicorn answering a fixed body: the floor under `typename`"),
        ("proxy", "the same after one GET of Xendit's 50-invoice page through bare aiohttp"),
        (
            "proxy-decode",
            "floor-proxy, the page decoded as the gateway decodes it: the floor under `xendit-50`",
        ),
    ]
}
