"""A page of invoices from each sandbox, as the gateway reads it: decoded once into records the
collector never tracks, with each invoice's and embedded customer's JSON kept as bytes and given
back unchanged by `raw`, and mapped into domain records that are not tracked either and carry
the types the domain promises."""

from __future__ import annotations

import datetime as dt
import decimal
import gc
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from gateway.pagination import fetch_merged
from gateway.wiring import on_sandbox
from providers.flexprice import FlexPriceProvider
from providers.flexprice import bodies as flexprice_bodies
from providers.flexprice import wire as flexprice_wire
from providers.models import (
    Invoice,
    InvoiceFilter,
    InvoiceStatus,
    LazyInvoices,
    Money,
    Page,
    PageRequest,
    PaymentStatus,
)
from providers.transport import Timeouts
from providers.xendit import XenditProvider

PAGE = 51


@pytest.fixture
async def flexprice() -> AsyncIterator[FlexPriceProvider]:
    provider = on_sandbox("flexprice").provider
    assert isinstance(provider, FlexPriceProvider)
    yield provider
    await provider.aclose()


@pytest.fixture
async def xendit() -> AsyncIterator[XenditProvider]:
    provider = on_sandbox("xendit").provider
    assert isinstance(provider, XenditProvider)
    yield provider
    await provider.aclose()


async def sandbox_json(
    provider: FlexPriceProvider | XenditProvider, method: str, path: str, **kwargs: Any
) -> Any:
    """What the sandbox answers, read apart from the provider's own client."""
    upstream = provider.client.upstream
    request = upstream.build_request(method, path, **kwargs)
    response = await upstream.transport.send(
        request, timeouts=Timeouts(connect=5, read=5), max_bytes=upstream.policy.max_response_bytes
    )
    assert response.status_code == 200
    return json.loads(response.content)


async def test_a_flexprice_page_is_records_the_collector_never_tracks(
    flexprice: FlexPriceProvider,
) -> None:
    response = await flexprice.client.search_invoices(
        flexprice_bodies.InvoiceFilter(limit=PAGE, offset=0)
    )
    items = response.items or []
    assert len(items) == PAGE
    records: list[object] = [response, *items]
    for item in items:
        lines = flexprice_wire.lines_of(item)  # decoded only when read
        records += [*lines, *([item.customer] if item.customer else [])]
    assert len(records) > 3 * PAGE
    # pydantic models are tracked, each with its __dict__: ~15 objects per invoice to walk.
    assert [r for r in records if gc.is_tracked(r)] == []


async def test_a_xendit_page_is_records_the_collector_never_tracks(xendit: XenditProvider) -> None:
    items = await xendit.client.list_invoices({"limit": str(PAGE)})
    assert len(items) == PAGE
    records: list[object] = list(items)
    for item in items:
        records += [*(item.items or []), *([item.customer] if item.customer else [])]
    assert len(records) > 2 * PAGE
    assert [r for r in records if gc.is_tracked(r)] == []


async def test_flexprice_invoices_keep_their_json_as_bytes_until_raw_is_read(
    flexprice: FlexPriceProvider,
) -> None:
    page = await flexprice.list_invoices(InvoiceFilter(), PageRequest(first=PAGE))
    sent = await sandbox_json(
        flexprice, "POST", "/invoices/search", json_body={"limit": 200, "offset": 0}
    )
    by_id = {item["id"]: item for item in sent["items"]}
    assert len(page.items) == PAGE
    for invoice in page.items:
        # Held as the bytes FlexPrice sent, decoded only when a client selects `raw`.
        assert isinstance(invoice.raw_json, bytes)
        assert invoice.raw == by_id[invoice.id]
        assert invoice.customer is not None
        assert isinstance(invoice.customer.raw_json, bytes)
        assert invoice.customer.raw == by_id[invoice.id]["customer"]


async def test_xendit_invoices_keep_their_json_as_bytes_until_raw_is_read(
    xendit: XenditProvider,
) -> None:
    page = await xendit.list_invoices(InvoiceFilter(), PageRequest(first=PAGE))
    sent = await sandbox_json(xendit, "GET", "/v2/invoices", params={"limit": "100"})
    by_id = {item["id"]: item for item in sent}
    assert len(page.items) == PAGE
    with_customer = 0
    for invoice in page.items:
        assert isinstance(invoice.raw_json, bytes)
        assert invoice.raw == by_id[invoice.id]  # JSON's own types: amounts as sent
        json.dumps(invoice.raw)
        if invoice.customer is not None:
            with_customer += 1
            assert isinstance(invoice.customer.raw_json, bytes)
            assert invoice.customer.raw == by_id[invoice.id]["customer"]
    assert with_customer > PAGE // 2


def parts(invoice: Invoice) -> list[object]:
    """The domain objects one invoice is made of."""
    found: list[object] = [invoice, *invoice.line_items]
    found += [money for money in money_of(invoice) if money is not None]
    if invoice.customer is not None:
        found += [
            invoice.customer,
            *([invoice.customer.address] if invoice.customer.address else []),
        ]
    return found


def money_of(invoice: Invoice) -> list[Money | None]:
    amounts = [
        invoice.subtotal,
        invoice.total,
        invoice.amount_due,
        invoice.amount_paid,
        invoice.amount_remaining,
        invoice.tax,
        invoice.discount,
    ]
    for line in invoice.line_items:
        amounts += [line.amount, line.unit_amount]
    return amounts


def times_of(invoice: Invoice) -> list[dt.datetime | None]:
    times = [
        invoice.created_at,
        invoice.issued_at,
        invoice.due_at,
        invoice.paid_at,
        invoice.voided_at,
        invoice.finalized_at,
        invoice.customer.created_at if invoice.customer else None,
    ]
    for line in invoice.line_items:
        times += [line.period_start, line.period_end]
    return times


@pytest.mark.parametrize("name", ["flexprice", "xendit"])
async def test_a_page_of_domain_invoices_is_nothing_the_collector_tracks(
    flexprice: FlexPriceProvider, xendit: XenditProvider, name: str
) -> None:
    provider = flexprice if name == "flexprice" else xendit
    page = await provider.list_invoices(InvoiceFilter(), PageRequest(first=PAGE))
    built = [part for invoice in page.items for part in parts(invoice)]
    assert len(built) > 5 * PAGE
    # ~15 pydantic models per invoice, each tracked with its __dict__, before.
    assert [part for part in built if gc.is_tracked(part)] == []


@pytest.mark.parametrize("name", ["flexprice", "xendit"])
async def test_the_mapping_guarantees_the_domain_types(
    flexprice: FlexPriceProvider, xendit: XenditProvider, name: str
) -> None:
    # Domain records are not validated when built: the mapping is what keeps these true.
    provider = flexprice if name == "flexprice" else xendit
    page = await provider.list_invoices(InvoiceFilter(), PageRequest(first=100))
    assert len(page.items) == 100
    for invoice in page.items:
        assert isinstance(invoice.status, InvoiceStatus)
        assert isinstance(invoice.payment_status, PaymentStatus)
        assert invoice.currency == invoice.currency.upper()
        assert len(invoice.currency) == 3
        for money in money_of(invoice):
            if money is not None:
                assert type(money.amount) is Decimal
                assert money.amount.is_finite()
                assert money.currency == invoice.currency
        for line in invoice.line_items:
            assert type(line.quantity) is Decimal
        for time in times_of(invoice):
            if time is not None:
                assert time.tzinfo is dt.UTC
        assert all(
            type(key) is str and type(value) is str for key, value in invoice.metadata.items()
        )


@pytest.mark.parametrize("name", ["flexprice", "xendit"])
async def test_a_page_cuts_no_json_out_of_its_body_until_raw_is_read(
    flexprice: FlexPriceProvider, xendit: XenditProvider, name: str
) -> None:
    # Every invoice and customer of a page points into the one body the provider sent; the
    # bytes of one are cut out only when its `raw` is read (a listing that does not select
    # `raw` never pays for it), and then only once for the whole list.
    provider = flexprice if name == "flexprice" else xendit
    page = await provider.list_invoices(InvoiceFilter(), PageRequest(first=PAGE))
    sources = [invoice.raw_source for invoice in page.items]
    sources += [invoice.customer.raw_source for invoice in page.items if invoice.customer]
    assert len(sources) > PAGE
    bodies = {id(source.body) for source in sources if source is not None}
    assert len(bodies) == 1, "one body shared by the whole page"
    body = next(source.body for source in sources if source is not None)
    assert body.cut_spans() == 0, "nothing cut while listing"
    last = page.items[-1]
    assert last.raw["id"] == last.id
    assert body.cut_spans() == 1, "one list split, once"
    assert page.items[0].raw["id"] == page.items[0].id
    assert body.cut_spans() == 1, "the other items reuse it"


async def test_an_invoice_listed_equals_the_same_invoice_read_by_id(
    flexprice: FlexPriceProvider,
) -> None:
    # `raw_source` compares the JSON it points at, as the bytes it replaced did: one invoice
    # read twice is equal, wherever it sat in the bodies it came in.
    page = await flexprice.list_invoices(InvoiceFilter(), PageRequest(first=3))
    again = await flexprice.get_invoices([invoice.id for invoice in reversed(page.items)])
    assert list(reversed(again)) == list(page.items)
    assert again[0] is not None
    assert again[0].raw_source is not None
    assert page.items[-1].raw_source is not None
    assert again[0].raw_source.body is not page.items[-1].raw_source.body
    assert again[0] != page.items[0]


async def test_mapping_a_page_builds_no_decimal_context(
    flexprice: FlexPriceProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A unit price is an exact division in a context made once: building a `decimal.Context`
    # per line cost more than the division (4.6 % of a listing's CPU).
    built = 0
    real = decimal.Context

    def counting(*args: Any, **kwargs: Any) -> decimal.Context:
        nonlocal built
        built += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(decimal, "Context", counting)
    page = await flexprice.list_invoices(InvoiceFilter(), PageRequest(first=PAGE))
    lines = [line for invoice in page.items for line in invoice.line_items]
    assert lines
    assert any(line.unit_amount is not None for line in lines)
    assert built == 0


async def test_a_merged_page_maps_only_the_invoices_it_returns(
    flexprice: FlexPriceProvider, xendit: XenditProvider
) -> None:
    # Both providers are asked for `first` invoices and the merge keeps `first` of the 2 x
    # `first`: the others are ordered on what was read from their records, never mapped.
    providers = {"flexprice": flexprice, "xendit": xendit}
    pages: dict[str, Page[Invoice]] = {}

    async def list_page(name: str, page: PageRequest, before: dt.datetime | None) -> Page[Invoice]:
        pages[name] = await providers[name].list_invoices(InvoiceFilter(), page)
        return pages[name]

    merged = await fetch_merged(list_page, providers=list(providers), first=10, after=None)
    assert len(merged.edges) == 10
    assert sum(len(page.items) for page in pages.values()) == 20
    lazy = [page.items for page in pages.values()]
    assert all(isinstance(items, LazyInvoices) for items in lazy)
    assert sum(items.mapped() for items in lazy if isinstance(items, LazyInvoices)) == 10
    # The kept ones are the newest ten of the twenty, in order, as mapped invoices.
    every = sorted(
        (invoice for page in pages.values() for invoice in page.items),
        key=lambda invoice: (-invoice.created_at.timestamp(), invoice.provider, invoice.id),
    )
    assert [edge.node for edge in merged.edges] == every[:10]
