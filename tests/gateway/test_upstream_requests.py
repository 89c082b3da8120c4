"""What a query costs upstream, as the sandbox counts it (in-process and over real HTTP)."""

from __future__ import annotations

from gateway.ids import GlobalId, NodeType
from tests.gateway.conftest import Gateway

LIST_WITH_CUSTOMERS = """
query { invoices(first: 50) { edges { node {
  id number total { amount currency } status customer { id name email }
} } } }
"""


def _invoice_gid(native_id: str) -> str:
    return GlobalId(NodeType.INVOICE, "flexprice", native_id).encode()


def _customer_gid(native_id: str) -> str:
    return GlobalId(NodeType.CUSTOMER, "flexprice", native_id).encode()


async def test_fifty_invoices_with_their_customers_cost_one_search(gateway: Gateway) -> None:
    # FlexPrice's invoice search embeds each invoice's customer (its ListInvoices loads them in
    # one query), and the loader is primed with them: the customer search is never needed.
    data = await gateway.data(LIST_WITH_CUSTOMERS)
    edges = data["invoices"]["edges"]
    assert len(edges) == 50
    assert await gateway.upstream() == {"POST /v1/invoices/search": 1}
    for edge in edges:
        node = edge["node"]
        native = GlobalId.decode(node["id"], field="id").native_id
        stored = gateway.sandbox.invoices[native]
        customer = gateway.sandbox.customers[stored.customer_id]
        assert node["customer"] == {
            "id": _customer_gid(customer.id),
            "name": customer.name,
            "email": customer.email or None,
        }


async def test_twenty_aliased_invoices_cost_one_request(gateway: Gateway) -> None:
    ids = sorted(gateway.sandbox.invoices)[:20]
    fields = "\n".join(
        f'i{n}: invoice(id: "{_invoice_gid(native)}") {{ providerId total {{ amount }} }}'
        for n, native in enumerate(ids)
    )
    data = await gateway.data(f"query {{ {fields} }}")
    assert [data[f"i{n}"]["providerId"] for n in range(20)] == ids
    assert await gateway.upstream() == {"POST /v1/invoices/search": 1}


async def test_an_embedded_customer_is_not_fetched_again(gateway: Gateway) -> None:
    ids = sorted(gateway.sandbox.invoices)[:20]
    fields = "\n".join(
        f'i{n}: invoice(id: "{_invoice_gid(native)}") {{ customer {{ name }} }}'
        for n, native in enumerate(ids)
    )
    data = await gateway.data(f"query {{ {fields} }}")
    expected = [
        gateway.sandbox.customers[gateway.sandbox.invoices[i].customer_id].name for i in ids
    ]
    assert [data[f"i{n}"]["customer"]["name"] for n in range(20)] == expected
    assert await gateway.upstream() == {"POST /v1/invoices/search": 1}


async def test_customers_by_id_cost_one_search_in_key_order_with_nulls(gateway: Gateway) -> None:
    ids = sorted(gateway.sandbox.customers)[:15]
    asked = [*ids[:7], "cust_does_not_exist", *ids[7:], ids[0]]
    data = await gateway.data(
        "query($ids: [ID!]!) { customers(ids: $ids) { providerId name } }",
        {"ids": [_customer_gid(native) for native in asked]},
    )
    got = [None if c is None else c["providerId"] for c in data["customers"]]
    assert got == [None if n == "cust_does_not_exist" else n for n in asked]
    assert await gateway.upstream() == {"POST /v1/customers/search": 1}


async def test_a_customer_page_costs_one_request_per_part(gateway: Gateway) -> None:
    customer_id = sorted(gateway.sandbox.customers)[0]
    data = await gateway.data(
        """query($id: ID!) { customer(id: $id) {
             name
             invoices(first: 20) { totalCount edges { node { providerId customer { name } } } }
             invoiceSummary { currency totalInvoiceCount }
           } }""",
        {"id": _customer_gid(customer_id)},
    )
    customer = data["customer"]
    assert customer["name"] == gateway.sandbox.customers[customer_id].name
    mine = [
        i
        for i in gateway.sandbox.invoices.values()
        if i.customer_id == customer_id and i.invoice_status != "SKIPPED"
    ]
    assert customer["invoices"]["totalCount"] == len(mine)
    assert {e["node"]["customer"]["name"] for e in customer["invoices"]["edges"]} == {
        customer["name"]
    }
    assert await gateway.upstream() == {
        "POST /v1/customers/search": 1,
        "POST /v1/invoices/search": 1,
        "GET /v1/customers/{id}/invoices/summary": 1,
    }


async def test_an_empty_id_list_makes_no_upstream_call(gateway: Gateway) -> None:
    data = await gateway.data("{ customers(ids: []) { id } }")
    assert data == {"customers": []}
    assert await gateway.upstream() == {}


CUSTOMERS_OF_A_LISTING = """
query { invoices(first: 30) { edges { node { customer {
  id
  invoices(first: 4) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { providerId } }
  }
  invoiceSummary { currency totalInvoiceCount }
} } } } }
"""

ONE_CUSTOMER = """
query($id: ID!) { customer(id: $id) {
  invoices(first: 4) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { providerId } }
  }
  invoiceSummary { currency totalInvoiceCount }
} }
"""


async def test_the_invoices_of_a_listings_customers_cost_one_search_and_a_summary_each(
    gateway: Gateway,
) -> None:
    data = await gateway.data(CUSTOMERS_OF_A_LISTING)
    customers = [edge["node"]["customer"] for edge in data["invoices"]["edges"]]
    distinct = {customer["id"] for customer in customers}
    assert len(customers) == 30
    assert 1 < len(distinct) < 30  # some customers come back more than once
    # The listing, then one search for every customer's first page; one summary per customer
    # (not one per invoice).
    assert await gateway.upstream() == {
        "POST /v1/invoices/search": 2,
        "GET /v1/customers/{id}/invoices/summary": len(distinct),
    }
    # Each customer's page is exactly the page it gets when asked alone: the same invoices,
    # count and cursors (so `after: endCursor` goes on from the batched page).
    for customer_id in sorted(distinct)[:6]:
        alone = (await gateway.data(ONE_CUSTOMER, {"id": customer_id}))["customer"]
        batched = [c for c in customers if c["id"] == customer_id]
        for customer in batched:
            assert customer["invoices"] == alone["invoices"]
            assert customer["invoiceSummary"] == alone["invoiceSummary"]
