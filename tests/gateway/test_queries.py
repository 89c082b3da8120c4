"""Reading invoices and customers through the schema: what a client sees, checked against the
sandbox's own records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from gateway import pagination
from gateway.ids import GlobalId, NodeType
from tests.gateway.conftest import Gateway

pytestmark = pytest.mark.parametrize("mode", ["in-process"], indirect=True)

STATUS = {  # the gateway's status of each FlexPrice (invoice_status, payment_status) pair
    "DRAFT": "DRAFT",
    "SKIPPED": "VOID",
    "VOIDED": "VOID",
}
PAID = {"SUCCEEDED", "OVERPAID", "PARTIALLY_REFUNDED", "REFUNDED"}


def gid(kind: NodeType, native: str) -> str:
    return GlobalId(kind, "flexprice", native).encode()


def expected_status(invoice: Any) -> str:
    if invoice.invoice_status in STATUS:
        return STATUS[invoice.invoice_status]
    return "PAID" if invoice.payment_status in PAID else "OPEN"


def newest_first(invoices: list[Any]) -> list[Any]:
    return sorted(invoices, key=lambda i: (-i.created_at.timestamp(), i.id))


async def walk(gateway: Gateway, filter: dict[str, Any] | None, first: int = 100) -> list[str]:
    ids: list[str] = []
    after = None
    for _ in range(50):
        data = await gateway.data(
            """query($first: Int, $after: String, $filter: InvoiceFilterInput) {
                 invoices(first: $first, after: $after, filter: $filter) {
                   totalCount edges { cursor node { providerId } }
                   pageInfo { hasNextPage endCursor }
                 } }""",
            {"first": first, "after": after, "filter": filter},
        )
        page = data["invoices"]
        ids.extend(e["node"]["providerId"] for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("pagination did not end")


async def test_walking_every_page_returns_every_visible_invoice_once_newest_first(
    gateway: Gateway,
) -> None:
    visible = [i for i in gateway.sandbox.invoices.values() if i.invoice_status != "SKIPPED"]
    assert await walk(gateway, None) == [i.id for i in newest_first(visible)]


@pytest.mark.parametrize(
    ("filter", "keep"),
    [
        ({"status": ["OPEN"]}, lambda i: expected_status(i) == "OPEN"),
        ({"status": ["PAID", "VOID"]}, lambda i: expected_status(i) in {"PAID", "VOID"}),
        ({"status": ["DRAFT"]}, lambda i: i.invoice_status == "DRAFT"),
        ({"paymentStatus": ["FAILED"]}, lambda i: i.payment_status == "FAILED"),
        ({"currency": ["eur"]}, lambda i: i.currency == "eur"),
        ({"currency": ["EUR", "INR"]}, lambda i: i.currency in {"eur", "inr"}),
    ],
)
async def test_filters_match_the_sandbox_records(
    gateway: Gateway, filter: dict[str, Any], keep: Any
) -> None:
    # SKIPPED invoices (zero-amount subscription drafts) are never listed, whatever the filter.
    visible = [i for i in gateway.sandbox.invoices.values() if i.invoice_status != "SKIPPED"]
    wanted = [i.id for i in newest_first([i for i in visible if keep(i)])]
    assert wanted, "the seed should cover every filter"
    assert await walk(gateway, filter) == wanted


async def test_filter_by_customers_and_creation_time(gateway: Gateway) -> None:
    customers = sorted(gateway.sandbox.customers)[:3]
    invoices = newest_first(
        [
            i
            for i in gateway.sandbox.invoices.values()
            if i.customer_id in customers and i.invoice_status != "SKIPPED"
        ]
    )
    middle = invoices[len(invoices) // 2].created_at
    filter = {
        "customerId": [gid(NodeType.CUSTOMER, c) for c in customers],
        "createdAfter": middle.isoformat(),
    }
    assert await walk(gateway, filter, first=5) == [i.id for i in invoices if i.created_at > middle]


async def test_an_invoice_reads_as_the_sandbox_stores_it(gateway: Gateway) -> None:
    stored = next(
        i
        for i in newest_first(list(gateway.sandbox.invoices.values()))
        if i.invoice_status == "FINALIZED" and len(i.line_items) > 1
    )
    data = await gateway.data(
        """query($id: ID!) { invoice(id: $id) {
             id provider providerId number status paymentStatus providerStatus currency
             subtotal { amount currency formatted } total { amount } amountDue { amount }
             amountPaid { amount } amountRemaining { amount } tax { amount } discount { amount }
             lineItems { description quantity amount { amount currency } }
             createdAt dueAt raw
           } }""",
        {"id": gid(NodeType.INVOICE, stored.id)},
    )
    invoice = data["invoice"]
    assert invoice["id"] == gid(NodeType.INVOICE, stored.id)
    assert invoice["provider"] == "flexprice"
    assert invoice["number"] == stored.invoice_number
    assert invoice["status"] == expected_status(stored)
    assert invoice["providerStatus"] == f"{stored.invoice_status}/{stored.payment_status}"
    assert invoice["currency"] == stored.currency.upper()
    assert Decimal(invoice["total"]["amount"]) == stored.total
    assert Decimal(invoice["amountDue"]["amount"]) == stored.amount_due
    assert Decimal(invoice["amountRemaining"]["amount"]) == stored.amount_remaining
    assert invoice["subtotal"]["currency"] == stored.currency.upper()
    lines = [(li["description"], Decimal(li["amount"]["amount"])) for li in invoice["lineItems"]]
    assert sum(amount for _, amount in lines) == stored.subtotal
    assert dt.datetime.fromisoformat(invoice["createdAt"]) == stored.created_at
    assert invoice["raw"]["id"] == stored.id


async def test_node_finds_invoices_and_customers(gateway: Gateway) -> None:
    invoice_id = sorted(gateway.sandbox.invoices)[0]
    customer_id = sorted(gateway.sandbox.customers)[0]
    data = await gateway.data(
        """query($i: ID!, $c: ID!) {
             i: node(id: $i) { __typename id ... on Invoice { providerId } }
             c: node(id: $c) { __typename id ... on Customer { providerId name } }
           }""",
        {"i": gid(NodeType.INVOICE, invoice_id), "c": gid(NodeType.CUSTOMER, customer_id)},
    )
    assert data["i"]["__typename"] == "Invoice"
    assert data["i"]["providerId"] == invoice_id
    assert data["c"] == {
        "__typename": "Customer",
        "id": gid(NodeType.CUSTOMER, customer_id),
        "providerId": customer_id,
        "name": gateway.sandbox.customers[customer_id].name,
    }


async def test_an_unknown_invoice_is_null_not_an_error(gateway: Gateway) -> None:
    data = await gateway.data(
        "query($id: ID!) { invoice(id: $id) { id } }",
        {"id": gid(NodeType.INVOICE, "inv_01HZZZZZZZZZZZZZZZZZZZZZZZ")},
    )
    assert data == {"invoice": None}


@pytest.mark.parametrize(
    ("query", "variables", "field", "code"),
    [
        ("query($id: ID!) { invoice(id: $id) { id } }", {"id": "garbage"}, "id", "INVALID_ID"),
        (
            "query($id: ID!) { invoice(id: $id) { id } }",
            {"id": GlobalId(NodeType.CUSTOMER, "flexprice", "cust_1").encode()},
            "id",
            "INVALID_ID",
        ),
        (
            "query($id: ID!) { invoice(id: $id) { id } }",
            {"id": GlobalId(NodeType.INVOICE, "stripe", "in_1").encode()},
            "id",
            "UNKNOWN_PROVIDER",
        ),
        ("{ invoices(first: 101) { totalCount } }", None, "first", "BAD_USER_INPUT"),
        ("{ invoices(first: -1) { totalCount } }", None, "first", "BAD_USER_INPUT"),
        ('{ invoices(after: "nope") { totalCount } }', None, "after", "BAD_USER_INPUT"),
        (
            '{ invoices(filter: {currency: ["XYZ"]}) { totalCount } }',
            None,
            "filter.currency",
            "BAD_USER_INPUT",
        ),
        (
            '{ invoices(filter: {provider: ["nope"]}) { totalCount } }',
            None,
            "filter.provider",
            "UNKNOWN_PROVIDER",
        ),
    ],
)
async def test_bad_arguments_are_coded_errors_naming_the_field_and_reach_no_provider(
    gateway: Gateway, query: str, variables: dict[str, Any] | None, field: str, code: str
) -> None:
    body = await gateway.query(query, variables)
    [error] = body["errors"]
    assert error["extensions"]["code"] == code
    assert error["extensions"]["field"] == field
    assert field.split(".")[-1] in error["message"]
    assert await gateway.upstream() == {}


async def test_providers_lists_flexprice_with_every_capability(gateway: Gateway) -> None:
    data = await gateway.data("{ providers { name sandbox capabilities } }")
    [provider] = data["providers"]
    assert provider["name"] == "flexprice"
    assert provider["sandbox"] is True
    assert {"CREATE_INVOICE", "FINALIZE_INVOICE", "VOID_INVOICE", "PREVIEW_INVOICE"} <= set(
        provider["capabilities"]
    )


async def test_invoice_summary_per_currency_matches_the_records(gateway: Gateway) -> None:
    customer_id = max(
        gateway.sandbox.customers,
        key=lambda c: sum(1 for s in gateway.sandbox.subscriptions.values() if s.customer_id == c),
    )
    data = await gateway.data(
        """query($id: ID!) { customer(id: $id) { invoiceSummary {
             currency totalInvoiceCount totalRevenue { amount currency }
           } } }""",
        {"id": gid(NodeType.CUSTOMER, customer_id)},
    )
    summaries = data["customer"]["invoiceSummary"]
    assert summaries, "the busiest customer should have a summary"
    # FlexPrice summarises the currencies of the customer's subscriptions, counting its
    # DRAFT and FINALIZED invoices in each.
    for summary in summaries:
        counted = [
            i
            for i in gateway.sandbox.invoices.values()
            if i.customer_id == customer_id
            and i.currency.upper() == summary["currency"]
            and i.invoice_status in ("DRAFT", "FINALIZED")
        ]
        assert summary["totalInvoiceCount"] == len(counted)
        assert Decimal(summary["totalRevenue"]["amount"]) == sum(
            (i.amount_due for i in counted), Decimal(0)
        )
        assert summary["totalRevenue"]["currency"] == summary["currency"]


async def test_invoice_preview_of_a_seeded_subscription_is_not_saved(gateway: Gateway) -> None:
    subscription = next(
        s for s in gateway.sandbox.subscriptions.values() if s.subscription_status == "active"
    )
    before = len(gateway.sandbox.invoices)
    data = await gateway.data(
        """query($input: InvoicePreviewInput!) { invoicePreview(input: $input) {
             __typename currency total { amount } lineItems { description } } }""",
        {"input": {"provider": "flexprice", "subscriptionId": subscription.id}},
    )
    preview = data["invoicePreview"]
    assert preview["__typename"] == "InvoicePreview"  # no id: nothing can cache or refetch it
    assert preview["lineItems"]
    assert Decimal(preview["total"]["amount"]) >= 0
    assert len(gateway.sandbox.invoices) == before


async def test_invoice_preview_bills_the_period_asked_for(gateway: Gateway) -> None:
    subscription = next(
        s
        for s in gateway.sandbox.subscriptions.values()
        if s.subscription_status == "active" and any(c.price_type == "USAGE" for c in s.charges)
    )
    year = subscription.start_date.year + 1

    async def total(month: int) -> Decimal:
        data = await gateway.data(
            """query($input: InvoicePreviewInput!) {
                 invoicePreview(input: $input) { total { amount } } }""",
            {
                "input": {
                    "provider": "flexprice",
                    "subscriptionId": subscription.id,
                    "periodStart": f"{year}-{month:02d}-01T00:00:00Z",
                    "periodEnd": f"{year}-{month + 1:02d}-01T00:00:00Z",
                }
            },
        )
        return Decimal(data["invoicePreview"]["total"]["amount"])

    june = await total(6)
    assert june != await total(11)  # each period's own usage (they had the same total)
    assert await total(6) == june


async def test_pdf_url_points_at_a_real_pdf(gateway: Gateway) -> None:
    stored = next(i for i in gateway.sandbox.invoices.values() if i.invoice_number)
    data = await gateway.data(
        "query($id: ID!) { invoice(id: $id) { pdfUrl } }", {"id": gid(NodeType.INVOICE, stored.id)}
    )
    url = data["invoice"]["pdfUrl"]
    assert url.startswith("http")
    response = await gateway.sandbox_http.get(url)
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")


async def test_money_is_exact_and_formatted_for_the_currency(gateway: Gateway) -> None:
    jpy = next((i for i in gateway.sandbox.invoices.values() if i.currency == "jpy"), None)
    usd = next(i for i in gateway.sandbox.invoices.values() if i.currency == "usd" and i.total)
    data = await gateway.data(
        "query($id: ID!) { invoice(id: $id) { total { amount currency formatted } } }",
        {"id": gid(NodeType.INVOICE, usd.id)},
    )
    total = data["invoice"]["total"]
    assert Decimal(total["amount"]) == usd.total
    assert total["formatted"].startswith("$")
    assert total["formatted"].endswith(f"{usd.total.quantize(Decimal('0.01')):,}")
    if jpy is not None:
        data = await gateway.data(
            "query($id: ID!) { invoice(id: $id) { total { formatted } } }",
            {"id": gid(NodeType.INVOICE, jpy.id)},
        )
        assert "." not in data["invoice"]["total"]["formatted"]


async def test_an_invoice_created_while_paging_does_not_repeat_one(gateway: Gateway) -> None:
    query = """query($after: String) { invoices(first: 5, after: $after) {
                 edges { node { providerId } } pageInfo { endCursor } } }"""
    first = (await gateway.data(query, {"after": None}))["invoices"]
    customer = sorted(gateway.sandbox.customers)[0]
    created = await gateway.data(
        """mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) {
             invoice { providerId } userErrors { message } } }""",
        {
            "input": {
                "customerId": gid(NodeType.CUSTOMER, customer),
                "currency": "USD",
                "lineItems": [{"description": "x", "quantity": "1", "unitAmount": "5"}],
            }
        },
    )
    assert created["createInvoice"]["userErrors"] == []
    second = (await gateway.data(query, {"after": first["pageInfo"]["endCursor"]}))["invoices"]
    page_one = [e["node"]["providerId"] for e in first["edges"]]
    page_two = [e["node"]["providerId"] for e in second["edges"]]
    visible = [i for i in gateway.sandbox.invoices.values() if i.invoice_status != "SKIPPED"]
    ordered = [i.id for i in newest_first(visible)]
    new_id = created["createInvoice"]["invoice"]["providerId"]
    assert ordered[0] == new_id  # the new invoice is the newest ...
    assert page_one + page_two == ordered[1:11]  # ... and the walk neither repeats nor skips


async def test_first_zero_answers_the_total_count(gateway: Gateway) -> None:
    data = await gateway.data(
        '{ invoices(first: 0, filter: {currency: ["GBP"]}) '
        "{ totalCount edges { cursor } pageInfo { hasNextPage } } }"
    )
    gbp = [
        i
        for i in gateway.sandbox.invoices.values()
        if i.currency == "gbp" and i.invoice_status != "SKIPPED"
    ]
    assert data["invoices"] == {
        "totalCount": len(gbp),
        "edges": [],
        "pageInfo": {"hasNextPage": bool(gbp)},
    }


async def test_a_cursor_cannot_be_replayed_with_another_filter(gateway: Gateway) -> None:
    data = await gateway.data(
        "{ invoices(first: 2, filter: {status: [PAID]}) { pageInfo { endCursor } } }"
    )
    cursor = data["invoices"]["pageInfo"]["endCursor"]
    body = await gateway.query(
        'query($after: String) { invoices(first: 2, after: $after, filter: {currency: ["JPY"]}) '
        "{ totalCount } }",
        {"after": cursor},
    )
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}


async def test_a_customers_invoices_filtered_by_status_are_only_theirs(gateway: Gateway) -> None:
    customer_id = sorted(gateway.sandbox.customers)[1]
    data = await gateway.data(
        """query($id: ID!) { customer(id: $id) {
             invoices(first: 100, filter: {status: [PAID]}) {
               totalCount edges { node { providerId } } }
           } }""",
        {"id": gid(NodeType.CUSTOMER, customer_id)},
    )
    paid = [
        i.id
        for i in newest_first(list(gateway.sandbox.invoices.values()))
        if i.customer_id == customer_id
        and expected_status(i) == "PAID"
        and i.invoice_status != "SKIPPED"
    ]
    connection = data["customer"]["invoices"]
    assert [e["node"]["providerId"] for e in connection["edges"]] == paid
    assert connection["totalCount"] == len(paid)


async def test_finalizing_the_drafts_of_a_page_does_not_skip_drafts_on_the_next(
    gateway: Gateway,
) -> None:
    """The common loop: list drafts, finalize each, ask for the next page."""
    query = """query($after: String) { invoices(first: 4, after: $after, filter: {status: [DRAFT]})
                 { edges { node { id providerId } } pageInfo { endCursor hasNextPage } } }"""
    drafts = [
        i.id
        for i in newest_first(list(gateway.sandbox.invoices.values()))
        if i.invoice_status == "DRAFT"
    ]
    assert len(drafts) >= 8
    walked: list[str] = []
    after = None
    for _ in range(len(drafts)):
        page = (await gateway.data(query, {"after": after}))["invoices"]
        for edge in page["edges"]:
            walked.append(edge["node"]["providerId"])
            result = await gateway.data(
                """mutation($id: ID!) { finalizeInvoice(input: {id: $id}) {
                     userErrors { message } } }""",
                {"id": edge["node"]["id"]},
            )
            assert result["finalizeInvoice"]["userErrors"] == []
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert walked == drafts


async def test_a_cursor_is_encoded_only_when_a_client_selects_one(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Most listings ask only for nodes: no edge cursor is written for them. A client that
    selects cursors gets one per edge it reads, and they still resume right after their edge."""
    encoded: list[str] = []
    real = pagination.wrap_cursor

    def counted(*args: Any, **kwargs: Any) -> str:
        encoded.append(real(*args, **kwargs))
        return encoded[-1]

    monkeypatch.setattr(pagination, "wrap_cursor", counted)
    plain = await gateway.data(
        "{ invoices(first: 5) { totalCount edges { node { id } } pageInfo { hasNextPage } } }"
    )
    ids = [edge["node"]["id"] for edge in plain["invoices"]["edges"]]
    assert len(ids) == 5
    assert plain["invoices"]["pageInfo"]["hasNextPage"] is True
    assert encoded == []

    asked = await gateway.data(
        "{ invoices(first: 5) { edges { cursor node { id } } pageInfo { startCursor endCursor } } }"
    )
    edges = asked["invoices"]["edges"]
    # Only the cursors returned were written (GATEWAY_VERIFY_PLANS, set in tests, writes each
    # twice: once by the compiled plan and once by graphql-core, which checks it).
    assert set(encoded) == {edge["cursor"] for edge in edges}
    assert asked["invoices"]["pageInfo"]["startCursor"] == edges[0]["cursor"]
    assert asked["invoices"]["pageInfo"]["endCursor"] == edges[-1]["cursor"]
    query = "query($a: String) { invoices(first: 2, after: $a) { edges { node { id } } } }"
    rest = await gateway.data(query, {"a": edges[1]["cursor"]})
    assert [edge["node"]["id"] for edge in rest["invoices"]["edges"]] == ids[2:4]
