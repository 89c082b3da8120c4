"""Xendit through the schema, beside FlexPrice: what a client sees, the upstream calls made and
the data left in the Xendit sandbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.ids import GlobalId, NodeType
from gateway.settings import GatewaySettings
from gateway.wiring import Wired, on_sandbox
from providers.xendit import XenditProvider
from tests.gateway.conftest import FAST


@dataclass
class Both:
    http: httpx.AsyncClient
    flexprice: Wired
    xendit: Wired

    @property
    def xsb(self) -> Any:
        assert self.xendit.sandbox is not None
        return self.xendit.sandbox.state.sandbox

    @property
    def fsb(self) -> Any:
        assert self.flexprice.sandbox is not None
        return self.flexprice.sandbox.state.sandbox

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables})
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def stats(self, provider: Wired) -> dict[str, int]:
        assert provider.sandbox is not None
        transport = httpx.ASGITransport(app=provider.sandbox)
        async with httpx.AsyncClient(transport=transport, base_url="http://sb") as client:
            stats = (await client.get("/_sandbox/stats")).json()
        return {k: v for k, v in stats["requests"].items() if v}

    async def reset_stats(self) -> None:
        for provider in (self.flexprice, self.xendit):
            assert provider.sandbox is not None
            transport = httpx.ASGITransport(app=provider.sandbox)
            async with httpx.AsyncClient(transport=transport, base_url="http://sb") as client:
                await client.delete("/_sandbox/stats")


@pytest.fixture
async def both() -> AsyncIterator[Both]:
    flexprice = on_sandbox("flexprice", policy=FAST)
    xendit = on_sandbox("xendit", policy=FAST)
    settings = GatewaySettings(providers=("flexprice", "xendit"))
    app = create_app(settings=settings, providers={"flexprice": flexprice, "xendit": xendit})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        yield Both(http=http, flexprice=flexprice, xendit=xendit)
    await flexprice.provider.aclose()
    await xendit.provider.aclose()


def xid(native: str) -> str:
    return GlobalId(NodeType.INVOICE, "xendit", native).encode()


def master_invoices(both: Both) -> list[Any]:
    master = next(iter(both.xsb.accounts))
    return [i for i in both.xsb.invoices.values() if i.user_id == master]


def pick(both: Both, status: str) -> Any:
    return next(i for i in sorted(master_invoices(both), key=lambda i: i.id) if i.status == status)


async def test_fifty_invoices_with_customers_across_both_cost_one_request_each(both: Both) -> None:
    data = await both.data(
        "{ invoices(first: 50) { edges { node { provider total { amount } customer { name } } } } }"
    )
    edges = data["invoices"]["edges"]
    assert len(edges) == 50
    assert {e["node"]["provider"] for e in edges} == {"flexprice", "xendit"}
    # Both embed the customer in the listing: nothing else is asked for.
    assert await both.stats(both.flexprice) == {"POST /v1/invoices/search": 1}
    assert await both.stats(both.xendit) == {"GET /v2/invoices": 1}


async def test_walking_every_page_returns_every_seeded_invoice_once_newest_first(
    both: Both,
) -> None:
    seen: list[tuple[str, str, str]] = []
    after = None
    for _ in range(100):
        data = await both.data(
            """query($after: String) { invoices(first: 100, after: $after) {
                 edges { node { provider providerId createdAt } }
                 pageInfo { hasNextPage endCursor } } }""",
            {"after": after},
        )
        page = data["invoices"]
        seen.extend(
            (e["node"]["createdAt"], e["node"]["provider"], e["node"]["providerId"])
            for e in page["edges"]
        )
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    flexprice = {i.id for i in both.fsb.invoices.values() if i.invoice_status != "SKIPPED"}
    xendit = {i.id for i in master_invoices(both)}
    assert [p for _, p, _ in seen].count("flexprice") == len(flexprice)
    assert {i for _, p, i in seen if p == "flexprice"} == flexprice
    assert {i for _, p, i in seen if p == "xendit"} == xendit
    assert len(set(seen)) == len(seen)
    times = [dt.datetime.fromisoformat(t) for t, _, _ in seen]
    assert times == sorted(times, reverse=True)


async def test_a_xendit_invoice_reads_in_the_one_model(both: Both) -> None:
    stored = next(
        i for i in master_invoices(both) if i.status == "PENDING" and i.customer and i.items
    )
    data = await both.data(
        """query($id: ID!) { invoice(id: $id) {
             provider providerId status paymentStatus providerStatus currency
             total { amount currency } paymentUrl dueAt customer { name email }
             lineItems { description quantity amount { amount } } } }""",
        {"id": xid(stored.id)},
    )
    invoice = data["invoice"]
    assert (invoice["provider"], invoice["providerId"]) == ("xendit", stored.id)
    assert (invoice["status"], invoice["paymentStatus"]) == ("OPEN", "UNPAID")
    assert invoice["providerStatus"] == "PENDING"
    assert invoice["currency"] == stored.currency
    assert Decimal(invoice["total"]["amount"]) == stored.amount
    assert invoice["paymentUrl"]
    assert invoice["customer"]["email"] == stored.customer.email
    assert len(invoice["lineItems"]) == len(stored.items)
    assert await both.stats(both.xendit) == {"GET /v2/invoices/{invoice_id}": 1}


async def test_paid_and_settled_invoices_read_as_paid(both: Both) -> None:
    for status, payment in (("PAID", "PAID"), ("SETTLED", "SETTLED")):
        stored = pick(both, status)
        data = await both.data(
            "query($id: ID!) { invoice(id: $id) "
            "{ status paymentStatus paidAt amountPaid { amount } } }",
            {"id": xid(stored.id)},
        )
        assert (data["invoice"]["status"], data["invoice"]["paymentStatus"]) == ("PAID", payment)
        assert data["invoice"]["paidAt"]


async def test_void_expires_a_xendit_invoice_and_a_paid_one_is_refused(both: Both) -> None:
    pending = pick(both, "PENDING")
    query = """mutation($id: ID!) { voidInvoice(input: {id: $id}) {
                 invoice { status providerStatus } userErrors { code message field } } }"""
    done = (await both.data(query, {"id": xid(pending.id)}))["voidInvoice"]
    assert done["userErrors"] == []
    assert done["invoice"]["status"] == "EXPIRED"
    assert both.xsb.invoices[pending.id].status == "EXPIRED"
    paid = pick(both, "PAID")
    refused = (await both.data(query, {"id": xid(paid.id)}))["voidInvoice"]
    assert refused["invoice"] is None
    assert refused["userErrors"][0]["code"] == "PROVIDER_REJECTED"
    assert both.xsb.invoices[paid.id].status == "PAID"


@pytest.mark.parametrize(
    "mutation",
    [
        "finalizeInvoice(input: {id: $id})",
        "attemptInvoicePayment(input: {id: $id})",
        "updateInvoicePaymentStatus(input: {id: $id, paymentStatus: PAID})",
        "recalculateInvoice(input: {id: $id})",
        "triggerInvoiceCommunication(input: {id: $id})",
        'updateInvoice(input: {id: $id, dueAt: "2030-01-01T00:00:00Z"})',
    ],
)
async def test_operations_xendit_lacks_are_user_errors_without_a_call(
    both: Both, mutation: str
) -> None:
    pending = pick(both, "PENDING")
    data = await both.data(
        f"mutation($id: ID!) {{ result: {mutation} {{ invoice {{ id }} userErrors {{ code }} }} }}",
        {"id": xid(pending.id)},
    )
    assert data["result"]["userErrors"] == [{"code": "UNSUPPORTED_BY_PROVIDER"}]
    assert await both.stats(both.xendit) == {}


async def test_create_a_xendit_invoice_with_a_payment_page_once_per_key(both: Both) -> None:
    customer = sorted(
        c.id for c in both.xsb.customers.values() if c.user_id == next(iter(both.xsb.accounts))
    )[0]
    variables = {
        "input": {
            "customerId": GlobalId(NodeType.CUSTOMER, "xendit", customer).encode(),
            "currency": "IDR",
            "idempotencyKey": "order-77",
            "lineItems": [{"description": "Kopi", "quantity": "3", "unitAmount": "25000"}],
            "paymentPage": {
                "payerEmail": "payer@example.com",
                "successRedirectUrl": "https://shop.example.com/thanks",
                "durationSeconds": 3600,
            },
        }
    }
    query = """mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) {
                 invoice { providerId provider status total { amount currency } paymentUrl }
                 userErrors { code message field } } }"""
    before = set(both.xsb.invoices)
    first = (await both.data(query, variables))["createInvoice"]
    assert first["userErrors"] == []
    invoice = first["invoice"]
    assert (invoice["provider"], invoice["status"]) == ("xendit", "OPEN")
    assert invoice["total"] == {"amount": "75000.00", "currency": "IDR"}  # ISO 4217: 2 digits
    assert invoice["paymentUrl"]
    [new_id] = set(both.xsb.invoices) - before
    stored = both.xsb.invoices[new_id]
    assert stored.amount == Decimal(75000)
    assert stored.payer_email == "payer@example.com"
    assert stored.success_redirect_url == "https://shop.example.com/thanks"
    again = (await both.data(query, variables))["createInvoice"]
    assert again["invoice"]["providerId"] == new_id
    assert set(both.xsb.invoices) - before == {new_id}


async def test_a_payment_in_the_sandbox_shows_as_paid(both: Both) -> None:
    pending = pick(both, "PENDING")
    assert both.xendit.sandbox is not None
    transport = httpx.ASGITransport(app=both.xendit.sandbox)
    async with httpx.AsyncClient(transport=transport, base_url="http://sb") as client:
        paid = await client.post(f"/_sandbox/invoices/{pending.id}/pay", json={})
        assert paid.status_code == 200
    data = await both.data(
        "query($id: ID!) { invoice(id: $id) { status paidAt amountPaid { amount } } }",
        {"id": xid(pending.id)},
    )
    assert data["invoice"]["status"] == "PAID"
    assert Decimal(data["invoice"]["amountPaid"]["amount"]) == pending.amount


async def test_capabilities_tell_a_frontend_which_actions_to_show(both: Both) -> None:
    data = await both.data("{ providers { name capabilities } }")
    caps = {p["name"]: set(p["capabilities"]) for p in data["providers"]}
    assert "FINALIZE_INVOICE" in caps["flexprice"]
    assert "FINALIZE_INVOICE" not in caps["xendit"]
    assert {"CREATE_INVOICE", "VOID_INVOICE", "LIST_INVOICES"} <= caps["xendit"]


async def test_xendit_customers_by_id_fan_out_in_key_order(both: Both) -> None:
    master = next(iter(both.xsb.accounts))
    ids = sorted(c.id for c in both.xsb.customers.values() if c.user_id == master)[:5]
    asked = [*ids, "cust-00000000-0000-0000-0000-000000000000", ids[0]]
    data = await both.data(
        "query($ids: [ID!]!) { customers(ids: $ids) { providerId provider name email } }",
        {"ids": [GlobalId(NodeType.CUSTOMER, "xendit", i).encode() for i in asked]},
    )
    got = [None if c is None else c["providerId"] for c in data["customers"]]
    assert got == [*ids, None, ids[0]]
    assert (await both.stats(both.xendit))["GET /customers/{id}"] == 6  # one per distinct id


async def test_with_the_xendit_sandbox_stopped_flexprice_still_answers() -> None:
    from providers.xendit import XenditSettings
    from sandboxes.xendit import create_sandbox_app
    from tests.serving import ServedApp

    flexprice = on_sandbox("flexprice", policy=FAST)
    with ServedApp(create_sandbox_app(api_key="xnd_test")) as served:
        settings = XenditSettings(secret_key="xnd_test", base_url=served.url)
        xendit = XenditProvider(settings=settings, policy=FAST)
    # Leaving the block stopped the Xendit sandbox: its port refuses connections now.
    app = create_app(
        settings=GatewaySettings(providers=("flexprice", "xendit")),
        providers={"flexprice": flexprice, "xendit": xendit},
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        body = (
            await http.post(
                "/graphql",
                json={"query": "{ invoices(first: 10) { edges { node { provider } } } }"},
            )
        ).json()
    assert {e["node"]["provider"] for e in body["data"]["invoices"]["edges"]} == {"flexprice"}
    [error] = body["errors"]
    assert error["extensions"] == {"code": "PROVIDER_UNAVAILABLE", "provider": "xendit"}
    await flexprice.provider.aclose()
    await xendit.aclose()


async def test_pdf_url_is_null_on_xendit_where_the_payment_page_is_the_document(both: Both) -> None:
    pending = pick(both, "PENDING")
    data = await both.data(
        "query($id: ID!) { invoice(id: $id) { pdfUrl paymentUrl } }", {"id": xid(pending.id)}
    )
    assert data["invoice"]["pdfUrl"] is None
    assert data["invoice"]["paymentUrl"]


async def test_a_xendit_customers_invoices_are_all_found_newest_first(both: Both) -> None:
    master = next(iter(both.xsb.accounts))
    mine: dict[str, list[Any]] = {}
    for invoice in master_invoices(both):
        if invoice.customer is not None and invoice.customer.id:
            mine.setdefault(invoice.customer.id, []).append(invoice)
    customer_id, invoices = max(mine.items(), key=lambda kv: len(kv[1]))
    assert both.xsb.customers[customer_id].user_id == master
    expected = [i.id for i in sorted(invoices, key=lambda i: i.created, reverse=True)]
    seen: list[str] = []
    after = None
    for _ in range(len(expected) + 2):
        data = await both.data(
            """query($id: ID!, $after: String) { customer(id: $id) {
                 invoices(first: 3, after: $after) {
                   edges { node { providerId } } pageInfo { hasNextPage endCursor } } } }""",
            {"id": GlobalId(NodeType.CUSTOMER, "xendit", customer_id).encode(), "after": after},
        )
        page = data["customer"]["invoices"]
        seen.extend(e["node"]["providerId"] for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected


async def test_a_currency_xendit_does_not_take_is_refused_before_any_call(both: Both) -> None:
    master = next(iter(both.xsb.accounts))
    customer = sorted(c.id for c in both.xsb.customers.values() if c.user_id == master)[0]
    data = await both.data(
        """mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) {
             invoice { id } userErrors { code message field } } }""",
        {
            "input": {
                "customerId": GlobalId(NodeType.CUSTOMER, "xendit", customer).encode(),
                "currency": "EUR",
                "lineItems": [{"description": "x", "quantity": "1", "unitAmount": "5"}],
            }
        },
    )
    [error] = data["createInvoice"]["userErrors"]
    assert (error["code"], error["field"]) == ("PROVIDER_REJECTED", ["input", "currency"])
    assert "EUR" in error["message"]
    assert await both.stats(both.xendit) == {}


async def test_an_embedded_customer_reads_like_the_full_one(both: Both) -> None:
    """Name and email come free with the invoice; fields the embedded copy lacks are read from
    the customer itself, so a client cache never sees two versions of one customer."""
    stored = next(i for i in master_invoices(both) if i.customer is not None and i.customer.id)
    query = """query($i: ID!, $c: ID!) {
                 invoice(id: $i) { customer { id name email externalId createdAt } }
                 node(id: $c) { ... on Customer { id name email externalId createdAt } } }"""
    customer_gid = GlobalId(NodeType.CUSTOMER, "xendit", stored.customer.id).encode()
    data = await both.data(query, {"i": xid(stored.id), "c": customer_gid})
    embedded, full = data["invoice"]["customer"], data["node"]
    assert embedded["externalId"] == full["externalId"] is not None
    assert embedded["createdAt"] == full["createdAt"] is not None
    assert embedded["id"] == full["id"]
    await both.reset_stats()
    cheap = await both.data(
        "query($i: ID!) { invoice(id: $i) { customer { name email } } }", {"i": xid(stored.id)}
    )
    assert cheap["invoice"]["customer"]["name"]
    assert await both.stats(both.xendit) == {"GET /v2/invoices/{invoice_id}": 1}
