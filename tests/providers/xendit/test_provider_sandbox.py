"""XenditProvider end to end against the in-process Xendit sandbox (`AsgiTransport`).

What the mock-based tests cannot show: that the requests this adapter builds are ones a Xendit
look-alike accepts and answers as Xendit documents, over seeded data in every status and
currency, the state each operation leaves behind, and how many upstream calls each costs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from providers.base import Endpoint
from providers.errors import NotFound, ProviderRejected
from providers.models import (
    Invoice,
    InvoiceDraft,
    InvoiceFilter,
    InvoiceStatus,
    LineItemDraft,
    PageRequest,
    PaymentStatus,
)
from providers.transport import AsgiTransport
from providers.xendit import XenditProvider, XenditSettings, factory
from sandboxes.xendit import BASE_URL as SANDBOX_BASE_URL
from sandboxes.xendit import DEFAULT_API_KEY, create_sandbox_app
from sandboxes.xendit.store import MASTER, SUB_ACCOUNTS

from .conftest import POLICY

S, P = InvoiceStatus, PaymentStatus
#: The statuses each raw Xendit status maps to, written out apart from the table under test.
EXPECTED = {
    "PENDING": (S.OPEN, P.UNPAID),
    "PAID": (S.PAID, P.PAID),
    "SETTLED": (S.PAID, P.SETTLED),
    "EXPIRED": (S.EXPIRED, P.UNPAID),
}


@pytest.fixture
def app() -> Starlette:
    return create_sandbox_app(seed=0)


def sandbox_provider(app: Starlette, **settings: Any) -> XenditProvider:
    settings.setdefault("secret_key", SecretStr(DEFAULT_API_KEY))
    return XenditProvider(
        settings=XenditSettings(base_url=SANDBOX_BASE_URL, **settings),
        transport=AsgiTransport(app),
        policy=POLICY,
    )


@pytest.fixture
async def provider(app: Starlette) -> AsyncIterator[XenditProvider]:
    provider = sandbox_provider(app)
    yield provider
    await provider.aclose()


async def control(app: Starlette, method: str, path: str, body: Any = None) -> Any:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://xendit.sandbox"
    ) as client:
        response = await client.request(method, path, json=body)
        response.raise_for_status()
        return response.json()


async def calls(app: Starlette) -> dict[str, int]:
    """Upstream requests since the last call, per route (and the counter zeroed)."""
    stats: dict[str, int] = (await control(app, "GET", "/_sandbox/stats"))["requests"]
    await control(app, "DELETE", "/_sandbox/stats")
    return stats


def records(app: Starlette, user_id: str = MASTER.user_id) -> list[Any]:
    """The account's invoices as the sandbox stores them, newest first."""
    invoices = [i for i in app.state.sandbox.invoices.values() if i.user_id == user_id]
    return sorted(invoices, key=lambda i: i.created, reverse=True)


async def walk(provider: XenditProvider, filters: InvoiceFilter, first: int) -> list[Invoice]:
    items: list[Invoice] = []
    after = None
    while True:
        page = await provider.list_invoices(filters, PageRequest(first=first, after=after))
        items.extend(page.items)
        if not page.has_next_page:
            return items
        after = page.end_cursor


# -- reads --------------------------------------------------------------------------------------


async def test_get_invoices_match_the_sandbox_state(
    app: Starlette, provider: XenditProvider
) -> None:
    stored = records(app)[:: len(records(app)) // 6][:6]
    await calls(app)

    result = await provider.get_invoices([r.id for r in stored] + ["0123456789abcdef01234567"])

    assert result[-1] is None
    for record, invoice in zip(stored, result, strict=False):
        assert invoice is not None
        assert invoice.id == record.id
        assert invoice.total is not None
        assert invoice.total.amount == record.amount
        assert invoice.currency == record.currency
        assert (invoice.status, invoice.payment_status) == EXPECTED[record.status]
        assert invoice.provider_status == record.status
        assert invoice.created_at == record.created
        assert invoice.number == record.external_id
    assert await calls(app) == {"GET /v2/invoices/{invoice_id}": 7}  # one per id


async def test_every_status_and_currency_is_seeded_and_mapped(provider: XenditProvider) -> None:
    everything = await walk(provider, InvoiceFilter(), first=100)
    assert {i.provider_status for i in everything} == set(EXPECTED)
    assert {"IDR", "PHP", "USD"} <= {i.currency for i in everything}
    for invoice in everything:
        assert (invoice.status, invoice.payment_status) == EXPECTED[invoice.provider_status]
        if invoice.currency == "IDR":
            assert invoice.total is not None
            assert invoice.total.amount == invoice.total.amount.to_integral_value()
        if invoice.status == S.PAID:
            assert invoice.paid_at is not None


async def test_get_customers_match_the_sandbox_state(
    app: Starlette, provider: XenditProvider
) -> None:
    customers = list(app.state.sandbox.customers.values())[:3]
    result = await provider.get_customers([c.id for c in customers] + ["cust-nobody"])
    assert result[-1] is None
    for record, customer in zip(customers, result, strict=False):
        assert customer is not None
        assert customer.id == record.id
        assert customer.external_id == record.reference_id
        assert customer.email == record.email


async def test_fifty_invoices_with_their_customers_cost_one_request(
    app: Starlette, provider: XenditProvider
) -> None:
    await calls(app)
    page = await provider.list_invoices(InvoiceFilter(), PageRequest(first=50))
    assert len(page.items) == 50
    with_customer = [i for i in page.items if i.customer is not None]
    assert len(with_customer) > 25  # most seeded invoices embed their customer
    assert all(i.customer and i.customer_id == i.customer.id for i in with_customer)
    assert await calls(app) == {"GET /v2/invoices": 1}


# -- listing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filters",
    [
        pytest.param(InvoiceFilter(), id="all"),
        pytest.param(InvoiceFilter(statuses=(S.PAID,)), id="paid"),
        pytest.param(InvoiceFilter(statuses=(S.OPEN, S.EXPIRED)), id="open-expired"),
        pytest.param(InvoiceFilter(payment_statuses=(P.SETTLED,)), id="settled"),
        pytest.param(InvoiceFilter(currencies=("php",)), id="php"),
        pytest.param(InvoiceFilter(statuses=(S.PAID,), currencies=("USD",)), id="paid-usd"),
    ],
)
async def test_walking_a_listing_returns_exactly_the_matching_records(
    app: Starlette, provider: XenditProvider, filters: InvoiceFilter
) -> None:
    items = await walk(provider, filters, first=17)
    wanted = [
        r
        for r in records(app)
        if (not filters.statuses or EXPECTED[r.status][0] in filters.statuses)
        and (not filters.payment_statuses or EXPECTED[r.status][1] in filters.payment_statuses)
        and (not filters.currencies or r.currency in {c.upper() for c in filters.currencies})
    ]
    assert [i.id for i in items] == [r.id for r in wanted]
    assert wanted


async def test_listing_by_customer_and_creation_time(
    app: Starlette, provider: XenditProvider
) -> None:
    stored = records(app)
    customer = next(r.customer.id for r in stored if r.customer and r.customer.id)
    mine = [r.id for r in stored if r.customer and r.customer.id == customer]
    items = await walk(provider, InvoiceFilter(customer_ids=(customer,)), first=3)
    assert [i.id for i in items] == mine

    after, before = stored[40].created, stored[10].created
    window = await walk(
        provider, InvoiceFilter(created_after=after, created_before=before), first=7
    )
    assert [i.id for i in window] == [r.id for r in stored if after < r.created < before]


async def test_draft_and_void_make_no_call(app: Starlette, provider: XenditProvider) -> None:
    await calls(app)
    page = await provider.list_invoices(
        InvoiceFilter(statuses=(S.DRAFT, S.VOID)), PageRequest(first=5)
    )
    assert (page.items, page.total_count) == ((), 0)
    assert await calls(app) == {}


async def test_a_sub_account_sees_only_its_own_invoices(app: Starlette) -> None:
    account = SUB_ACCOUNTS[0].user_id
    provider = sandbox_provider(app, for_user_id=account)
    try:
        items = await walk(provider, InvoiceFilter(), first=100)
    finally:
        await provider.aclose()
    assert [i.id for i in items] == [r.id for r in records(app, account)]


# -- changes ------------------------------------------------------------------------------------


def draft(customer_id: str, **changes: Any) -> InvoiceDraft:
    values: dict[str, Any] = {
        "customer_id": customer_id,
        "currency": "USD",
        "line_items": (
            LineItemDraft(description="Widget", quantity=Decimal(3), unit_amount=Decimal("3.3")),
            LineItemDraft(description="Ship", quantity=Decimal(1), unit_amount=Decimal("0.2")),
        ),
        "description": "Gateway order",
        "metadata": {"order": "7"},
        **changes,
    }
    return InvoiceDraft(**values)


async def test_create_stores_one_invoice_per_key(app: Starlette, provider: XenditProvider) -> None:
    customer = next(iter(app.state.sandbox.customers.values()))
    before = len(app.state.sandbox.invoices)
    due = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)

    created = await provider.create_invoice(draft(customer.id, due_at=due), idempotency_key="o-7")
    again = await provider.create_invoice(draft(customer.id, due_at=due), idempotency_key="o-7")

    assert again.id == created.id
    assert len(app.state.sandbox.invoices) == before + 1
    record = app.state.sandbox.invoices[created.id]
    assert record.external_id == "gw-o-7"
    assert record.amount == Decimal("10.1")
    assert record.currency == "USD"
    assert record.status == "PENDING"
    assert [(i.name, i.quantity, i.price) for i in record.items] == [
        ("Widget", 3, Decimal("3.3")),
        ("Ship", 1, Decimal("0.2")),
    ]
    assert record.customer.id == customer.id
    assert abs(record.expiry_date - due) < dt.timedelta(minutes=1)
    assert (created.status, created.payment_status) == (S.OPEN, P.UNPAID)
    assert created.total is not None
    assert created.total.amount == Decimal("10.1")
    assert created.customer_id == customer.id
    assert created.metadata == {"order": "7"}
    assert created.payment_url


async def test_create_in_idr_and_for_an_unknown_customer(
    app: Starlette, provider: XenditProvider
) -> None:
    customer = next(iter(app.state.sandbox.customers.values()))
    lines = (LineItemDraft(description="Kopi", quantity=Decimal(2), unit_amount=Decimal(25000)),)
    created = await provider.create_invoice(
        draft(customer.id, currency="IDR", line_items=lines), idempotency_key="idr key/1"
    )
    assert app.state.sandbox.invoices[created.id].amount == Decimal(50000)
    assert created.number is not None
    assert created.number.startswith("gwh-")

    with pytest.raises(ProviderRejected) as caught:
        await provider.create_invoice(draft("cust-nobody"), idempotency_key="x")
    assert caught.value.field == "customer_id"


async def test_void_expires_a_pending_invoice(app: Starlette, provider: XenditProvider) -> None:
    pending = next(r for r in records(app) if r.status == "PENDING")
    await calls(app)
    result = await provider.void_invoice(pending.id)
    assert (result.status, result.provider_status) == (S.EXPIRED, "EXPIRED")
    assert app.state.sandbox.invoices[pending.id].status == "EXPIRED"
    assert await calls(app) == {"POST /invoices/{invoice_id}/expire!": 1}


async def test_void_refuses_a_paid_invoice_and_leaves_it(
    app: Starlette, provider: XenditProvider
) -> None:
    paid = next(r for r in records(app) if r.status == "PAID")
    with pytest.raises(ProviderRejected) as caught:
        await provider.void_invoice(paid.id)
    assert not isinstance(caught.value, NotFound)
    assert app.state.sandbox.invoices[paid.id].status == "PAID"
    with pytest.raises(NotFound):
        await provider.void_invoice("0123456789abcdef01234567")


async def test_a_sandbox_payment_shows_as_paid(app: Starlette, provider: XenditProvider) -> None:
    pending = next(r for r in records(app) if r.status == "PENDING")
    await control(app, "POST", f"/_sandbox/invoices/{pending.id}/pay", {})
    (invoice,) = await provider.get_invoices([pending.id])
    assert invoice is not None
    assert (invoice.status, invoice.payment_status) == (S.PAID, P.PAID)
    assert invoice.paid_at is not None
    assert invoice.amount_paid == invoice.total


# -- wiring -------------------------------------------------------------------------------------


async def test_factory_with_an_endpoint_calls_it_with_its_key(app: Starlette) -> None:
    endpoint = Endpoint(
        base_url=SANDBOX_BASE_URL, api_key=DEFAULT_API_KEY, transport=AsgiTransport(app)
    )
    provider = factory({"XENDIT_FOR_USER_ID": SUB_ACCOUNTS[0].user_id}, endpoint=endpoint)
    try:
        assert (
            provider.describe()
            == f"xendit: {SANDBOX_BASE_URL}, sub-account {SUB_ACCOUNTS[0].user_id}"
        )
        page = await provider.list_invoices(InvoiceFilter(), PageRequest(first=1))
        [invoice] = page.items
        assert app.state.sandbox.invoices[invoice.id].user_id == SUB_ACCOUNTS[0].user_id
    finally:
        await provider.aclose()
