"""Merged pagination across providers: every invoice exactly once, newest first, no gaps."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from gateway.errors import GatewayError
from gateway.pagination import Position, decode_cursor, fetch_merged, wrap_cursor
from providers.errors import ProviderUnavailable
from providers.models import Invoice, InvoiceStatus, Page, PageRequest, PaymentStatus

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _invoice(provider: str, n: int, minutes: int) -> Invoice:
    return Invoice(
        provider=provider,
        id=f"{provider}-{n:04d}",
        status=InvoiceStatus.OPEN,
        payment_status=PaymentStatus.UNPAID,
        provider_status="x",
        currency="USD",
        created_at=T0 + dt.timedelta(minutes=minutes),
    )


class OffsetProvider:
    """Positions are offsets, like FlexPrice."""

    def __init__(self, items: list[Invoice]) -> None:
        self.items = sorted(items, key=lambda i: (-i.created_at.timestamp(), i.provider, i.id))
        self.calls = 0

    def visible(self, before: dt.datetime | None) -> list[Invoice]:
        return [i for i in self.items if before is None or i.created_at < before]

    async def page(self, request: PageRequest, before: dt.datetime | None = None) -> Page[Invoice]:
        self.calls += 1
        items = self.visible(before)
        start = int(request.after or 0)
        chunk = items[start : start + request.first]
        return Page(
            items=tuple(chunk),
            item_cursors=tuple(str(start + k + 1) for k in range(len(chunk))),
            end_cursor=str(start + len(chunk)),
            has_next_page=start + len(chunk) < len(items),
            total_count=len(items),
        )

    def add_newest(self, invoice: Invoice) -> None:
        self.items.insert(0, invoice)


class LastIdProvider(OffsetProvider):
    """Positions are the last item's id, like Xendit's last_invoice; no total."""

    async def page(self, request: PageRequest, before: dt.datetime | None = None) -> Page[Invoice]:
        self.calls += 1
        items = self.visible(before)
        ids = [i.id for i in items]
        start = ids.index(request.after) + 1 if request.after else 0
        chunk = items[start : start + request.first]
        return Page(
            items=tuple(chunk),
            item_cursors=tuple(i.id for i in chunk),
            end_cursor=chunk[-1].id if chunk else request.after,
            has_next_page=start + len(chunk) < len(items),
            total_count=None,
        )


def _providers(seed: int) -> dict[str, OffsetProvider]:
    rng = random.Random(seed)
    # Shared timestamps between providers on purpose: ties must break by (provider, id).
    a = [_invoice("alpha", n, rng.randrange(0, 300)) for n in range(137)]
    b = [_invoice("beta", n, rng.randrange(0, 300)) for n in range(61)]
    return {"alpha": OffsetProvider(a), "beta": LastIdProvider(b)}


async def _walk(providers: dict[str, OffsetProvider], first: int) -> list[Invoice]:
    async def list_page(
        name: str, request: PageRequest, before: dt.datetime | None
    ) -> Page[Invoice]:
        return await providers[name].page(request, before)

    seen: list[Invoice] = []
    after = None
    for _ in range(1000):  # bounded: 198 invoices need at most 198 pages
        page = await fetch_merged(list_page, providers=list(providers), first=first, after=after)
        seen.extend(edge.node for edge in page.edges)
        if not page.has_next_page:
            return seen
        assert page.edges, "a page that says there is more must carry edges"
        after = page.edges[-1].cursor
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize("first", [1, 7, 50, 100])
@pytest.mark.parametrize("seed", [0, 1])
async def test_walking_all_pages_returns_every_invoice_once_in_order(seed: int, first: int) -> None:
    providers = _providers(seed)
    seen = await _walk(providers, first)
    expected = sorted(
        [i for p in providers.values() for i in p.items],
        key=lambda i: (-i.created_at.timestamp(), i.provider, i.id),
    )
    assert [i.id for i in seen] == [i.id for i in expected]


async def test_every_edge_cursor_resumes_right_after_its_edge() -> None:
    providers = _providers(3)

    async def list_page(
        name: str, request: PageRequest, before: dt.datetime | None
    ) -> Page[Invoice]:
        return await providers[name].page(request, before)

    page = await fetch_merged(list_page, providers=list(providers), first=10, after=None)
    for k, edge in enumerate(page.edges[:-1]):
        resumed = await fetch_merged(
            list_page, providers=list(providers), first=1, after=edge.cursor
        )
        assert resumed.edges[0].node.id == page.edges[k + 1].node.id


async def test_total_count_is_the_sum_only_when_every_provider_counts() -> None:
    alpha = OffsetProvider([_invoice("alpha", n, n) for n in range(5)])

    async def only_alpha(
        name: str, request: PageRequest, before: dt.datetime | None
    ) -> Page[Invoice]:
        return await alpha.page(request, before)

    page = await fetch_merged(only_alpha, providers=["alpha"], first=2, after=None)
    assert page.total_count == 5
    both = _providers(0)

    async def list_page(
        name: str, request: PageRequest, before: dt.datetime | None
    ) -> Page[Invoice]:
        return await both[name].page(request, before)

    page = await fetch_merged(list_page, providers=list(both), first=2, after=None)
    assert page.total_count is None  # beta cannot count


async def test_an_exhausted_provider_is_not_asked_again() -> None:
    providers = _providers(0)
    small = LastIdProvider([_invoice("beta", n, 1000 + n) for n in range(2)])  # newest of all
    providers["beta"] = small

    async def list_page(
        name: str, request: PageRequest, before: dt.datetime | None
    ) -> Page[Invoice]:
        return await providers[name].page(request, before)

    first = await fetch_merged(list_page, providers=list(providers), first=5, after=None)
    assert [e.node.provider for e in first.edges[:2]] == ["beta", "beta"]
    calls = small.calls
    await fetch_merged(list_page, providers=list(providers), first=5, after=first.edges[-1].cursor)
    assert small.calls == calls


async def test_a_failing_provider_is_reported_and_the_other_still_answers() -> None:
    providers = _providers(0)

    async def list_page(
        name: str, request: PageRequest, before: dt.datetime | None
    ) -> Page[Invoice]:
        if name == "beta":
            raise ProviderUnavailable("beta", "beta answered HTTP 503", status=503)
        return await providers[name].page(request)

    page = await fetch_merged(list_page, providers=list(providers), first=5, after=None)
    assert [e.node.provider for e in page.edges] == ["alpha"] * 5
    assert [f.provider for f in page.failures] == ["beta"]
    assert page.total_count is None


async def test_first_zero_counts_without_edges() -> None:
    alpha = OffsetProvider([_invoice("alpha", n, n) for n in range(7)])
    empty = OffsetProvider([])
    providers = {"alpha": alpha, "empty": empty}

    async def list_page(
        name: str, request: PageRequest, before: dt.datetime | None
    ) -> Page[Invoice]:
        return await providers[name].page(request, before)

    page = await fetch_merged(list_page, providers=list(providers), first=0, after=None)
    assert page.edges == ()
    assert page.has_next_page
    assert page.total_count == 7
    nothing = await fetch_merged(list_page, providers=["empty"], first=0, after=None)
    assert (nothing.has_next_page, nothing.total_count) == (False, 0)


async def test_invoices_created_during_a_walk_neither_repeat_nor_shift_it() -> None:
    providers = _providers(5)
    before = [
        i.id
        for i in sorted(
            [i for p in providers.values() for i in p.items],
            key=lambda i: (-i.created_at.timestamp(), i.provider, i.id),
        )
    ]

    async def list_page(
        name: str, request: PageRequest, before: dt.datetime | None
    ) -> Page[Invoice]:
        return await providers[name].page(request, before)

    seen: list[str] = []
    after = None
    for n in range(200):
        page = await fetch_merged(list_page, providers=list(providers), first=9, after=after)
        seen.extend(edge.node.id for edge in page.edges)
        # Someone creates invoices in both providers while the client pages.
        providers["alpha"].add_newest(_invoice("alpha", 1000 + n, 10_000 + n))
        providers["beta"].add_newest(_invoice("beta", 1000 + n, 10_000 + n))
        if not page.has_next_page:
            break
        after = page.edges[-1].cursor
    assert seen == before


async def test_a_cursor_is_refused_by_a_listing_with_another_filter() -> None:
    providers = _providers(0)

    async def list_page(
        name: str, request: PageRequest, before: dt.datetime | None
    ) -> Page[Invoice]:
        return await providers[name].page(request, before)

    page = await fetch_merged(
        list_page, providers=list(providers), first=3, after=None, fingerprint="paid"
    )
    with pytest.raises(GatewayError) as caught:
        await fetch_merged(
            list_page,
            providers=list(providers),
            first=3,
            after=page.edges[-1].cursor,
            fingerprint="jpy",
        )
    assert caught.value.field == "after"
    assert "another filter" in caught.value.message


@pytest.mark.parametrize("cursor", ["", "nope", "Zm9v", "YzE6W10", "YzE6eyJhIjogM30"])
def test_a_foreign_cursor_is_a_user_error_naming_after(cursor: str) -> None:
    with pytest.raises(GatewayError) as caught:
        decode_cursor(cursor or "!!", providers=["a"])
    assert caught.value.field == "after"
    assert caught.value.extensions["code"] == "BAD_USER_INPUT"


def test_cursor_round_trip_keeps_positions_and_done_flags() -> None:
    positions = {
        "a": Position(token="12", seen=3, at=T0, total=7),
        "b": Position(done=True),
        "c": Position(),
    }
    decoded = decode_cursor(wrap_cursor(positions), providers=["a", "b", "c", "d"])
    assert decoded == {**positions, "d": Position()}


async def test_a_provider_empty_at_the_start_stays_out_of_the_walk() -> None:
    providers = {
        "a": OffsetProvider([]),
        "b": OffsetProvider([_invoice("b", n, n) for n in range(6)]),
    }

    async def list_page(
        name: str, request: PageRequest, before: dt.datetime | None
    ) -> Page[Invoice]:
        return await providers[name].page(request, before)

    page = await fetch_merged(list_page, providers=list(providers), first=2, after=None)
    providers["a"].add_newest(_invoice("a", 99, 10_000))  # created after the walk began
    seen = [e.node.id for e in page.edges]
    for _ in range(10):
        if not page.has_next_page:
            break
        page = await fetch_merged(
            list_page, providers=list(providers), first=2, after=page.edges[-1].cursor
        )
        seen.extend(e.node.id for e in page.edges)
    assert seen == [f"b-{n:04d}" for n in reversed(range(6))]
    assert providers["a"].calls == 1


async def test_total_count_stays_the_listings_count_on_every_page() -> None:
    providers = _providers(2)

    async def list_page(
        name: str, request: PageRequest, before: dt.datetime | None
    ) -> Page[Invoice]:
        return await providers[name].page(request, before)

    providers["beta"] = OffsetProvider(providers["beta"].items)  # this one counts
    total = sum(len(p.items) for p in providers.values())
    after = None
    for _ in range(100):
        page = await fetch_merged(list_page, providers=list(providers), first=25, after=after)
        assert page.total_count == total
        after = page.edges[-1].cursor
        if not page.has_next_page:
            break
    # Asked past the end (every provider done), it still knows the count.
    past = await fetch_merged(list_page, providers=list(providers), first=25, after=after)
    assert (past.edges, past.total_count) == ((), total)


class SparseProvider(LastIdProvider):
    """Filters as it reads, like Xendit's adapter for customers: reads at most `scan` items
    per call and returns only the matching ones, moving its cursor past everything read."""

    def __init__(self, items: list[Invoice], *, keep: set[str], scan: int) -> None:
        super().__init__(items)
        self.keep, self.scan = keep, scan

    async def page(self, request: PageRequest, before: dt.datetime | None = None) -> Page[Invoice]:
        self.calls += 1
        items = self.visible(before)
        ids = [i.id for i in items]
        start = ids.index(request.after) + 1 if request.after else 0
        window = items[start : start + self.scan]
        chunk = [i for i in window if i.id in self.keep][: request.first]
        last = chunk[-1].id if len(chunk) == request.first else (window[-1].id if window else None)
        return Page(
            items=tuple(chunk),
            item_cursors=tuple(i.id for i in chunk),
            end_cursor=last or request.after,
            has_next_page=start + len(window) < len(items),
            total_count=None,
        )


async def test_a_provider_that_reads_on_without_a_match_moves_on_instead_of_stalling() -> None:
    items = [_invoice("x", n, 10_000 - n) for n in range(50)]
    keep = {"x-0044", "x-0047"}  # both deep below many non-matching invoices
    providers = {"x": SparseProvider(items, keep=keep, scan=10)}

    async def list_page(
        name: str, request: PageRequest, before: dt.datetime | None
    ) -> Page[Invoice]:
        return await providers[name].page(request, before)

    seen: list[str] = []
    after = None
    for _ in range(20):
        page = await fetch_merged(list_page, providers=["x"], first=5, after=after)
        seen.extend(e.node.id for e in page.edges)
        if not page.has_next_page:
            break
        assert page.end_cursor is not None
        assert page.end_cursor != after, "an empty page must still move the walk on"
        after = page.end_cursor
    assert seen == ["x-0044", "x-0047"]
