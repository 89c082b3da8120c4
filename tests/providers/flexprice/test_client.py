"""FlexPriceClient: the requests it makes, the wire models it returns, the errors it raises."""

from __future__ import annotations

from decimal import Decimal

import pytest

from providers.errors import (
    Conflict,
    NotFound,
    ProviderAuthError,
    ProviderBadResponse,
    ProviderRejected,
    ProviderUnavailable,
)
from providers.flexprice import FlexPriceProvider, bodies, wire
from providers.flexprice.client import FlexPriceClient, parse_error
from providers.transport import Response, Unreachable

from .conftest import API_KEY, FakeFlexPrice, error, fixture, invoice, page, record


@pytest.fixture
def client(provider: FlexPriceProvider) -> FlexPriceClient:
    return provider.client


async def test_every_request_carries_key_accept_and_user_agent(
    fake: FakeFlexPrice, client: FlexPriceClient
) -> None:
    fake.on("GET /v1/invoices/inv_1", invoice())
    fake.on("POST /v1/invoices/search", page([], total=0))
    await client.get_invoice("inv_1")
    await client.search_invoices(bodies.InvoiceFilter(limit=1))

    for request in fake.requests:
        assert request.headers["x-api-key"] == API_KEY
        assert request.headers["accept"] == "application/json"
        assert request.headers["user-agent"].startswith("invoice-gateway/")
    assert "content-type" not in fake.requests[0].headers
    assert fake.requests[1].headers["content-type"] == "application/json"


async def test_the_key_is_not_in_the_default_headers(client: FlexPriceClient) -> None:
    # Headers of a client are easy to log; the key is added per request instead.
    headers = client.upstream.headers
    assert "x-api-key" not in headers
    assert API_KEY not in repr(client)
    assert API_KEY not in repr(client.upstream)
    assert API_KEY not in str(client.upstream.snapshot())


async def test_path_segments_are_quoted(fake: FakeFlexPrice, client: FlexPriceClient) -> None:
    fake.on("GET /v1/invoices/a/../b c?d", invoice())
    await client.get_invoice("a/../b c?d")
    # One segment, whatever it holds: no "/", "?" or ".." reaches the router unquoted.
    assert fake.requests[0].url.raw_path == "/v1/invoices/a%2F..%2Fb%20c%3Fd"


@pytest.mark.parametrize("invoice_id", ["", ".", ".."])
async def test_ids_that_would_change_the_path_are_not_sent(
    fake: FakeFlexPrice, client: FlexPriceClient, invoice_id: str
) -> None:
    with pytest.raises(NotFound):
        await client.finalize_invoice(invoice_id)
    assert fake.requests == []


async def test_search_returns_wire_models(fake: FakeFlexPrice, client: FlexPriceClient) -> None:
    fake.on("POST /v1/invoices/search", page([invoice()], total=7, offset=5))
    result = await client.search_invoices(bodies.InvoiceFilter(invoice_ids=("inv_1",), limit=1))
    assert fake.body() == {"invoice_ids": ["inv_1"], "limit": 1}
    assert result.pagination == wire.PaginationResponse(total=7, limit=1, offset=5)
    assert result.items[0].amount_due == Decimal("120.5")


async def test_create_expects_201_and_is_retried_with_the_same_body(
    fake: FakeFlexPrice, client: FlexPriceClient
) -> None:
    fake.on("POST /v1/invoices", Response.of(503), Response.of(201, json=invoice()))
    request = bodies.CreateInvoiceRequest(
        customer_id="c",
        currency="usd",
        idempotency_key="k-1",
        subtotal=Decimal(1),
        total=Decimal(1),
        amount_due=Decimal(1),
        line_items=(),
    )
    result = await client.create_invoice(request)
    assert result.id == invoice()["id"]
    assert fake.calls == ["POST /v1/invoices", "POST /v1/invoices"]
    assert fake.body(0) == fake.body(1)
    assert fake.body(1)["idempotency_key"] == "k-1"


@pytest.mark.parametrize(
    ("call", "route"),
    [
        ("finalize_invoice", "POST /v1/invoices/inv_1/finalize"),
        ("attempt_payment", "POST /v1/invoices/inv_1/payment/attempt"),
        ("void_invoice", "POST /v1/invoices/inv_1/void"),
        ("trigger_comms", "POST /v1/invoices/inv_1/comms/trigger"),
        ("recalculate_invoice", "POST /v1/invoices/inv_1/recalculate"),
    ],
)
async def test_state_changes_are_sent_once(
    fake: FakeFlexPrice, client: FlexPriceClient, call: str, route: str
) -> None:
    fake.on(route, Response.of(503), {"message": "ok"})
    with pytest.raises(ProviderUnavailable):
        await getattr(client, call)("inv_1")
    assert fake.calls == [route]


async def test_reads_are_retried(fake: FakeFlexPrice, client: FlexPriceClient) -> None:
    fake.on("GET /v1/invoices/inv_1", Response.of(502), Unreachable("refused"), invoice())
    result = await client.get_invoice("inv_1")
    assert result.invoice_status == "FINALIZED"
    assert len(fake.requests) == 3


async def test_void_sends_metadata_only_when_given(
    fake: FakeFlexPrice, client: FlexPriceClient
) -> None:
    fake.on("POST /v1/invoices/inv_1/void", {"message": "invoice voided successfully"})
    await client.void_invoice("inv_1")
    await client.void_invoice("inv_1", metadata={"reason": "duplicate"})
    assert fake.body(0) is None
    assert fake.body(1) == {"metadata": {"reason": "duplicate"}}


async def test_pdf_url_and_recalculate_query_strings(
    fake: FakeFlexPrice, client: FlexPriceClient
) -> None:
    fake.on("GET /v1/invoices/inv_1/pdf", {"presigned_url": "https://s3.test/x.pdf"})
    fake.on("POST /v1/invoices/inv_1/recalculate-v2", invoice())
    fake.on(
        "POST /v1/invoices/inv_1/recalculate",
        Response.of(202, json={"message": "started", "run_id": "r", "workflow_id": "w"}),
    )
    assert (await client.get_invoice_pdf_url("inv_1")).presigned_url == "https://s3.test/x.pdf"
    await client.recalculate_invoice_v2("inv_1", finalize=False)
    started = await client.recalculate_invoice("inv_1")
    assert started.workflow_id == "w"
    assert fake.calls == [
        "GET /v1/invoices/inv_1/pdf?url=true",
        "POST /v1/invoices/inv_1/recalculate-v2?finalize=false",
        "POST /v1/invoices/inv_1/recalculate",
    ]


# -- errors -------------------------------------------------------------------------------------


async def test_validation_error_passes_flexprice_message_on(
    fake: FakeFlexPrice, client: FlexPriceClient
) -> None:
    message = "invoice must be in draft status to be finalized"
    fake.on("POST /v1/invoices/inv_1/finalize", error(400, "validation_error", message))
    with pytest.raises(ProviderRejected) as caught:
        await client.finalize_invoice("inv_1")
    assert type(caught.value) is ProviderRejected
    assert caught.value.message == message
    assert caught.value.provider_code == "validation_error"
    assert caught.value.status == 400


async def test_invalid_operation_is_rejected(fake: FakeFlexPrice, client: FlexPriceClient) -> None:
    message = "Manual payment status updates are disabled for payment-based invoices."
    fake.on("PUT /v1/invoices/inv_1/payment", error(400, "invalid_operation", message))
    request = bodies.UpdatePaymentStatusRequest(payment_status="SUCCEEDED")
    with pytest.raises(ProviderRejected, match="payment-based invoices"):
        await client.update_payment_status("inv_1", request)


@pytest.mark.parametrize(
    ("reply", "raised"),
    [
        (error(404, "not_found", "invoice not found"), NotFound),
        (Response.of(404, text="404 page not found"), NotFound),
        (error(409, "already_exists", "invoice already exists"), Conflict),
        (Response.of(401, json={"error": "Unauthorized"}), ProviderAuthError),
        (Response.of(403, json={"error": "Access denied"}), ProviderAuthError),
        (error(500, "internal_error", "db password is hunter2"), ProviderUnavailable),
    ],
)
async def test_status_to_error(
    fake: FakeFlexPrice,
    client: FlexPriceClient,
    reply: Response,
    raised: type[Exception],
) -> None:
    fake.on("GET /v1/invoices/inv_1", reply)
    with pytest.raises(raised) as caught:
        await client.get_invoice("inv_1")
    assert API_KEY not in str(caught.value)
    assert API_KEY not in repr(caught.value)
    assert "hunter2" not in str(caught.value)  # 5xx text stays out of client-facing messages


async def test_a_body_that_is_not_json_is_a_bad_response(
    fake: FakeFlexPrice, client: FlexPriceClient
) -> None:
    fake.on("GET /v1/invoices/inv_1", Response.of(200, text="<html>hello</html>"))
    with pytest.raises(ProviderBadResponse):
        await client.get_invoice("inv_1")


@pytest.mark.parametrize(
    "body", [[1, 2], {"items": "nope"}, {"items": [{"amount_due": "lots"}]}, "just text"]
)
async def test_json_of_the_wrong_shape_is_a_bad_response(
    fake: FakeFlexPrice, client: FlexPriceClient, body: object
) -> None:
    fake.on("POST /v1/invoices/search", Response.of(200, json=body))
    with pytest.raises(ProviderBadResponse) as caught:
        await client.search_invoices(bodies.InvoiceFilter(limit=1))
    # The pydantic error is chained for the logs, never raised.
    assert not isinstance(caught.value, ValueError)


# -- parse_error --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "parsed"),
    [
        (
            error(400, "validation_error", "invalid request"),
            ("validation_error", "invalid request"),
        ),
        (Response.of(401, json={"error": "Unauthorized"}), (None, "Unauthorized")),
        (Response.of(404, text="404 page not found"), (None, None)),
        (Response.of(500, json=["not", "an", "object"]), (None, None)),
        (Response.of(500, json={"code": 5, "message": {"deep": 1}}), (None, None)),
        (Response.of(502, content=b""), (None, None)),
    ],
)
def test_parse_error(response: Response, parsed: tuple[str | None, str | None]) -> None:
    assert parse_error(response) == parsed


def test_parse_error_keeps_messages_short() -> None:
    code, message = parse_error(error(400, "validation_error", "x" * 10_000))
    assert code == "validation_error"
    assert message is not None
    assert len(message) == 500


def test_fixtures_parse() -> None:
    # The fixtures are FlexPrice's documented shapes; a model change that rejects them is a bug.
    record(wire.InvoiceResponse, fixture("invoice_finalized"))
    record(wire.InvoiceResponse, fixture("invoice_draft"))
    record(wire.CustomerResponse, fixture("customer"))
    record(wire.CustomerMultiCurrencyInvoiceSummary, fixture("customer_invoice_summary"))
