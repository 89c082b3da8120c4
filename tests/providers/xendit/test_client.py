"""XenditClient: the requests it makes, the wire models it returns, the errors it raises."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest

from providers.errors import (
    NotFound,
    ProviderAuthError,
    ProviderBadResponse,
    ProviderRejected,
    ProviderUnavailable,
)
from providers.transport import Response
from providers.xendit import XenditProvider, wire
from providers.xendit.client import XenditClient, parse_error

from .conftest import SECRET_KEY, FakeXendit, error, fixture, invoice, make_provider

BASIC = "Basic " + base64.b64encode(f"{SECRET_KEY}:".encode()).decode()


@pytest.fixture
def client(provider: XenditProvider) -> XenditClient:
    return provider.client


async def test_every_request_carries_basic_auth_accept_and_user_agent(
    fake: FakeXendit, client: XenditClient
) -> None:
    fake.on("GET /v2/invoices/inv_1", invoice())
    fake.on("GET /v2/invoices", [])
    await client.get_invoice("inv_1")
    await client.list_invoices({"limit": "1"})

    for request in fake.requests:
        assert request.headers["authorization"] == BASIC  # the key, then ":" and no password
        assert request.headers["accept"] == "application/json"
        assert request.headers["user-agent"].startswith("invoice-gateway/")
        assert "for-user-id" not in request.headers


async def test_for_user_id_is_sent_when_configured(fake: FakeXendit) -> None:
    provider = make_provider(fake, for_user_id="5f2a8b1c9d3e4f0012a3b4c6")
    fake.on("GET /v2/invoices/inv_1", invoice())
    try:
        await provider.client.get_invoice("inv_1")
    finally:
        await provider.aclose()
    assert fake.requests[0].headers["for-user-id"] == "5f2a8b1c9d3e4f0012a3b4c6"


async def test_the_key_is_in_no_default_header_and_no_repr(
    provider: XenditProvider, client: XenditClient
) -> None:
    headers = client.upstream.headers
    assert "authorization" not in headers
    for text in (
        repr(client),
        repr(client.upstream),
        str(client.upstream.snapshot()),
        repr(provider),
    ):
        assert SECRET_KEY not in text
    assert SECRET_KEY not in provider.describe()
    assert SECRET_KEY not in repr(provider.settings)


async def test_paths(fake: FakeXendit, client: XenditClient) -> None:
    fake.on("POST /invoices/inv_1/expire!", invoice(status="EXPIRED"))
    fake.on("GET /customers/cust-1", fixture("customer"))
    fake.on("GET /v2/invoices/a/../b c?d", invoice())

    await client.expire_invoice("inv_1")
    await client.get_customer("cust-1")
    await client.get_invoice("a/../b c?d")

    assert [r.url.raw_path for r in fake.requests] == [
        "/invoices/inv_1/expire!",  # no /v2, a literal "!"
        "/customers/cust-1",
        "/v2/invoices/a%2F..%2Fb%20c%3Fd",  # one segment, whatever it holds
    ]
    assert [r.method for r in fake.requests] == ["POST", "GET", "GET"]


@pytest.mark.parametrize("invoice_id", ["", ".", ".."])
async def test_ids_that_would_change_the_path_are_not_sent(
    fake: FakeXendit, client: XenditClient, invoice_id: str
) -> None:
    with pytest.raises(NotFound):
        await client.get_invoice(invoice_id)
    assert fake.requests == []


async def test_list_sends_arrays_as_repeated_keys(fake: FakeXendit, client: XenditClient) -> None:
    fake.on("GET /v2/invoices", [invoice(), invoice(id="inv_2")])
    result = await client.list_invoices(
        {"limit": "2", "statuses": ["PAID", "SETTLED"], "last_invoice": "inv_0"}
    )
    assert fake.calls == [
        "GET /v2/invoices?limit=2&statuses=PAID&statuses=SETTLED&last_invoice=inv_0"
    ]
    assert [item.id for item in result] == ["65f1a2b3c4d5e6f708192a3b", "inv_2"]
    assert result[0].amount == Decimal("10.1")
    assert result[1].raw["amount"] == 10.1  # raw keeps the JSON types


async def test_create_posts_to_the_trailing_slash_once(
    fake: FakeXendit, client: XenditClient
) -> None:
    fake.on("POST /v2/invoices/", Response.of(503), Response.of(200, json=invoice()))
    request = wire.CreateInvoiceRequest(external_id="gw-k", amount=Decimal("10.1"), currency="USD")
    with pytest.raises(ProviderUnavailable):
        await client.create_invoice(request)
    assert fake.calls == ["POST /v2/invoices/"]  # no blind retry: it could bill twice
    assert fake.requests[0].content == b'{"external_id":"gw-k","amount":10.1,"currency":"USD"}'


async def test_create_accepts_201(fake: FakeXendit, client: XenditClient) -> None:
    fake.on("POST /v2/invoices/", Response.of(201, json=invoice()))
    request = wire.CreateInvoiceRequest(external_id="gw-k", amount=Decimal(1), currency="USD")
    assert (await client.create_invoice(request)).status == "PAID"


async def test_reads_are_retried(fake: FakeXendit, client: XenditClient) -> None:
    fake.on("GET /v2/invoices/inv_1", Response.of(503), invoice())
    await client.get_invoice("inv_1")
    assert len(fake.requests) == 2


# -- errors -------------------------------------------------------------------------------------


async def test_invalid_api_key_is_an_auth_error(fake: FakeXendit, client: XenditClient) -> None:
    fake.on("GET /v2/invoices/inv_1", error(401, "INVALID_API_KEY", "API key is not authorized"))
    with pytest.raises(ProviderAuthError) as caught:
        await client.get_invoice("inv_1")
    assert caught.value.provider_code == "INVALID_API_KEY"
    assert SECRET_KEY not in str(caught.value)


async def test_unknown_invoice_is_not_found(fake: FakeXendit, client: XenditClient) -> None:
    with pytest.raises(NotFound) as caught:
        await client.get_invoice("inv_missing")
    assert caught.value.provider_code == "INVOICE_NOT_FOUND_ERROR"
    assert caught.value.status == 404


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (404, "DATA_NOT_FOUND"),
        (400, "END_CUSTOMER_NOT_FOUND_ERROR"),
        (400, "ENTITY_NOT_FOUND_ERROR"),
    ],
)
async def test_customer_not_found_codes(
    fake: FakeXendit, client: XenditClient, status: int, code: str
) -> None:
    fake.on("GET /customers/cust-x", error(status, code, "not found"))
    with pytest.raises(NotFound) as caught:
        await client.get_customer("cust-x")
    assert (caught.value.status, caught.value.provider_code) == (status, code)


async def test_a_400_is_rejected_with_xendits_message(
    fake: FakeXendit, client: XenditClient
) -> None:
    fake.on("POST /invoices/inv_1/expire!", error(400, "INVALID_STATUS", "Invoice is already PAID"))
    with pytest.raises(ProviderRejected) as caught:
        await client.expire_invoice("inv_1")
    assert type(caught.value) is ProviderRejected
    assert caught.value.message == "Invoice is already PAID"
    assert caught.value.provider_code == "INVALID_STATUS"


@pytest.mark.parametrize(
    "reply",
    [
        Response.of(200, text="<html>"),
        Response.of(200, json=[1, 2]),
        Response.of(200, json={"id": 5}),
    ],
)
async def test_unreadable_invoice_is_a_bad_response(
    fake: FakeXendit, client: XenditClient, reply: Response
) -> None:
    fake.on("GET /v2/invoices/inv_1", reply)
    with pytest.raises(ProviderBadResponse):
        await client.get_invoice("inv_1")


@pytest.mark.parametrize("body", [{"data": []}, [1], "x"])
async def test_a_list_that_is_not_an_array_of_invoices_is_a_bad_response(
    fake: FakeXendit, client: XenditClient, body: object
) -> None:
    fake.on("GET /v2/invoices", Response.of(200, json=body))
    with pytest.raises(ProviderBadResponse):
        await client.list_invoices({})


def test_parse_error() -> None:
    assert parse_error(error(400, "API_VALIDATION_ERROR", "bad")) == ("API_VALIDATION_ERROR", "bad")
    assert parse_error(Response.of(400, text="nope")) == (None, None)
    assert parse_error(Response.of(400, json=[])) == (None, None)
    assert parse_error(Response.of(400, json={"message": "x" * 900}))[1] == "x" * 500
