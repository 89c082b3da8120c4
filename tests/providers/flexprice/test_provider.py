"""FlexPriceProvider against a scripted FlexPrice: the calls it makes and what it returns."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

import providers.flexprice
from providers.base import InvoiceProvider
from providers.errors import (
    Conflict,
    IdempotencyKeyReused,
    ProviderAuthError,
    ProviderBadResponse,
    ProviderRejected,
    ProviderUnavailable,
)
from providers.flexprice import FlexPriceProvider, FlexPriceSettings, factory
from providers.models import (
    InvoiceDraft,
    InvoiceFilter,
    InvoicePreviewRequest,
    InvoiceStatus,
    InvoiceUpdate,
    LineItemDraft,
    Money,
    PageRequest,
    PaymentStatus,
    PaymentStatusUpdate,
)
from providers.paging import Position, decode_positions, encode_positions
from providers.transport import HandlerTransport, Request, Response, Unreachable

from .conftest import (
    API_KEY,
    BASE_URL,
    POLICY,
    FakeFlexPrice,
    error,
    fixture,
    invoice,
    make_provider,
    page,
)

ALL_STATUSES = ["DRAFT", "FINALIZED", "VOIDED", "SKIPPED"]


def search_reply(request: Request, known: dict[str, dict[str, Any]]) -> Response:
    """FlexPrice's batch read: the known ids among `invoice_ids`, newest first, not in key order."""
    wanted = json.loads(request.content)["invoice_ids"]
    items = [known[i] for i in sorted(wanted, reverse=True) if i in known]
    return Response.of(200, json=page(items, total=len(items)))


# -- the package --------------------------------------------------------------------------------


def test_public_api() -> None:
    assert providers.flexprice.__all__ == ["FlexPriceProvider", "FlexPriceSettings", "factory"]
    assert factory.name == "flexprice"


async def test_protocol_and_capabilities(provider: FlexPriceProvider) -> None:
    assert isinstance(provider, InvoiceProvider)
    assert provider.name == "flexprice"
    assert sorted(operation.value for operation in provider.capabilities) == [
        "ATTEMPT_PAYMENT",
        "CREATE_INVOICE",
        "CUSTOMER_INVOICE_SUMMARY",
        "FINALIZE_INVOICE",
        "GET_CUSTOMERS",
        "GET_INVOICES",
        "INVOICE_PDF",
        "LIST_INVOICES",
        "PREVIEW_INVOICE",
        "RECALCULATE_INVOICE",
        "TRIGGER_COMMUNICATION",
        "UPDATE_INVOICE",
        "UPDATE_PAYMENT_STATUS",
        "VOID_INVOICE",
    ]
    assert provider.max_batch_size == 1000


# -- batch reads --------------------------------------------------------------------------------


async def test_get_invoices_is_one_search_in_key_order(
    fake: FakeFlexPrice, provider: FlexPriceProvider
) -> None:
    known = {i: invoice(id=i) for i in ("inv_a", "inv_b", "inv_c")}
    fake.on("POST /v1/invoices/search", lambda request: search_reply(request, known))

    result = await provider.get_invoices(["inv_b", "inv_x", "inv_a", "inv_b", "inv_c"])

    assert [r.id if r else None for r in result] == ["inv_b", None, "inv_a", "inv_b", "inv_c"]
    assert fake.calls == ["POST /v1/invoices/search"]
    assert fake.body() == {
        "invoice_ids": ["inv_b", "inv_x", "inv_a", "inv_c"],
        "limit": 4,
        "invoice_status": ALL_STATUSES,
        "offset": 0,
    }


async def test_get_invoices_chunks_at_1000(
    fake: FakeFlexPrice, provider: FlexPriceProvider
) -> None:
    ids = [f"inv_{n:05}" for n in range(2500)]
    known = {i: invoice(id=i) for i in ids[::7]}
    fake.on("POST /v1/invoices/search", lambda request: search_reply(request, known))

    result = await provider.get_invoices(ids)

    assert len(result) == 2500
    assert [r.id for r in result if r] == ids[::7]
    sizes = [(len(fake.body(n)["invoice_ids"]), fake.body(n)["limit"]) for n in range(3)]
    assert sizes == [(1000, 1000), (1000, 1000), (500, 500)]


async def test_get_customers(fake: FakeFlexPrice, provider: FlexPriceProvider) -> None:
    customer = fixture("customer")
    fake.on("POST /v1/customers/search", page([customer], total=1))

    result = await provider.get_customers(["cust_missing", customer["id"]])

    assert result[0] is None
    assert result[1] is not None
    assert result[1].name == "Acme Corp"
    assert fake.body() == {"customer_ids": ["cust_missing", customer["id"]], "limit": 2}


# -- listing ------------------------------------------------------------------------------------


async def test_list_invoices_first_page(fake: FakeFlexPrice, provider: FlexPriceProvider) -> None:
    items = [invoice(id=f"inv_{n}") for n in range(3)]
    fake.on("POST /v1/invoices/search", page(items, total=10))

    result = await provider.list_invoices(
        InvoiceFilter(statuses=(InvoiceStatus.OPEN,), customer_ids=("cust_1",)),
        PageRequest(first=3),
    )

    assert fake.body() == {
        "invoice_status": ["FINALIZED"],
        "payment_status": ["INITIATED", "PENDING", "PROCESSING", "FAILED", "VOIDED"],
        "customer_id": "cust_1",
        "limit": 3,
        "offset": 0,
    }
    assert [i.id for i in result.items] == ["inv_0", "inv_1", "inv_2"]
    # All three share one creation time: each cursor names the ties read so far.
    at = result.items[0].created_at
    assert [decode_positions(c, 1) for c in result.item_cursors] == [
        [Position(seen=n, at=at, tie_ids=tuple(f"inv_{k}" for k in range(n)))] for n in (1, 2, 3)
    ]
    assert result.end_cursor == result.item_cursors[-1]
    assert result.has_next_page is True
    assert result.total_count == 10


async def test_list_invoices_next_page_is_a_keyset_not_an_offset(
    fake: FakeFlexPrice, provider: FlexPriceProvider
) -> None:
    """After 9 invoices, the last (inv_8) read at T: ask for those created before T + 1 us and
    drop inv_8. Invoices created, finalized or voided since page 1 shift nothing."""
    at = dt.datetime(2024, 7, 1, 0, 5, 0, 123456, tzinfo=dt.UTC)
    tie = invoice(id="inv_8", created_at="2024-07-01T00:05:00.123456Z")
    older = invoice(id="inv_9", created_at="2024-07-01T00:04:00Z")
    fake.on("POST /v1/invoices/search", page([tie, older], total=2))
    after = encode_positions([Position(seen=9, at=at, tie_ids=("inv_8",))])

    result = await provider.list_invoices(InvoiceFilter(), PageRequest(first=3, after=after))

    assert fake.body() == {
        "filters": [
            {
                "field": "created_at",
                "operator": "before",
                "data_type": "date",
                "value": {"date": "2024-07-01T00:05:00.123457Z"},
            }
        ],
        "limit": 4,
        "offset": 0,
    }
    assert [i.id for i in result.items] == ["inv_9"]
    last = Position(seen=10, at=result.items[0].created_at, tie_ids=("inv_9",))
    assert [decode_positions(c, 1) for c in result.item_cursors] == [[replace(last, done=True)]]
    assert result.has_next_page is False
    assert result.total_count == 10  # 8 read before T, plus the 2 FlexPrice counts up to T


async def test_list_invoices_past_the_end(fake: FakeFlexPrice, provider: FlexPriceProvider) -> None:
    fake.on("POST /v1/invoices/search", page([], total=0))
    at = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    after = encode_positions([Position(seen=10, at=at, tie_ids=("inv_9",))])
    result = await provider.list_invoices(InvoiceFilter(), PageRequest(first=5, after=after))
    assert result.items == ()
    assert result.end_cursor is None
    assert result.has_next_page is False


async def test_list_invoices_page_size_is_capped(
    fake: FakeFlexPrice, provider: FlexPriceProvider
) -> None:
    fake.on("POST /v1/invoices/search", page([], total=0))
    await provider.list_invoices(InvoiceFilter(), PageRequest(first=5000))
    assert fake.body()["limit"] == 1000


@pytest.mark.parametrize(
    "filters",
    [
        InvoiceFilter(statuses=(InvoiceStatus.EXPIRED,)),
        InvoiceFilter(payment_statuses=(PaymentStatus.SETTLED,)),
    ],
)
async def test_list_invoices_that_match_nothing_make_no_call(
    fake: FakeFlexPrice, provider: FlexPriceProvider, filters: InvoiceFilter
) -> None:
    result = await provider.list_invoices(filters, PageRequest(first=10))
    assert result.items == ()
    assert result.has_next_page is False
    assert result.total_count == 0  # nothing can match: the count is known
    assert fake.requests == []


@pytest.mark.parametrize(
    ("filters", "invoice_status"),
    [
        (InvoiceFilter(), None),
        (InvoiceFilter(statuses=(InvoiceStatus.VOID,)), [["VOIDED"]]),
        (InvoiceFilter(statuses=(InvoiceStatus.DRAFT, InvoiceStatus.VOID)), [["DRAFT", "VOIDED"]]),
        (InvoiceFilter(statuses=tuple(InvoiceStatus)), [["DRAFT", "FINALIZED", "VOIDED"]]),
        (InvoiceFilter(payment_statuses=(PaymentStatus.UNPAID,)), None),
    ],
)
async def test_list_invoices_never_asks_for_skipped_invoices(
    fake: FakeFlexPrice,
    provider: FlexPriceProvider,
    filters: InvoiceFilter,
    invoice_status: list[list[str]] | None,
) -> None:
    """FlexPrice hides SKIPPED unless asked; a status filter must not ask for it either."""
    fake.on("POST /v1/invoices/search", page([], total=0))
    await provider.list_invoices(filters, PageRequest(first=10))
    sent = [fake.body(n).get("invoice_status") for n in range(len(fake.requests))]
    if invoice_status is None:
        assert sent == [None] * len(fake.requests)
    else:
        assert sorted(sent) == invoice_status


@pytest.mark.parametrize("cursor", ["abc", "-1", "1.5", "", "\u0661\u0662"])
async def test_list_invoices_rejects_a_foreign_cursor(
    fake: FakeFlexPrice, provider: FlexPriceProvider, cursor: str
) -> None:
    with pytest.raises(ProviderRejected) as caught:
        await provider.list_invoices(InvoiceFilter(), PageRequest(first=1, after=cursor))
    assert caught.value.field == "after"
    assert fake.requests == []


@pytest.mark.parametrize("first", [0, -5])
async def test_list_invoices_needs_a_positive_page_size(
    fake: FakeFlexPrice, provider: FlexPriceProvider, first: int
) -> None:
    with pytest.raises(ProviderRejected) as caught:
        await provider.list_invoices(InvoiceFilter(), PageRequest(first=first))
    assert caught.value.field == "first"
    assert fake.requests == []


#: inv_0 (newest) .. inv_19: DRAFT when n % 3 == 0, OPEN (FINALIZED/PENDING) when 1, PAID when 2.
STATES = [("DRAFT", "PENDING"), ("FINALIZED", "PENDING"), ("FINALIZED", "SUCCEEDED")]
MIXED = [
    invoice(
        id=f"inv_{n}",
        invoice_status=STATES[n % 3][0],
        payment_status=STATES[n % 3][1],
        created_at=f"2024-07-01T00:{59 - n:02}:00Z",
    )
    for n in range(20)
]


def search_mixed(request: Request) -> Response:
    """FlexPrice's search over MIXED for the fields a status listing sends, newest first."""
    body = json.loads(request.content)
    rows = [
        row
        for row in MIXED
        if row["invoice_status"] in body.get("invoice_status", [row["invoice_status"]])
        and row["payment_status"] in body.get("payment_status", [row["payment_status"]])
    ]
    for condition in body.get("filters", []):
        assert (condition["field"], condition["operator"]) == ("created_at", "before")
        bound = dt.datetime.fromisoformat(condition["value"]["date"])
        rows = [row for row in rows if dt.datetime.fromisoformat(row["created_at"]) < bound]
    window = rows[body["offset"] : body["offset"] + body["limit"]]
    return Response.of(200, json=page(window, total=len(rows), offset=body["offset"]))


async def test_list_invoices_merges_what_one_search_cannot_express(
    fake: FakeFlexPrice, provider: FlexPriceProvider
) -> None:
    """DRAFT or OPEN is DRAFT x any payment plus FINALIZED x unpaid: two searches, each asked
    for a page from its own offset, merged newest first; a cursor holds both offsets."""
    fake.on("POST /v1/invoices/search", search_mixed)
    filters = InvoiceFilter(statuses=(InvoiceStatus.DRAFT, InvoiceStatus.OPEN))

    result = await provider.list_invoices(filters, PageRequest(first=4))

    bodies = sorted((fake.body(n) for n in range(2)), key=lambda b: b["invoice_status"])
    assert bodies == [
        {"invoice_status": ["DRAFT"], "limit": 4, "offset": 0},
        {
            "invoice_status": ["FINALIZED"],
            "payment_status": ["INITIATED", "PENDING", "PROCESSING", "FAILED", "VOIDED"],
            "limit": 4,
            "offset": 0,
        },
    ]
    assert [i.id for i in result.items] == ["inv_0", "inv_1", "inv_3", "inv_4"]
    # One position per search (DRAFT's, OPEN's): read counts 1.0, 1.1, 2.1, 2.2.
    seen = [
        tuple(position.seen for position in decode_positions(cursor, 2))
        for cursor in result.item_cursors
    ]
    assert sorted(seen[-1]) == [2, 2]
    assert result.end_cursor == result.item_cursors[-1]
    assert result.has_next_page is True
    assert result.total_count == 14  # 7 DRAFT + 7 OPEN

    # Walking on from any item cursor continues right after that item, with full pages.
    fake.requests.clear()
    rest = await provider.list_invoices(filters, PageRequest(first=4, after=result.item_cursors[1]))
    assert [i.id for i in rest.items] == ["inv_3", "inv_4", "inv_6", "inv_7"]
    assert rest.total_count == 14
    ids, after = [], None
    while True:
        current = await provider.list_invoices(filters, PageRequest(first=3, after=after))
        ids += [i.id for i in current.items]
        if not current.has_next_page:
            break
        after = current.end_cursor
    assert ids == [f"inv_{n}" for n in range(20) if n % 3 != 2]


async def test_a_search_that_gave_nothing_yet_is_bound_to_the_walks_start(
    fake: FakeFlexPrice, provider: FlexPriceProvider
) -> None:
    """Page 1 of DRAFT or OPEN takes inv_0 from the DRAFT search only. An OPEN invoice created
    then (newer than inv_0) must not appear on page 2: its search is bound by its first answer
    (the engine's snapshot), not asked again from the top."""
    rows = list(MIXED)

    def search(request: Request) -> Response:
        body = json.loads(request.content)
        found = [
            row
            for row in rows
            if row["invoice_status"] in body.get("invoice_status", [row["invoice_status"]])
            and row["payment_status"] in body.get("payment_status", [row["payment_status"]])
        ]
        for condition in body.get("filters", []):
            bound = dt.datetime.fromisoformat(condition["value"]["date"])
            found = [row for row in found if dt.datetime.fromisoformat(row["created_at"]) < bound]
        window = found[body["offset"] : body["offset"] + body["limit"]]
        return Response.of(200, json=page(window, total=len(found), offset=body["offset"]))

    fake.on("POST /v1/invoices/search", search)
    filters = InvoiceFilter(statuses=(InvoiceStatus.DRAFT, InvoiceStatus.OPEN))
    first = await provider.list_invoices(filters, PageRequest(first=1))
    assert [i.id for i in first.items] == ["inv_0"]
    late = invoice(
        id="inv_late",
        invoice_status="FINALIZED",
        payment_status="PENDING",
        created_at="2024-07-01T01:00:00Z",
    )
    rows.insert(0, late)
    ids, after = ["inv_0"], first.end_cursor
    for _ in range(20):
        current = await provider.list_invoices(filters, PageRequest(first=3, after=after))
        ids += [i.id for i in current.items]
        if not current.has_next_page:
            break
        after = current.end_cursor
    assert ids == [f"inv_{n}" for n in range(20) if n % 3 != 2]


@pytest.mark.parametrize(
    "cursor",
    [
        "3",
        "1.2.3",
        "1.x",
        encode_positions([Position()]),  # one search's position; this filter needs two
        encode_positions([Position(token="inv_1"), Position()]),  # a token: not ours
    ],
)
async def test_list_invoices_cursor_must_fit_the_filter(
    fake: FakeFlexPrice, provider: FlexPriceProvider, cursor: str
) -> None:
    filters = InvoiceFilter(statuses=(InvoiceStatus.DRAFT, InvoiceStatus.OPEN))
    with pytest.raises(ProviderRejected) as caught:
        await provider.list_invoices(filters, PageRequest(first=2, after=cursor))
    assert caught.value.field == "after"
    assert fake.requests == []


async def test_list_invoices_a_failing_part_raises_its_own_error(
    fake: FakeFlexPrice, provider: FlexPriceProvider
) -> None:
    def reply(request: Request) -> Response:
        if json.loads(request.content)["invoice_status"] == ["DRAFT"]:
            return error(400, "validation_error", "invalid filter parameters")
        return search_mixed(request)

    fake.on("POST /v1/invoices/search", reply)
    filters = InvoiceFilter(statuses=(InvoiceStatus.DRAFT, InvoiceStatus.OPEN))
    with pytest.raises(ProviderRejected, match="invalid filter parameters"):
        await provider.list_invoices(filters, PageRequest(first=2))


# -- create -------------------------------------------------------------------------------------

DRAFT = InvoiceDraft(
    customer_id="cust_1",
    currency="USD",
    line_items=(
        LineItemDraft(description="Seats", quantity=Decimal("3"), unit_amount=Decimal("33.5")),
        LineItemDraft(description="Setup", quantity=Decimal("1"), unit_amount=Decimal("10")),
    ),
    due_at=dt.datetime(2024, 7, 31, tzinfo=dt.UTC),
    description="July services",
    metadata={"order": "A-17"},
)


async def test_create_invoice(fake: FakeFlexPrice, provider: FlexPriceProvider) -> None:
    fake.on("POST /v1/invoices", Response.of(201, json=invoice()))

    result = await provider.create_invoice(DRAFT, idempotency_key="idem-1")

    assert result.id == invoice()["id"]
    assert result.total == Money(amount=Decimal("120.5"), currency="USD")
    assert fake.body() == {
        "customer_id": "cust_1",
        "currency": "usd",
        "invoice_type": "ONE_OFF",
        "idempotency_key": "idem-1",
        "subtotal": "110.5",
        "total": "110.5",
        "amount_due": "110.5",
        "line_items": [
            {"display_name": "Seats", "quantity": "3", "amount": "100.5"},
            {"display_name": "Setup", "quantity": "1", "amount": "10"},
        ],
        "due_date": "2024-07-31T00:00:00Z",
        "description": "July services",
        "metadata": {"order": "A-17"},
    }


def as_made_by(draft: InvoiceDraft, **changes: Any) -> dict[str, Any]:
    """The invoice fixture as FlexPrice keeps what `draft` sends."""
    lines = [
        {
            **invoice()["line_items"][0],
            "display_name": line.description,
            "quantity": str(line.quantity),
            "amount": str(line.amount),
        }
        for line in draft.line_items
    ]
    return invoice(
        customer_id=draft.customer_id,
        currency=draft.currency.lower(),
        line_items=lines,
        subtotal=str(draft.subtotal),
        **changes,
    )


@pytest.mark.parametrize(
    ("kept", "named"),
    [
        ({"subtotal": "110.6"}, "line_items"),
        ({"line_items": []}, "line_items"),
        ({"due_date": "2024-08-31T00:00:00Z"}, "due_at"),
        ({"description": "August services"}, "description"),
        ({"metadata": {"order": "A-18"}}, "metadata"),
        ({"customer_id": "cust_2"}, "customer_id"),
        ({"currency": "eur"}, "currency"),
    ],
)
async def test_an_invoice_held_under_the_key_for_another_input_is_refused(
    fake: FakeFlexPrice, provider: FlexPriceProvider, kept: dict[str, Any], named: str
) -> None:
    """A key the gateway forgot: the invoice FlexPrice's 409 points at is compared with the
    whole draft, not only customer and currency; a difference is refused, naming it."""
    fake.on("POST /v1/invoices", error(409, "already_exists", "invoice already exists"))
    held = as_made_by(DRAFT, idempotency_key="idem-2")
    fake.on("POST /v1/invoices/search", page([{**held, **kept}], total=1))

    with pytest.raises(IdempotencyKeyReused) as refused:
        await provider.create_invoice(DRAFT, idempotency_key="idem-2")

    assert refused.value.field == "idempotency_key"
    assert f"its {named} differ" in refused.value.message
    fake.on("POST /v1/invoices/search", page([held], total=1))
    again = await provider.create_invoice(DRAFT, idempotency_key="idem-2")
    assert again.id == held["id"]


async def test_create_invoice_after_a_lost_answer_returns_the_first_invoice(
    fake: FakeFlexPrice, provider: FlexPriceProvider
) -> None:
    """The first attempt's answer is lost (504); the retry is refused with 409 because that
    attempt created the invoice; the invoice is found by its key."""
    created = as_made_by(DRAFT, idempotency_key="idem-1")
    fake.on(
        "POST /v1/invoices",
        Response.of(504),
        error(409, "already_exists", "invoice already exists"),
    )
    fake.on("POST /v1/invoices/search", page([created], total=1))

    result = await provider.create_invoice(DRAFT, idempotency_key="idem-1")

    assert result.id == created["id"]
    assert fake.calls == ["POST /v1/invoices", "POST /v1/invoices", "POST /v1/invoices/search"]
    assert fake.body(0) == fake.body(1)
    assert fake.body(2) == {
        "filters": [
            {
                "field": "idempotency_key",
                "operator": "eq",
                "data_type": "string",
                "value": {"string": "idem-1"},
            }
        ],
        "invoice_status": ["DRAFT", "FINALIZED", "SKIPPED"],
        "limit": 1,
        "offset": 0,
    }


@pytest.mark.parametrize(
    "found",
    [
        [],
        # A search that ignored the key condition: the newest invoice is someone else's.
        [invoice(idempotency_key="someone-else")],
    ],
)
async def test_create_invoice_conflict_without_the_invoice(
    fake: FakeFlexPrice, provider: FlexPriceProvider, found: list[dict[str, Any]]
) -> None:
    fake.on("POST /v1/invoices", error(409, "already_exists", "invoice already exists"))
    fake.on("POST /v1/invoices/search", page(found, total=len(found)))
    with pytest.raises(Conflict, match="invoice already exists"):
        await provider.create_invoice(DRAFT, idempotency_key="idem-1")


async def test_create_invoice_other_conflicts_are_raised(
    fake: FakeFlexPrice, provider: FlexPriceProvider
) -> None:
    fake.on("POST /v1/invoices", error(409, "version_conflict", "version conflict"))
    with pytest.raises(Conflict):
        await provider.create_invoice(DRAFT, idempotency_key="idem-1")
    assert fake.calls == ["POST /v1/invoices"]


async def test_create_invoice_validation_error(
    fake: FakeFlexPrice, provider: FlexPriceProvider
) -> None:
    fake.on("POST /v1/invoices", error(400, "validation_error", "customer not found"))
    with pytest.raises(ProviderRejected, match="customer not found"):
        await provider.create_invoice(DRAFT, idempotency_key="idem-1")
    assert len(fake.requests) == 1


# -- other changes ------------------------------------------------------------------------------


async def test_update_invoice(fake: FakeFlexPrice, provider: FlexPriceProvider) -> None:
    fake.on("PUT /v1/invoices/inv_1", invoice(metadata={"a": "b"}))
    result = await provider.update_invoice(
        "inv_1", InvoiceUpdate(due_at=dt.datetime(2024, 9, 1, tzinfo=dt.UTC), metadata={"a": "b"})
    )
    assert result.metadata == {"a": "b"}
    assert fake.body() == {"due_date": "2024-09-01T00:00:00Z", "metadata": {"a": "b"}}


@pytest.mark.parametrize(
    ("operation", "route", "message"),
    [
        ("finalize_invoice", "finalize", "invoice finalized successfully"),
        ("void_invoice", "void", "invoice voided successfully"),
        ("attempt_payment", "payment/attempt", "payment processed successfully"),
    ],
)
async def test_actions_return_the_invoice_read_back(
    fake: FakeFlexPrice,
    provider: FlexPriceProvider,
    operation: str,
    route: str,
    message: str,
) -> None:
    fake.on(f"POST /v1/invoices/inv_1/{route}", {"message": message})
    fake.on("GET /v1/invoices/inv_1", invoice(id="inv_1", payment_status="SUCCEEDED"))

    result = await getattr(provider, operation)("inv_1")

    assert result.id == "inv_1"
    assert result.status is InvoiceStatus.PAID
    assert fake.calls == [f"POST /v1/invoices/inv_1/{route}", "GET /v1/invoices/inv_1"]


async def test_void_with_metadata(fake: FakeFlexPrice, provider: FlexPriceProvider) -> None:
    fake.on("POST /v1/invoices/inv_1/void", {"message": "invoice voided successfully"})
    fake.on("GET /v1/invoices/inv_1", invoice(invoice_status="VOIDED"))
    result = await provider.void_invoice("inv_1", metadata={"reason": "dup"})
    assert result.status is InvoiceStatus.VOID
    assert fake.body(0) == {"metadata": {"reason": "dup"}}


async def test_refused_action_is_not_read_back(
    fake: FakeFlexPrice, provider: FlexPriceProvider
) -> None:
    message = "invoice must be in draft status to be finalized"
    fake.on("POST /v1/invoices/inv_1/finalize", error(400, "validation_error", message))
    with pytest.raises(ProviderRejected) as caught:
        await provider.finalize_invoice("inv_1")
    assert caught.value.message == message
    assert fake.calls == ["POST /v1/invoices/inv_1/finalize"]


async def test_update_payment_status(fake: FakeFlexPrice, provider: FlexPriceProvider) -> None:
    fake.on("PUT /v1/invoices/inv_1/payment", invoice(payment_status="SUCCEEDED"))
    result = await provider.update_payment_status(
        "inv_1", PaymentStatusUpdate(status=PaymentStatus.PAID)
    )
    assert result.payment_status is PaymentStatus.PAID
    assert fake.body() == {"payment_status": "SUCCEEDED"}


async def test_update_payment_status_rejects_before_calling(
    fake: FakeFlexPrice, provider: FlexPriceProvider
) -> None:
    with pytest.raises(ProviderRejected) as caught:
        await provider.update_payment_status(
            "inv_1", PaymentStatusUpdate(status=PaymentStatus.REFUNDED)
        )
    assert caught.value.field == "status"
    assert fake.requests == []


async def test_recalculate_a_voided_invoice(
    fake: FakeFlexPrice, provider: FlexPriceProvider
) -> None:
    fake.on(
        "GET /v1/invoices/inv_1",
        invoice(invoice_status="VOIDED"),
        invoice(invoice_status="VOIDED", recalculated_invoice_id="inv_2"),
    )
    workflow = {"message": "recalculation started", "run_id": "r", "workflow_id": "w"}
    fake.on("POST /v1/invoices/inv_1/recalculate", Response.of(202, json=workflow))

    result = await provider.recalculate_invoice("inv_1")

    assert result.message == "recalculation started"
    assert result.invoice is not None
    assert result.invoice.raw["recalculated_invoice_id"] == "inv_2"
    assert fake.calls == [
        "GET /v1/invoices/inv_1",
        "POST /v1/invoices/inv_1/recalculate",
        "GET /v1/invoices/inv_1",
    ]


async def test_recalculate_a_draft(fake: FakeFlexPrice, provider: FlexPriceProvider) -> None:
    fake.on("GET /v1/invoices/inv_1", invoice(invoice_status="DRAFT"))
    fake.on("POST /v1/invoices/inv_1/recalculate-v2", invoice(invoice_status="DRAFT", total="7"))

    result = await provider.recalculate_invoice("inv_1", finalize=False)

    assert result.message is None
    assert result.invoice is not None
    assert result.invoice.total == Money(amount=Decimal(7), currency="USD")
    assert fake.calls[-1] == "POST /v1/invoices/inv_1/recalculate-v2?finalize=false"


async def test_trigger_communication(fake: FakeFlexPrice, provider: FlexPriceProvider) -> None:
    fake.on("POST /v1/invoices/inv_1/comms/trigger", {"message": "communication triggered"})
    await provider.trigger_communication("inv_1")
    assert fake.calls == ["POST /v1/invoices/inv_1/comms/trigger"]


async def test_pdf_url(fake: FakeFlexPrice, provider: FlexPriceProvider) -> None:
    fake.on("GET /v1/invoices/inv_1/pdf", {"presigned_url": "https://s3.test/inv_1.pdf?sig=1"})
    assert await provider.get_invoice_pdf_url("inv_1") == "https://s3.test/inv_1.pdf?sig=1"
    assert fake.calls == ["GET /v1/invoices/inv_1/pdf?url=true"]


async def test_pdf_url_missing(fake: FakeFlexPrice, provider: FlexPriceProvider) -> None:
    fake.on("GET /v1/invoices/inv_1/pdf", {})
    with pytest.raises(ProviderBadResponse):
        await provider.get_invoice_pdf_url("inv_1")


async def test_preview(fake: FakeFlexPrice, provider: FlexPriceProvider) -> None:
    preview = invoice(invoice_status="DRAFT", subscription_id="sub_1")
    del preview["id"]
    fake.on("POST /v1/invoices/preview", preview)

    result = await provider.preview_invoice(
        InvoicePreviewRequest(
            subscription_id="sub_1", period_start=dt.datetime(2024, 8, 1, tzinfo=dt.UTC)
        )
    )

    assert result.id == ""
    assert result.status is InvoiceStatus.DRAFT
    assert fake.body() == {"subscription_id": "sub_1", "period_start": "2024-08-01T00:00:00Z"}


async def test_customer_invoice_summary(fake: FakeFlexPrice, provider: FlexPriceProvider) -> None:
    fake.on("GET /v1/customers/cust_1/invoices/summary", fixture("customer_invoice_summary"))
    result = await provider.get_customer_invoice_summary("cust_1")
    assert [s.currency for s in result] == ["USD", "EUR"]
    assert result[0].total_unpaid == Money(amount=Decimal("240.5"), currency="USD")


# -- check, settings, secrets -------------------------------------------------------------------


async def test_check(fake: FakeFlexPrice, provider: FlexPriceProvider) -> None:
    fake.on("POST /v1/customers/search", page([], total=0))
    await provider.check()
    assert fake.calls == ["POST /v1/customers/search"]
    assert fake.body() == {"limit": 1}


async def test_check_with_a_refused_key(fake: FakeFlexPrice, provider: FlexPriceProvider) -> None:
    fake.on("POST /v1/customers/search", Response.of(401, json={"error": "Unauthorized"}))
    with pytest.raises(ProviderAuthError) as caught:
        await provider.check()
    assert "API key" in caught.value.message
    assert API_KEY not in caught.value.message


async def test_check_when_flexprice_is_down(
    fake: FakeFlexPrice, provider: FlexPriceProvider
) -> None:
    fake.on("POST /v1/customers/search", Unreachable("connection refused"))
    with pytest.raises(ProviderUnavailable):
        await provider.check()
    assert len(fake.requests) == 3  # a read: retried up to the policy's attempts


async def test_the_key_is_never_shown(fake: FakeFlexPrice) -> None:
    settings = FlexPriceSettings(api_key=SecretStr(API_KEY))
    provider = make_provider(fake)
    try:
        for text in (repr(settings), str(settings), provider.describe(), repr(provider)):
            assert API_KEY not in text
        assert provider.describe() == "flexprice: https://flexprice.test/v1"
    finally:
        await provider.aclose()


def test_settings_from_environ() -> None:
    settings = FlexPriceSettings.from_environ(
        {
            "FLEXPRICE_API_KEY": "sk_x",
            "flexprice_base_url": "https://api.cloud.flexprice.io/v1",
            "FLEXPRICE_READ_TIMEOUT": "2.5",
            "FLEXPRICE_DEADLINE": "8",
            "FLEXPRICE_MAX_ATTEMPTS": "5",
            "FLEXPRICE_CONNECT_TIMEOUT": "",
            "XENDIT_API_KEY": "not ours",
        }
    )
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == "sk_x"
    assert settings.base_url == "https://api.cloud.flexprice.io/v1"
    policy = settings.policy()
    assert (policy.read_timeout, policy.deadline, policy.attempts) == (2.5, 8.0, 5)
    assert policy.connect_timeout == 3.0


@pytest.mark.parametrize("written", [f"{API_KEY}\n", f"  {API_KEY}\r\n", f"\t{API_KEY} "])
async def test_settings_strip_whitespace_around_the_key(fake: FakeFlexPrice, written: str) -> None:
    """A key read from a secret file usually ends in a newline; it is sent without it."""
    settings = FlexPriceSettings.from_environ(
        {"FLEXPRICE_API_KEY": written, "FLEXPRICE_BASE_URL": BASE_URL}
    )
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == API_KEY
    fake.on("POST /v1/customers/search", page([], total=0))
    provider = FlexPriceProvider(
        settings=settings, transport=HandlerTransport(fake.handler), policy=POLICY
    )
    try:
        await provider.check()
    finally:
        await provider.aclose()
    assert fake.requests[0].headers["x-api-key"] == API_KEY


@pytest.mark.parametrize(
    "key",
    ["sk_live two_parts", "sk_live_a\nsk_live_b", "sk_live\x00", "sk_live\x7f", "sk_lïve", "  \n"],
)
def test_settings_reject_a_key_no_header_can_carry(key: str) -> None:
    with pytest.raises(ValidationError) as direct:
        FlexPriceSettings.from_environ({"FLEXPRICE_API_KEY": key})
    with pytest.raises(ValueError, match="FLEXPRICE_API_KEY") as built:
        factory({"FLEXPRICE_API_KEY": key})
    for text in (str(direct.value), repr(direct.value), str(built.value)):
        assert "FLEXPRICE_API_KEY must be printable ASCII without whitespace" in text
        assert "sk_l" not in text  # the value is never echoed


def test_settings_defaults() -> None:
    settings = FlexPriceSettings.from_environ({})
    assert settings.api_key is None
    assert settings.base_url == "https://us.api.flexprice.io/v1"


def test_factory_rejects_bad_settings_naming_the_variable() -> None:
    with pytest.raises(ValueError, match="FLEXPRICE_DEADLINE") as caught:
        factory({"FLEXPRICE_API_KEY": "sk_secret_value", "FLEXPRICE_DEADLINE": "-1"})
    assert "sk_secret_value" not in str(caught.value)


async def test_factory_with_a_key_points_at_the_real_service() -> None:
    provider = factory({"FLEXPRICE_API_KEY": API_KEY})
    try:
        assert isinstance(provider, FlexPriceProvider)
        assert provider.describe() == "flexprice: https://us.api.flexprice.io/v1"
    finally:
        await provider.aclose()


async def test_factory_base_url_override() -> None:
    provider = factory(
        {"FLEXPRICE_API_KEY": API_KEY, "FLEXPRICE_BASE_URL": "https://api.cloud.flexprice.io/v1"}
    )
    try:
        assert provider.describe() == "flexprice: https://api.cloud.flexprice.io/v1"
    finally:
        await provider.aclose()


def test_no_key_outside_the_sandbox_says_what_to_do() -> None:
    with pytest.raises(ProviderAuthError, match="FLEXPRICE_API_KEY is not set: export it"):
        FlexPriceProvider(settings=FlexPriceSettings())


async def test_describe_leaves_url_credentials_out(fake: FakeFlexPrice) -> None:
    provider = make_provider(fake, base_url="https://user:hunter2@flexprice.test/v1")
    try:
        assert provider.describe() == "flexprice: https://flexprice.test/v1"
    finally:
        await provider.aclose()


# -- reading what FlexPrice sends ---------------------------------------------------------------


async def test_nulls_count_as_absent_and_times_become_utc(
    fake: FakeFlexPrice, provider: FlexPriceProvider
) -> None:
    # Go sends an empty slice or map as null; a time may come with another offset, or none.
    odd = invoice(
        id="inv_1",
        line_items=None,
        metadata=None,
        customer=None,
        created_at="2024-07-01T07:05:00+07:00",
        due_date="2024-07-31T00:00:00",
        total=7,
    )
    fake.on("POST /v1/invoices/search", {"items": [odd], "pagination": None})
    (result,) = (await provider.list_invoices(InvoiceFilter(), PageRequest(first=1))).items
    assert (result.line_items, result.metadata, result.customer) == ((), {}, None)
    assert result.created_at == dt.datetime(2024, 7, 1, 0, 5, tzinfo=dt.UTC)
    assert result.due_at == dt.datetime(2024, 7, 31, tzinfo=dt.UTC)
    assert result.total == Money(amount=Decimal(7), currency="USD")

    fake.on("POST /v1/invoices/search", {"items": None, "pagination": {"total": 0}})
    assert (await provider.list_invoices(InvoiceFilter(), PageRequest(first=1))).items == ()


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-inf", "sNaN"])
async def test_an_amount_that_is_not_a_number_is_a_bad_response(
    fake: FakeFlexPrice, provider: FlexPriceProvider, amount: str
) -> None:
    fake.on("POST /v1/invoices/search", page([invoice(amount_due=amount)], total=1))
    with pytest.raises(ProviderBadResponse):
        await provider.list_invoices(InvoiceFilter(), PageRequest(first=1))
