"""XenditProvider against a scripted Xendit: the calls it makes and what it returns."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

import providers.xendit
from providers.base import InvoiceProvider, Operation
from providers.errors import (
    IdempotencyKeyReused,
    NotFound,
    ProviderAuthError,
    ProviderBadResponse,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from providers.models import (
    InvoiceDraft,
    InvoiceFilter,
    InvoiceStatus,
    LineItemDraft,
    PageRequest,
)
from providers.transport import (
    AttemptTimeout,
    ConnectionLost,
    HandlerTransport,
    Request,
    Response,
    Unreachable,
)
from providers.xendit import XenditProvider, XenditSettings, factory
from providers.xendit.listing import MAX_SCANNED_PAGES, last_invoice_of, position_token
from providers.xendit.unanswered import UnansweredCreates

from .conftest import POLICY, SECRET_KEY, FakeXendit, error, fixture, invoice, make_provider

CUSTOMER_ID = fixture("customer")["id"]


def listing(request: Request, invoices: list[dict[str, Any]]) -> Response:
    """Xendit's list over `invoices` (newest first): `limit` after `last_invoice`."""
    params = request.url.query
    start = 0
    if "last_invoice" in params:
        start = [i["id"] for i in invoices].index(params["last_invoice"]) + 1
    limit = int(params.get("limit", "10"))
    return Response.of(200, json=invoices[start : start + limit])


def numbered(count: int, **changes: Any) -> list[dict[str, Any]]:
    """`count` invoices, newest first, one minute apart."""
    start = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    return [
        invoice(
            id=f"inv_{n:03}",
            created=(start - dt.timedelta(minutes=n)).isoformat().replace("+00:00", "Z"),
            **changes,
        )
        for n in range(count)
    ]


# -- the package --------------------------------------------------------------------------------


def test_public_api() -> None:
    assert providers.xendit.__all__ == ["XenditProvider", "XenditSettings", "factory"]
    assert factory.name == "xendit"


async def test_protocol_and_capabilities(provider: XenditProvider) -> None:
    assert isinstance(provider, InvoiceProvider)
    assert provider.name == "xendit"
    assert provider.capabilities == {
        Operation.GET_INVOICES,
        Operation.LIST_INVOICES,
        Operation.GET_CUSTOMERS,
        Operation.CREATE_INVOICE,
        Operation.VOID_INVOICE,
    }
    assert provider.max_batch_size == 100


# -- batch reads --------------------------------------------------------------------------------


async def test_get_invoices_in_key_order_deduplicated(
    fake: FakeXendit, provider: XenditProvider
) -> None:
    for name in ("inv_a", "inv_b", "inv_c"):
        fake.on(f"GET /v2/invoices/{name}", invoice(id=name))

    result = await provider.get_invoices(["inv_b", "inv_x", "inv_a", "inv_b", "inv_c", "inv_x"])

    assert [r.id if r else None for r in result] == [
        "inv_b", None, "inv_a", "inv_b", "inv_c", None,
    ]  # fmt: skip
    assert sorted(fake.calls) == [
        "GET /v2/invoices/inv_a",
        "GET /v2/invoices/inv_b",
        "GET /v2/invoices/inv_c",
        "GET /v2/invoices/inv_x",
    ]


async def test_fan_out_never_has_more_than_max_concurrency_in_flight() -> None:
    in_flight = 0
    peak = 0

    async def handler(request: Request) -> Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(5):  # let every other task that can start, start
            await asyncio.sleep(0)
        in_flight -= 1
        return Response.of(200, json=invoice(id=request.url.path.rsplit("/", 1)[-1]))

    provider = XenditProvider(
        settings=XenditSettings(secret_key=SecretStr(SECRET_KEY), max_concurrency=3),
        transport=HandlerTransport(handler),
        policy=POLICY,
    )
    ids = [f"inv_{n}" for n in range(12)]
    try:
        # Two batches at once share the provider's bound.
        first, second = await asyncio.gather(
            provider.get_invoices(ids[:6]), provider.get_invoices(ids[6:])
        )
    finally:
        await provider.aclose()
    assert [r.id for r in [*first, *second] if r] == ids
    assert peak == 3


async def test_a_failure_other_than_404_fails_the_batch(
    fake: FakeXendit, provider: XenditProvider
) -> None:
    fake.on("GET /v2/invoices/inv_a", invoice(id="inv_a"))
    fake.on("GET /v2/invoices/inv_b", error(500, "SERVER_ERROR", "boom"))
    with pytest.raises(ProviderUnavailable) as caught:
        await provider.get_invoices(["inv_a", "inv_b", "inv_c"])
    assert caught.value.provider == "xendit"


async def test_an_auth_failure_fails_the_batch(fake: FakeXendit, provider: XenditProvider) -> None:
    fake.on("GET /v2/invoices/inv_a", error(401, "INVALID_API_KEY", "no"))
    with pytest.raises(ProviderAuthError):
        await provider.get_invoices(["inv_a"])


async def test_get_customers(fake: FakeXendit, provider: XenditProvider) -> None:
    fake.on(f"GET /customers/{CUSTOMER_ID}", fixture("customer"))
    fake.on("GET /customers/cust-gone", error(404, "DATA_NOT_FOUND", "gone"))
    fake.on("GET /customers/cust-old", error(400, "END_CUSTOMER_NOT_FOUND_ERROR", "gone"))

    result = await provider.get_customers(["cust-gone", CUSTOMER_ID, "cust-old", CUSTOMER_ID])

    assert [c.name if c else None for c in result] == [None, "PT Maju Jaya", None, "PT Maju Jaya"]
    assert len(fake.requests) == 3


# -- listing ------------------------------------------------------------------------------------


async def test_first_page_asks_for_one_more_to_know_if_there_is_a_next(
    fake: FakeXendit, provider: XenditProvider
) -> None:
    invoices = numbered(5)
    fake.on("GET /v2/invoices", lambda request: listing(request, invoices))

    page = await provider.list_invoices(InvoiceFilter(), PageRequest(first=3))

    assert fake.calls == ["GET /v2/invoices?limit=4"]
    assert [i.id for i in page.items] == ["inv_000", "inv_001", "inv_002"]
    # Each cursor names its invoice: Xendit goes on from its id (`last_invoice`).
    assert [last_invoice_of(c) for c in page.item_cursors] == ["inv_000", "inv_001", "inv_002"]
    assert page.end_cursor == page.item_cursors[-1]
    assert page.has_next_page is True
    assert page.total_count is None

    last = await provider.list_invoices(
        InvoiceFilter(), PageRequest(first=3, after=page.end_cursor)
    )
    assert fake.calls[-1] == "GET /v2/invoices?limit=4&last_invoice=inv_002"
    assert [i.id for i in last.items] == ["inv_003", "inv_004"]
    assert last.has_next_page is False


async def test_first_is_capped_at_100(fake: FakeXendit, provider: XenditProvider) -> None:
    invoices = numbered(150)
    fake.on("GET /v2/invoices", lambda request: listing(request, invoices))
    page = await provider.list_invoices(InvoiceFilter(), PageRequest(first=500))
    assert fake.calls == ["GET /v2/invoices?limit=100"]
    assert len(page.items) == 100
    assert page.has_next_page is True


async def test_first_below_one_is_rejected(provider: XenditProvider) -> None:
    with pytest.raises(ProviderRejected) as caught:
        await provider.list_invoices(InvoiceFilter(), PageRequest(first=0))
    assert caught.value.field == "first"


async def test_statuses_and_created_bounds_are_sent(
    fake: FakeXendit, provider: XenditProvider
) -> None:
    fake.on("GET /v2/invoices", [])
    filters = InvoiceFilter(
        statuses=(InvoiceStatus.PAID, InvoiceStatus.OPEN),
        created_after=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    )
    after = position_token(dt.datetime(2024, 2, 1, tzinfo=dt.UTC), "inv_9")
    page = await provider.list_invoices(filters, PageRequest(first=2, after=after))
    assert fake.calls == [
        "GET /v2/invoices?limit=3&statuses=PENDING&statuses=PAID&statuses=SETTLED"
        "&created_after=2024-01-01T00%3A00%3A00.000%2B00%3A00&last_invoice=inv_9"
    ]
    assert page.items == ()
    assert page.end_cursor == after  # nothing read: the position stays
    assert page.has_next_page is False


@pytest.mark.parametrize(
    "statuses", [(InvoiceStatus.DRAFT,), (InvoiceStatus.VOID,), (InvoiceStatus.UNKNOWN,)]
)
async def test_a_status_xendit_never_has_makes_no_call(
    fake: FakeXendit, provider: XenditProvider, statuses: tuple[InvoiceStatus, ...]
) -> None:
    page = await provider.list_invoices(InvoiceFilter(statuses=statuses), PageRequest(first=5))
    assert fake.requests == []
    assert page.items == ()
    assert page.total_count == 0
    assert page.has_next_page is False


async def test_created_bounds_are_exclusive(fake: FakeXendit, provider: XenditProvider) -> None:
    invoices = numbered(5)
    fake.on("GET /v2/invoices", invoices[1:4])  # as an inclusive server answers
    after = dt.datetime(2024, 5, 31, 23, 57, tzinfo=dt.UTC)  # inv_003
    before = dt.datetime(2024, 5, 31, 23, 59, tzinfo=dt.UTC)  # inv_001
    page = await provider.list_invoices(
        InvoiceFilter(created_after=after, created_before=before), PageRequest(first=5)
    )
    assert [i.id for i in page.items] == ["inv_002"]


async def test_currency_and_customer_filters_read_on_until_enough_match(
    fake: FakeXendit, provider: XenditProvider
) -> None:
    invoices = numbered(250, currency="IDR")
    for n in (5, 120, 121, 230):
        invoices[n]["currency"] = "USD"
    fake.on("GET /v2/invoices", lambda request: listing(request, invoices))

    page = await provider.list_invoices(InvoiceFilter(currencies=("usd",)), PageRequest(first=2))

    assert fake.calls == [
        "GET /v2/invoices?limit=100",
        "GET /v2/invoices?limit=100&last_invoice=inv_099",
    ]
    assert [i.id for i in page.items] == ["inv_005", "inv_120"]
    assert [last_invoice_of(c) for c in page.item_cursors] == ["inv_005", "inv_120"]
    assert page.has_next_page is True  # inv_121 was seen

    rest = await provider.list_invoices(
        InvoiceFilter(currencies=("USD",)), PageRequest(first=5, after=page.end_cursor)
    )
    assert [i.id for i in rest.items] == ["inv_121", "inv_230"]
    assert rest.has_next_page is False

    customer = invoices[7]["customer"]["id"]
    invoices[7]["customer"] = {**invoices[7]["customer"], "id": "cust-other"}
    only = await provider.list_invoices(
        InvoiceFilter(customer_ids=("cust-other",)), PageRequest(first=5)
    )
    assert [i.id for i in only.items] == ["inv_007"]
    assert customer != "cust-other"


async def test_local_filtering_stops_after_ten_pages(
    fake: FakeXendit, provider: XenditProvider
) -> None:
    invoices = numbered(100 * MAX_SCANNED_PAGES + 50, currency="IDR")
    fake.on("GET /v2/invoices", lambda request: listing(request, invoices))

    page = await provider.list_invoices(InvoiceFilter(currencies=("USD",)), PageRequest(first=2))

    assert len(fake.requests) == MAX_SCANNED_PAGES
    assert page.items == ()
    assert page.has_next_page is True
    assert page.end_cursor is not None
    assert last_invoice_of(page.end_cursor) == f"inv_{100 * MAX_SCANNED_PAGES - 1:03}"  # from there

    rest = await provider.list_invoices(
        InvoiceFilter(currencies=("USD",)), PageRequest(first=2, after=page.end_cursor)
    )
    assert rest.items == ()
    assert rest.has_next_page is False


# -- create -------------------------------------------------------------------------------------


def draft(**changes: Any) -> InvoiceDraft:
    values: dict[str, Any] = {
        "customer_id": CUSTOMER_ID,
        "currency": "USD",
        "line_items": (
            LineItemDraft(description="Widget", quantity=Decimal(3), unit_amount=Decimal("3.3")),
            LineItemDraft(description="Ship", quantity=Decimal(1), unit_amount=Decimal("0.2")),
        ),
        **changes,
    }
    return InvoiceDraft(**values)


class XenditStore:
    """A Xendit that stores what it is sent; the first create times out after storing."""

    def __init__(self, *, create_fails: list[Exception | Response]) -> None:
        self.invoices: list[dict[str, Any]] = []
        self.create_fails = create_fails

    def handler(self, request: Request) -> Response:
        path = request.url.path
        if request.method == "GET" and path == f"/customers/{CUSTOMER_ID}":
            return Response.of(200, json=fixture("customer"))
        if request.method == "GET" and path == "/v2/invoices":
            wanted = request.url.query["external_id"]
            return Response.of(200, json=[i for i in self.invoices if i["external_id"] == wanted])
        assert (request.method, path) == ("POST", "/v2/invoices/")
        body = json.loads(request.content)
        # Stored as sent: what a look-up finds is compared with the draft of a repeat.
        kept = ("currency", "items", "customer", "description", "metadata", "payer_email")
        stored = invoice(
            id=f"inv_{len(self.invoices)}",
            status="PENDING",
            external_id=body["external_id"],
            amount=body["amount"],
            **{field: body.get(field) for field in kept},
        )
        self.invoices.append(stored)
        if self.create_fails:
            failure = self.create_fails.pop(0)
            if isinstance(failure, Exception):
                raise failure
            return failure
        return Response.of(200, json=stored)


@pytest.mark.parametrize(
    "failure",
    [
        AttemptTimeout("the answer never came"),
        ConnectionLost("connection reset"),
        Response.of(502),
    ],
    ids=["timeout", "reset", "502"],
)
async def test_a_create_with_unknown_outcome_is_looked_up_not_repeated(
    failure: Exception | Response,
) -> None:
    xendit = XenditStore(create_fails=[failure])
    provider = XenditProvider(
        settings=XenditSettings(secret_key=SecretStr(SECRET_KEY)),
        transport=HandlerTransport(xendit.handler),
        policy=POLICY,
    )
    try:
        created = await provider.create_invoice(draft(), idempotency_key="order-7")
        again = await provider.create_invoice(draft(), idempotency_key="order-7")
    finally:
        await provider.aclose()
    assert len(xendit.invoices) == 1  # exactly one invoice, whatever the retries
    assert created.id == again.id == "inv_0"
    assert created.number == "gw-order-7"
    assert created.status == InvoiceStatus.OPEN


async def test_create_sends_the_exact_body_after_customer_and_look_up(
    fake: FakeXendit, provider: XenditProvider
) -> None:
    fake.on(f"GET /customers/{CUSTOMER_ID}", fixture("customer"))
    fake.on("GET /v2/invoices", [])
    fake.on("POST /v2/invoices/", invoice(status="PENDING", external_id="gw-k1"))

    result = await provider.create_invoice(draft(description="D"), idempotency_key="k1")

    assert fake.calls == [
        f"GET /customers/{CUSTOMER_ID}",
        "GET /v2/invoices?external_id=gw-k1",
        "POST /v2/invoices/",
    ]
    body = fake.requests[-1].content.decode()
    assert '"amount":10.1' in body
    assert fake.body()["items"] == [
        {"name": "Widget", "quantity": 3, "price": 3.3},
        {"name": "Ship", "quantity": 1, "price": 0.2},
    ]
    assert fake.body()["customer"]["id"] == CUSTOMER_ID
    assert result.status == InvoiceStatus.OPEN


async def test_create_returns_what_an_earlier_attempt_stored(
    fake: FakeXendit, provider: XenditProvider
) -> None:
    fake.on(f"GET /customers/{CUSTOMER_ID}", fixture("customer"))
    older = as_made_by_draft(id="inv_old", external_id="gw-k1", created="2024-01-01T00:00:00Z")
    newer = as_made_by_draft(id="inv_new", external_id="gw-k1", created="2024-02-01T00:00:00Z")
    other = invoice(id="inv_other", external_id="gw-k10")  # a filter that matched too widely
    fake.on("GET /v2/invoices", [other, newer, older])

    result = await provider.create_invoice(draft(), idempotency_key="k1")

    assert result.id == "inv_old"
    assert all(r.method == "GET" for r in fake.requests)


def as_made_by_draft(**changes: Any) -> dict[str, Any]:
    """The invoice fixture as Xendit keeps what `draft()` sends."""
    return invoice(
        items=[
            {"name": "Widget", "quantity": 3, "price": 3.3},
            {"name": "Ship", "quantity": 1, "price": 0.2},
        ],
        amount=10.1,
        currency="USD",
        description=None,
        metadata=None,
        customer={"id": CUSTOMER_ID},
        **changes,
    )


@pytest.mark.parametrize(
    ("kept", "named"),
    [
        ({"amount": 10.2}, "line_items"),
        ({"items": [{"name": "Widget", "quantity": 3, "price": 3.3}]}, "line_items"),
        ({"description": "Three widgets"}, "description"),
        ({"metadata": {"order": "A-1"}}, "metadata"),
        ({"customer": {"id": "cust-someone-else"}}, "customer_id"),
        ({"expiry_date": "2020-01-01T00:00:00Z"}, "due_at"),
        ({"payer_email": "x@example.com"}, "payment_page"),
    ],
)
async def test_an_invoice_held_under_the_key_for_another_input_is_refused(
    fake: FakeXendit, provider: XenditProvider, kept: dict[str, Any], named: str
) -> None:
    """A key the gateway forgot: what Xendit holds under it is compared with the whole draft,
    not only customer and currency; any difference is refused, and nothing is created."""
    fake.on(f"GET /customers/{CUSTOMER_ID}", fixture("customer"))
    due = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).replace(microsecond=0)
    expiry = (due + dt.timedelta(seconds=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    held = as_made_by_draft(id="inv_old", external_id="gw-k2", expiry_date=expiry)
    fake.on("GET /v2/invoices", [{**held, **kept}])

    with pytest.raises(IdempotencyKeyReused) as refused:
        await provider.create_invoice(draft(due_at=due), idempotency_key="k2")

    assert refused.value.field == "idempotency_key"
    assert f"its {named} differ" in refused.value.message
    assert all(r.method == "GET" for r in fake.requests)
    # The same draft gets the invoice back (the expiry is Xendit's clock: 20 s later is fine).
    fake.on("GET /v2/invoices", [held])
    again = await provider.create_invoice(draft(due_at=due), idempotency_key="k2")
    assert again.id == "inv_old"


@pytest.mark.parametrize(
    "failure",
    [Response.of(503), Unreachable("refused")],
    ids=["503", "never connected"],
)
async def test_create_gives_up_after_the_policys_attempts(
    fake: FakeXendit, provider: XenditProvider, failure: Exception | Response
) -> None:
    fake.on(f"GET /customers/{CUSTOMER_ID}", fixture("customer"))
    fake.on("GET /v2/invoices", [])
    fake.on("POST /v2/invoices/", failure)
    with pytest.raises(ProviderUnavailable):
        await provider.create_invoice(draft(), idempotency_key="k1")
    # Xendit refused, or never got, each one: created nothing, so each attempt may create again.
    assert [r.method for r in fake.requests].count("POST") == POLICY.attempts


@pytest.mark.parametrize(
    "failure",
    [
        AttemptTimeout("slow"),
        Response.of(504),
        ConnectionLost("Server disconnected without sending a response."),
    ],
    ids=["timeout", "504", "connection lost once sent"],
)
async def test_a_create_xendit_may_still_make_is_only_looked_up_for_a_deadline(
    fake: FakeXendit, failure: Exception | Response
) -> None:
    now = [0.0]
    provider = make_provider(fake)
    provider._unanswered = UnansweredCreates(clock=lambda: now[0])
    fake.on(f"GET /customers/{CUSTOMER_ID}", fixture("customer"))
    fake.on("GET /v2/invoices", [])
    fake.on("POST /v2/invoices/", failure)
    try:
        with pytest.raises(ProviderTimeout) as caught:
            await provider.create_invoice(draft(), idempotency_key="k1")
        # One create went out; the other attempts, and a retry, only looked for its invoice.
        with pytest.raises(ProviderTimeout):
            await provider.create_invoice(draft(), idempotency_key="k1")
        methods = [r.method for r in fake.requests]
        assert methods.count("POST") == 1
        assert "retry with the same key" in caught.value.message
        # Another key is not held back.
        fake.on("POST /v2/invoices/", invoice(external_id="gw-k2"))
        await provider.create_invoice(draft(), idempotency_key="k2")
        # A deadline later it is presumed lost: the next attempt creates.
        now[0] += POLICY.deadline
        fake.on("POST /v2/invoices/", invoice(external_id="gw-k1"))
        created = await provider.create_invoice(draft(), idempotency_key="k1")
    finally:
        await provider.aclose()
    assert created.number == "gw-k1"
    assert [r.method for r in fake.requests].count("POST") == 3
    assert len(provider._unanswered) == 0


async def test_a_create_xendit_made_late_is_found_and_settles_its_key(
    fake: FakeXendit, provider: XenditProvider
) -> None:
    late = as_made_by_draft(id="inv_late", external_id="gw-k1")
    fake.on(f"GET /customers/{CUSTOMER_ID}", fixture("customer"))
    fake.on("GET /v2/invoices", [], [late])  # found by the attempt after the timeout
    fake.on("POST /v2/invoices/", AttemptTimeout("slow"))
    created = await provider.create_invoice(draft(), idempotency_key="k1")
    assert created.id == "inv_late"
    assert [r.method for r in fake.requests].count("POST") == 1
    assert len(provider._unanswered) == 0


async def test_create_is_not_retried_when_xendit_refuses(
    fake: FakeXendit, provider: XenditProvider
) -> None:
    fake.on(f"GET /customers/{CUSTOMER_ID}", fixture("customer"))
    fake.on("GET /v2/invoices", [])
    fake.on("POST /v2/invoices/", error(400, "UNSUPPORTED_CURRENCY", "Currency USD is off"))
    with pytest.raises(ProviderRejected) as caught:
        await provider.create_invoice(draft(), idempotency_key="k1")
    assert caught.value.message == "Currency USD is off"
    assert len(fake.requests) == 3


async def test_create_for_an_unknown_customer_names_the_field(
    fake: FakeXendit, provider: XenditProvider
) -> None:
    fake.on("GET /customers/cust-nope", error(404, "DATA_NOT_FOUND", "gone"))
    with pytest.raises(ProviderRejected) as caught:
        await provider.create_invoice(draft(customer_id="cust-nope"), idempotency_key="k")
    assert caught.value.field == "customer_id"
    assert not isinstance(caught.value, NotFound)
    assert len(fake.requests) == 1


# -- void (expire) ------------------------------------------------------------------------------


async def test_void_expires(fake: FakeXendit, provider: XenditProvider) -> None:
    fake.on("POST /invoices/inv_1/expire!", invoice(id="inv_1", status="EXPIRED"))
    result = await provider.void_invoice("inv_1")
    assert result.status == InvoiceStatus.EXPIRED
    assert fake.calls == ["POST /invoices/inv_1/expire!"]


async def test_void_with_metadata_is_refused_without_a_call(
    fake: FakeXendit, provider: XenditProvider
) -> None:
    with pytest.raises(ProviderRejected) as caught:
        await provider.void_invoice("inv_1", metadata={"reason": "dup"})
    assert caught.value.field == "metadata"
    assert fake.requests == []


async def test_expiring_a_paid_invoice_passes_xendits_refusal_on(
    fake: FakeXendit, provider: XenditProvider
) -> None:
    fake.on(
        "POST /invoices/inv_1/expire!",
        error(400, "INVOICE_ALREADY_PAID_ERROR", "Invoice is already paid"),
    )
    with pytest.raises(ProviderRejected) as caught:
        await provider.void_invoice("inv_1")
    assert caught.value.message == "Invoice is already paid"
    assert len(fake.requests) == 1  # a state change is never retried blindly


# -- check, settings, factory -------------------------------------------------------------------


async def test_check_is_one_cheap_call(fake: FakeXendit, provider: XenditProvider) -> None:
    fake.on("GET /v2/invoices", [])
    await provider.check()
    assert fake.calls == ["GET /v2/invoices?limit=1"]


async def test_check_raises_for_a_refused_key(fake: FakeXendit, provider: XenditProvider) -> None:
    fake.on("GET /v2/invoices", error(401, "INVALID_API_KEY", "no"))
    with pytest.raises(ProviderAuthError):
        await provider.check()


def test_settings_from_environ() -> None:
    settings = XenditSettings.from_environ(
        {
            "XENDIT_SECRET_KEY": f"  {SECRET_KEY}\n",
            "XENDIT_FOR_USER_ID": "sub-1",
            "XENDIT_MAX_CONCURRENCY": "4",
            "XENDIT_DEADLINE": "7",
        }
    )
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == SECRET_KEY
    assert settings.base_url == "https://api.xendit.co"
    assert settings.for_user_id == "sub-1"
    assert settings.max_concurrency == 4
    assert settings.policy().deadline == 7
    assert SECRET_KEY not in repr(settings)


@pytest.mark.parametrize("bad", ["xnd key", "xnd\x00key", "kéy"])
def test_an_unsendable_key_is_refused_without_echoing_it(bad: str) -> None:
    with pytest.raises(ValueError, match="XENDIT_SECRET_KEY") as caught:
        factory({"XENDIT_SECRET_KEY": bad})
    assert bad not in str(caught.value)
    assert isinstance(caught.value.__cause__, ValidationError)


def test_max_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError, match="XENDIT_MAX_CONCURRENCY"):
        factory({"XENDIT_SECRET_KEY": "k", "XENDIT_MAX_CONCURRENCY": "0"})


async def test_factory_with_a_key_points_at_xendit() -> None:
    provider = factory({"XENDIT_SECRET_KEY": SECRET_KEY, "XENDIT_FOR_USER_ID": "sub-1"})
    try:
        assert provider.describe() == "xendit: https://api.xendit.co, sub-account sub-1"
        assert provider.client.upstream.base_url == "https://api.xendit.co"
    finally:
        await provider.aclose()


def test_without_a_key_and_no_sandbox_the_provider_refuses() -> None:
    with pytest.raises(ProviderAuthError, match="XENDIT_SECRET_KEY"):
        XenditProvider(settings=XenditSettings())


async def test_secrets_never_reach_errors(fake: FakeXendit) -> None:
    provider = make_provider(fake)
    fake.on("GET /v2/invoices/inv_1", error(500, "SERVER_ERROR", SECRET_KEY))
    try:
        with pytest.raises(ProviderUnavailable) as caught:
            await provider.get_invoices(["inv_1"])
    finally:
        await provider.aclose()
    assert SECRET_KEY not in str(caught.value)
    assert SECRET_KEY not in repr(caught.value)


async def test_a_paid_invoice_refused_as_not_found_is_a_rejection(
    fake: FakeXendit, provider: XenditProvider
) -> None:
    fake.on(
        "POST /invoices/inv_1/expire!",
        error(404, "INVOICE_NOT_FOUND_ERROR", "Could not find a pending invoice inv_1"),
    )
    fake.on("GET /v2/invoices/inv_1", invoice(id="inv_1", status="PAID"))
    with pytest.raises(ProviderRejected) as caught:
        await provider.void_invoice("inv_1")
    assert not isinstance(caught.value, NotFound)
    assert caught.value.message == "Could not find a pending invoice inv_1"


async def test_void_of_an_unknown_invoice_is_not_found(
    fake: FakeXendit, provider: XenditProvider
) -> None:
    with pytest.raises(NotFound):
        await provider.void_invoice("inv_missing")
    assert fake.calls == ["POST /invoices/inv_missing/expire!", "GET /v2/invoices/inv_missing"]


# -- reading what Xendit sends ------------------------------------------------------------------


async def test_nulls_count_as_absent_and_times_become_utc(
    fake: FakeXendit, provider: XenditProvider
) -> None:
    odd = invoice(
        items=None,
        fees=None,
        metadata=None,
        customer=None,
        created="2024-03-13T17:00:00+07:00",
        expiry_date="2024-03-14T10:00:00",
    )
    fake.on("GET /v2/invoices", [odd])
    (result,) = (await provider.list_invoices(InvoiceFilter(), PageRequest(first=1))).items
    assert (result.line_items, result.metadata, result.customer, result.subtotal) == (
        (),
        {},
        None,
        None,
    )
    assert result.created_at == dt.datetime(2024, 3, 13, 10, 0, tzinfo=dt.UTC)
    assert result.due_at == dt.datetime(2024, 3, 14, 10, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("amount", ["NaN", "Infinity"])
async def test_an_amount_that_is_not_a_number_is_a_bad_response(
    fake: FakeXendit, provider: XenditProvider, amount: str
) -> None:
    fake.on("GET /v2/invoices", [invoice(amount=amount)])
    with pytest.raises(ProviderBadResponse):
        await provider.list_invoices(InvoiceFilter(), PageRequest(first=1))
