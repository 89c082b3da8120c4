"""FlexPriceProvider end to end against the in-process FlexPrice sandbox (`AsgiTransport`).

What the mock-based tests cannot show: that the requests this adapter builds are ones a
FlexPrice look-alike accepts and answers as FlexPrice's server does, over seeded data in every
status and currency, and how many upstream calls each operation costs.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from providers.base import Endpoint
from providers.errors import InvalidInput, ProviderRejected
from providers.flexprice import FlexPriceProvider, FlexPriceSettings, factory
from providers.models import (
    Invoice,
    InvoiceDraft,
    InvoiceFilter,
    InvoicePreviewRequest,
    InvoiceStatus,
    InvoiceUpdate,
    LineItemDraft,
    Money,
    Page,
    PageRequest,
    PaymentStatus,
    PaymentStatusUpdate,
)
from providers.transport import AsgiTransport
from sandboxes.flexprice import BASE_URL as SANDBOX_BASE_URL
from sandboxes.flexprice import DEFAULT_API_KEY, create_sandbox_app

from .conftest import POLICY, expected_statuses

S, P = InvoiceStatus, PaymentStatus


@pytest.fixture
def app() -> Starlette:
    return create_sandbox_app(seed=0)


@pytest.fixture
async def provider(app: Starlette) -> AsyncIterator[FlexPriceProvider]:
    provider = FlexPriceProvider(
        settings=FlexPriceSettings(api_key=SecretStr(DEFAULT_API_KEY), base_url=SANDBOX_BASE_URL),
        transport=AsgiTransport(app),
        policy=POLICY,
    )
    yield provider
    await provider.aclose()


async def control(app: Starlette, method: str, path: str) -> Any:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://flexprice.sandbox"
    ) as client:
        return (await client.request(method, path)).json()


async def calls(app: Starlette) -> dict[str, int]:
    """Upstream requests since the last call, per route (and the counter zeroed)."""
    stats: dict[str, int] = (await control(app, "GET", "/_sandbox/stats"))["requests"]
    await control(app, "DELETE", "/_sandbox/stats")
    return stats


def records(app: Starlette) -> list[Any]:
    return list(app.state.sandbox.invoices.values())


def selected(app: Starlette, filters: InvoiceFilter) -> set[str]:
    """The ids the filter means, from the sandbox's records (SKIPPED never listed)."""
    ids = set()
    for record in records(app):
        status, payment = expected_statuses(record.invoice_status, record.payment_status)
        if record.invoice_status == "SKIPPED":
            continue
        if filters.statuses and status not in filters.statuses:
            continue
        if filters.payment_statuses and payment not in filters.payment_statuses:
            continue
        if filters.customer_ids and record.customer_id not in filters.customer_ids:
            continue
        if filters.currencies and record.currency.upper() not in filters.currencies:
            continue
        if filters.created_after and not record.created_at > filters.created_after:
            continue
        if filters.created_before and not record.created_at < filters.created_before:
            continue
        ids.add(record.id)
    return ids


async def every_page(
    provider: FlexPriceProvider, filters: InvoiceFilter, first: int
) -> tuple[list[Invoice], list[Page[Invoice]]]:
    items: list[Invoice] = []
    pages: list[Page[Invoice]] = []
    after = None
    while True:
        page = await provider.list_invoices(filters, PageRequest(first=first, after=after))
        pages.append(page)
        items.extend(page.items)
        if not page.has_next_page:
            return items, pages
        assert page.end_cursor is not None
        after = page.end_cursor


# -- the factory --------------------------------------------------------------------------------


async def test_factory_with_an_endpoint_calls_it_with_its_key(app: Starlette) -> None:
    endpoint = Endpoint(
        base_url=SANDBOX_BASE_URL, api_key=DEFAULT_API_KEY, transport=AsgiTransport(app)
    )
    provider = factory({"FLEXPRICE_MAX_ATTEMPTS": "1"}, endpoint=endpoint)
    try:
        assert provider.describe() == f"flexprice: {SANDBOX_BASE_URL}"
        assert provider.client.upstream.policy.attempts == 1  # the settings still apply
        await provider.check()
        page = await provider.list_invoices(InvoiceFilter(), PageRequest(first=2))
        assert len(page.items) == 2
        assert page.total_count is not None
        assert await calls(app) == {
            "POST /v1/customers/search": 1,
            "POST /v1/invoices/search": 1,
        }
    finally:
        await provider.aclose()


# -- batch reads --------------------------------------------------------------------------------


async def test_get_invoices_in_one_call(app: Starlette, provider: FlexPriceProvider) -> None:
    by_status = {record.invoice_status: record for record in records(app)}
    ids = [by_status["SKIPPED"].id, "inv_missing", by_status["DRAFT"].id, by_status["VOIDED"].id]
    await calls(app)

    result = await provider.get_invoices([*ids, ids[0]])

    assert [r.id if r else None for r in result] == [ids[0], None, ids[2], ids[3], ids[0]]
    assert await calls(app) == {"POST /v1/invoices/search": 1}
    skipped = result[0]
    assert skipped is not None
    assert (skipped.status, skipped.provider_status) == (S.VOID, "SKIPPED/PENDING")
    # The search embeds the customer: no further call is needed to show it.
    assert skipped.customer is not None
    assert skipped.customer.id == by_status["SKIPPED"].customer_id


async def test_get_invoices_match_the_records(app: Starlette, provider: FlexPriceProvider) -> None:
    wanted = records(app)[:50]
    result = await provider.get_invoices([record.id for record in wanted])
    for record, got in zip(wanted, result, strict=True):
        assert got is not None
        assert got.id == record.id
        assert got.currency == record.currency.upper()
        assert got.total == Money(amount=record.total, currency=record.currency.upper())
        assert (got.status, got.payment_status) == expected_statuses(
            record.invoice_status, record.payment_status
        )
        assert got.created_at == record.created_at
        assert len(got.line_items) == len(record.line_items)


async def test_get_customers_in_one_call(app: Starlette, provider: FlexPriceProvider) -> None:
    customers = list(app.state.sandbox.customers.values())[:3]
    ids = ["cust_missing", *(c.id for c in customers)]
    await calls(app)

    result = await provider.get_customers(ids)

    assert result[0] is None
    assert [c.name if c else None for c in result[1:]] == [c.name for c in customers]
    assert await calls(app) == {"POST /v1/customers/search": 1}


# -- listing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filters",
    [
        InvoiceFilter(),
        InvoiceFilter(statuses=(S.OPEN,)),
        InvoiceFilter(statuses=(S.PAID,)),
        InvoiceFilter(statuses=(S.VOID,)),
        InvoiceFilter(statuses=(S.DRAFT,)),
        InvoiceFilter(payment_statuses=(P.UNPAID,)),
        InvoiceFilter(payment_statuses=(P.FAILED, P.REFUNDED)),
        InvoiceFilter(statuses=(S.OPEN,), currencies=("USD",)),
        InvoiceFilter(currencies=("EUR", "GBP")),
    ],
)
async def test_exact_listing_walks_every_page(
    app: Starlette, provider: FlexPriceProvider, filters: InvoiceFilter
) -> None:
    await calls(app)
    items, pages = await every_page(provider, filters, first=25)

    ids = [item.id for item in items]
    assert len(ids) == len(set(ids))  # nothing repeated across pages
    assert set(ids) == selected(app, filters)
    assert {page.total_count for page in pages} == {len(ids)}
    assert await calls(app) == {"POST /v1/invoices/search": len(pages)}
    created = [item.created_at for item in items]
    assert created == sorted(created, reverse=True)  # newest first


@pytest.mark.parametrize(
    ("filters", "parts"),
    [
        (InvoiceFilter(statuses=(S.DRAFT, S.OPEN)), 2),
        (InvoiceFilter(statuses=(S.VOID, S.PAID)), 2),
        (InvoiceFilter(statuses=(S.VOID, S.OPEN), payment_statuses=(P.UNPAID, P.PAID)), 2),
        (InvoiceFilter(statuses=(S.DRAFT, S.OPEN, S.PAID), currencies=("EUR", "INR")), 2),
    ],
)
async def test_listing_one_search_cannot_express(
    app: Starlette, provider: FlexPriceProvider, filters: InvoiceFilter, parts: int
) -> None:
    await calls(app)
    items, pages = await every_page(provider, filters, first=20)

    ids = [item.id for item in items]
    assert len(ids) == len(set(ids))
    assert set(ids) == selected(app, filters)
    assert {page.total_count for page in pages} == {len(ids)}
    # Full pages until the last one, so a merge across providers can rely on them.
    assert all(len(page.items) == 20 for page in pages[:-1])
    created = [item.created_at for item in items]
    assert created == sorted(created, reverse=True)
    assert await calls(app) == {"POST /v1/invoices/search": parts * len(pages)}


async def test_listing_by_customers_and_dates(app: Starlette, provider: FlexPriceProvider) -> None:
    some = records(app)[:40]
    customer_ids = tuple(dict.fromkeys(record.customer_id for record in some))[:3]
    times = sorted(record.created_at for record in records(app))
    filters = InvoiceFilter(
        customer_ids=customer_ids,
        created_after=times[len(times) // 4],
        created_before=times[3 * len(times) // 4],
    )
    items, _ = await every_page(provider, filters, first=1000)
    assert {item.id for item in items} == selected(app, filters)
    assert items  # the window holds some of these customers' invoices

    one = InvoiceFilter(customer_ids=customer_ids[:1])
    items, _ = await every_page(provider, one, first=1000)
    assert {item.id for item in items} == selected(app, one)


async def _alone(
    provider: FlexPriceProvider, filters: InvoiceFilter, customer_id: str, first: int
) -> Page[Invoice]:
    mine = filters.model_copy(update={"customer_ids": (customer_id,)})
    return await provider.list_invoices(mine, PageRequest(first=first))


def _same_page(batched: Page[Invoice], alone: Page[Invoice], *, counted: bool = True) -> None:
    assert [i.id for i in batched.items] == [i.id for i in alone.items]
    assert batched.item_cursors == alone.item_cursors
    assert batched.end_cursor == alone.end_cursor
    assert batched.has_next_page == alone.has_next_page
    assert batched.total_count == (alone.total_count if counted else None)


@pytest.mark.parametrize(
    "filters",
    [
        InvoiceFilter(),
        InvoiceFilter(statuses=(S.DRAFT, S.OPEN)),
        InvoiceFilter(currencies=("USD",)),
    ],
    ids=["all", "draft-or-open (two searches)", "usd"],
)
async def test_the_first_pages_of_every_customer_cost_one_search_per_status_part(
    app: Starlette, provider: FlexPriceProvider, filters: InvoiceFilter
) -> None:
    customers = sorted(app.state.sandbox.customers)
    parts = provider.listing_calls(filters)
    await calls(app)
    pages = await provider.list_invoices_of_customers(filters, customers, 5, count=True)
    assert await calls(app) == {"POST /v1/invoices/search": parts}
    assert all(page is not None for page in pages)
    for customer_id, page in zip(customers, pages, strict=True):
        assert page is not None
        _same_page(page, await _alone(provider, filters, customer_id, 5))
    assert any(page is not None and page.has_next_page for page in pages)


async def test_a_batch_the_search_could_not_read_whole_answers_only_what_it_can_tell(
    app: Starlette, provider: FlexPriceProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A search of at most 60 invoices for every customer: the newest 60 of ~400.
    monkeypatch.setattr(provider, "max_batch_size", 60)
    customers = sorted(app.state.sandbox.customers)
    counted = await provider.list_invoices_of_customers(InvoiceFilter(), customers, 2, count=True)
    # A count needs the whole match: no customer can be told.
    assert counted == [None] * len(customers)
    uncounted = await provider.list_invoices_of_customers(
        InvoiceFilter(), customers, 2, count=False
    )
    told = [(c, page) for c, page in zip(customers, uncounted, strict=True) if page is not None]
    # Without a count, a customer with more than `first` in the newest 60 is told exactly.
    assert 0 < len(told) < len(customers)
    monkeypatch.setattr(provider, "max_batch_size", 1000)
    for customer_id, page in told:
        _same_page(page, await _alone(provider, InvoiceFilter(), customer_id, 2), counted=False)
        assert page.has_next_page


@pytest.mark.parametrize(
    "filters", [InvoiceFilter(statuses=(S.EXPIRED,)), InvoiceFilter(payment_statuses=(P.SETTLED,))]
)
async def test_listing_that_can_match_nothing(
    app: Starlette, provider: FlexPriceProvider, filters: InvoiceFilter
) -> None:
    await calls(app)
    page = await provider.list_invoices(filters, PageRequest(first=10))
    assert page.items == ()
    assert page.total_count == 0
    assert page.has_next_page is False
    assert await calls(app) == {}


async def listed(provider: FlexPriceProvider, filters: InvoiceFilter) -> dict[str, Invoice]:
    """Every invoice the listing returns, by id; its `total_count` checked against them."""
    items, pages = await every_page(provider, filters, first=1000)
    by_id = {item.id: item for item in items}
    assert len(by_id) == len(items)
    assert {page.total_count for page in pages} == {len(items)}
    return by_id


STATUS_SUBSETS = [
    subset for size in range(1, len(S) + 1) for subset in itertools.combinations(list(S), size)
]


async def test_status_listings_add_up_to_the_unfiltered_one(
    app: Starlette, provider: FlexPriceProvider
) -> None:
    """SKIPPED is handled one way: never listed. So, for every status subset, the listing is the
    union of its statuses' listings, and all statuses together list what no filter lists."""
    everything = await listed(provider, InvoiceFilter())
    skipped = {r.id for r in records(app) if r.invoice_status == "SKIPPED"}
    assert skipped  # the seed has some, or this test shows nothing
    assert not skipped & everything.keys()
    assert not any(i.provider_status.startswith("SKIPPED") for i in everything.values())

    single = {s: set(await listed(provider, InvoiceFilter(statuses=(s,)))) for s in S}
    assert set().union(*single.values()) == everything.keys()
    assert sum(map(len, single.values())) == len(everything)  # disjoint, so totals add up too
    for subset in STATUS_SUBSETS:
        ids = set(await listed(provider, InvoiceFilter(statuses=subset)))
        assert ids == set().union(*(single[s] for s in subset)), subset

    by_payment = [set(await listed(provider, InvoiceFilter(payment_statuses=(p,)))) for p in P]
    assert set().union(*by_payment) == everything.keys()
    assert sum(map(len, by_payment)) == len(everything)


# -- changes ------------------------------------------------------------------------------------


def draft_for(app: Starlette, currency: str = "USD") -> InvoiceDraft:
    customer = next(iter(app.state.sandbox.customers.values()))
    return InvoiceDraft(
        customer_id=customer.id,
        currency=currency,
        line_items=(
            LineItemDraft(description="Seats", quantity=Decimal("3"), unit_amount=Decimal("0.1")),
            LineItemDraft(description="Setup", quantity=Decimal(1), unit_amount=Decimal("99.95")),
        ),
        due_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=30),
        description="Gateway test",
        metadata={"order": "T-1"},
    )


async def test_create_invoice(app: Starlette, provider: FlexPriceProvider) -> None:
    draft = draft_for(app)
    created = await provider.create_invoice(draft, idempotency_key="gw-test-1")

    assert created.status is S.OPEN
    assert created.payment_status is P.UNPAID
    assert created.currency == "USD"
    assert created.total == Money(amount=Decimal("100.25"), currency="USD")
    assert created.number is not None
    assert [line.amount.amount for line in created.line_items] == [Decimal("0.3"), Decimal("99.95")]
    assert [line.unit_amount for line in created.line_items] == [
        Money(amount=Decimal("0.1"), currency="USD"),
        Money(amount=Decimal("99.95"), currency="USD"),
    ]
    assert created.metadata == {"order": "T-1"}
    assert app.state.sandbox.invoices[created.id].idempotency_key == "gw-test-1"


async def test_create_invoice_again_with_the_same_key(
    app: Starlette, provider: FlexPriceProvider
) -> None:
    draft = draft_for(app)
    first = await provider.create_invoice(draft, idempotency_key="gw-test-2")
    await calls(app)

    again = await provider.create_invoice(draft, idempotency_key="gw-test-2")

    assert again.id == first.id
    assert Counter(r.idempotency_key for r in records(app))["gw-test-2"] == 1
    # FlexPrice answers 409 for a finalized invoice's key; the invoice is found by its key.
    assert await calls(app) == {"POST /v1/invoices": 1, "POST /v1/invoices/search": 1}


@pytest.mark.parametrize("unit_amount", ["1e30", "-1e30", "1e12"])
async def test_an_amount_flexprice_cannot_store_is_rejected(
    app: Starlette, provider: FlexPriceProvider, unit_amount: str
) -> None:
    before = len(records(app))
    draft = draft_for(app).model_copy(
        update={
            "line_items": (
                LineItemDraft(
                    description="Huge", quantity=Decimal(1), unit_amount=Decimal(unit_amount)
                ),
            )
        }
    )
    await calls(app)
    with pytest.raises(InvalidInput) as caught:
        await provider.create_invoice(draft, idempotency_key="gw-test-huge")
    # Refused by FlexPrice's own limits (numeric(20,8)) before any call.
    [violation] = caught.value.violations
    assert violation.field == ("line_items", "0", "unit_amount")
    assert "must be less than 1,000,000,000,000" in violation.rule
    assert await calls(app) == {}
    assert len(records(app)) == before


async def test_lifecycle(app: Starlette, provider: FlexPriceProvider) -> None:
    created = await provider.create_invoice(draft_for(app, "EUR"), idempotency_key="gw-test-3")

    updated = await provider.update_invoice(created.id, InvoiceUpdate(metadata={"po": "42"}))
    assert updated.metadata == {"po": "42"}

    with pytest.raises(ProviderRejected, match="draft"):
        await provider.finalize_invoice(created.id)  # a one-off invoice is finalized at creation

    paid = await provider.update_payment_status(created.id, PaymentStatusUpdate(status=P.PAID))
    assert (paid.status, paid.payment_status) == (S.PAID, P.PAID)
    assert paid.amount_remaining == Money(amount=Decimal(0), currency="EUR")
    assert paid.paid_at is not None

    await calls(app)
    voided = await provider.void_invoice(created.id, metadata={"reason": "test"})
    assert voided.status is S.VOID
    assert voided.voided_at is not None
    assert voided.metadata["reason"] == "test"
    assert await calls(app) == {
        "POST /v1/invoices/{id}/void": 1,
        "GET /v1/invoices/{id}": 1,
    }


async def test_finalize_a_draft(app: Starlette, provider: FlexPriceProvider) -> None:
    draft = next(r for r in records(app) if r.invoice_status == "DRAFT")
    result = await provider.finalize_invoice(draft.id)
    assert result.status in (S.OPEN, S.PAID)
    assert result.number is not None
    assert result.finalized_at is not None


async def test_payment_status_the_sandbox_refuses(
    app: Starlette, provider: FlexPriceProvider
) -> None:
    paid = next(
        r for r in records(app) if (r.invoice_status, r.payment_status) == ("FINALIZED", "REFUNDED")
    )
    with pytest.raises(ProviderRejected):
        await provider.update_payment_status(paid.id, PaymentStatusUpdate(status=P.FAILED))


async def test_recalculate(app: Starlette, provider: FlexPriceProvider) -> None:
    voided = next(
        r for r in records(app) if r.invoice_status == "VOIDED" and r.invoice_type == "SUBSCRIPTION"
    )
    started = await provider.recalculate_invoice(voided.id)
    assert started.message
    assert started.invoice is not None
    assert started.invoice.id == voided.id

    draft = next(
        r for r in records(app) if r.invoice_status == "DRAFT" and r.invoice_type == "SUBSCRIPTION"
    )
    result = await provider.recalculate_invoice(draft.id, finalize=False)
    assert result.invoice is not None
    assert result.invoice.status is S.DRAFT


async def test_reads_of_one_invoice(app: Starlette, provider: FlexPriceProvider) -> None:
    record = next(r for r in records(app) if r.invoice_status == "FINALIZED")
    url = await provider.get_invoice_pdf_url(record.id)
    assert url.startswith("http")
    await provider.trigger_communication(record.id)

    summaries = await provider.get_customer_invoice_summary(record.customer_id)
    currencies = {r.currency.upper() for r in records(app) if r.customer_id == record.customer_id}
    assert {s.currency for s in summaries} <= currencies
    assert all(s.total_invoice_count >= 0 for s in summaries)


async def test_preview(app: Starlette, provider: FlexPriceProvider) -> None:
    subscription = next(iter(app.state.sandbox.subscriptions.values()))
    preview = await provider.preview_invoice(InvoicePreviewRequest(subscription_id=subscription.id))
    assert preview.currency == subscription.currency.upper()
    assert preview.line_items


async def test_describe_a_standalone_sandbox_shows_where_never_the_key() -> None:
    settings = FlexPriceSettings(
        api_key=SecretStr(DEFAULT_API_KEY), base_url="http://127.0.0.1:8081/v1"
    )
    provider = FlexPriceProvider(settings=settings)
    try:
        assert provider.describe() == "flexprice: http://127.0.0.1:8081/v1"
    finally:
        await provider.aclose()
