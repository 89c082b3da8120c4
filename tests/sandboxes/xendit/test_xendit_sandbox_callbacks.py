"""The Xendit sandbox posts invoice callbacks with its callback token on pay, settle and
expire, and serves the hosted payment page its ``invoice_url`` links to.

The sandbox and the receiver are both served over HTTP on 127.0.0.1; the receiver is
registered through ``/_sandbox/webhooks``; the page is fetched with httpx as a browser would.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from sandboxes.kit import SandboxApp
from sandboxes.xendit import DEFAULT_API_KEY, XenditSandbox, create_sandbox_app
from sandboxes.xendit.callbacks import DEFAULT_CALLBACK_TOKEN
from tests.sandboxes.webhook_receiver import Receiver, register, served_receiver
from tests.serving import ServedApp

from .xendit_sandbox_helpers import FakeClock, find_invoice, invoice_body

REQUIRED = {
    "id": str,
    "external_id": str,
    "user_id": str,
    "status": str,
    "merchant_name": str,
    "amount": (int, float),
    "created": str,
    "updated": str,
    "currency": str,
}
ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
PAY_BUTTON = 'id="pay-button"'


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(clock: FakeClock) -> SandboxApp:
    return create_sandbox_app(seed=0, clock=clock)


@pytest.fixture
def served(app: SandboxApp) -> Iterator[ServedApp]:
    with ServedApp(app) as served:
        yield served


@pytest.fixture
async def api(served: ServedApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=served.url, auth=httpx.BasicAuth(DEFAULT_API_KEY, ""), timeout=10
    ) as http:
        yield http


@pytest.fixture
async def browser(served: ServedApp) -> AsyncIterator[httpx.AsyncClient]:
    """No credentials, as a payer's browser has none."""
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as http:
        yield http


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with served_receiver() as receiver:
        yield receiver


def _state(app: SandboxApp) -> XenditSandbox:
    state: XenditSandbox = app.state.sandbox
    return state


def _check_model(callback: dict[str, Any]) -> None:
    for name, kind in REQUIRED.items():
        assert isinstance(callback[name], kind), (name, callback.get(name))
    assert ISO_MS.fullmatch(callback["created"])
    assert ISO_MS.fullmatch(callback["updated"])


async def test_pay_settle_and_expire_post_callbacks_with_the_token_and_the_model(
    app: SandboxApp, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    registered = await register(api, receiver.url)
    assert registered["mode"] == "callback"
    assert registered["callback_token"] == DEFAULT_CALLBACK_TOKEN
    sandbox = _state(app)
    paid = find_invoice(sandbox, status="PENDING", where=lambda inv: "BCA" in inv.payment_methods)
    expired = find_invoice(sandbox, status="PENDING", where=lambda inv: inv.id != paid.id)

    pay = await api.post(f"/_sandbox/invoices/{paid.id}/pay", json={"payment_channel": "BCA"})
    assert pay.status_code == 200
    assert (await api.post(f"/_sandbox/invoices/{paid.id}/settle")).status_code == 200
    assert (await api.post(f"/invoices/{expired.id}/expire!")).status_code == 200
    # Refused changes and an idempotent repeat post nothing.
    assert (await api.post(f"/_sandbox/invoices/{paid.id}/pay")).status_code == 400
    assert (await api.post(f"/invoices/{expired.id}/expire!")).status_code == 200

    got = await receiver.wait_for(3)
    await receiver.stays_at(3)
    for delivery in got:
        assert delivery.headers["x-callback-token"] == DEFAULT_CALLBACK_TOKEN
        assert delivery.headers["content-type"] == "application/json"
        _check_model(delivery.json())
    bodies = [r.json() for r in got]
    assert [(b["id"], b["status"]) for b in bodies] == [
        (paid.id, "PAID"),
        (paid.id, "SETTLED"),
        (expired.id, "EXPIRED"),
    ]
    # The PAID callback is the invoice at the payment, though it was settled since.
    first = bodies[0]
    assert first["payment_channel"] == "BCA"
    assert first["payment_method"] == "BANK_TRANSFER"
    assert Decimal(str(first["paid_amount"])) == paid.amount == Decimal(str(first["amount"]))
    assert ISO_MS.fullmatch(first["paid_at"])
    assert first["payment_destination"]
    assert first["user_id"] == paid.user_id
    assert first["merchant_name"] == paid.merchant_name
    assert "paid_amount" not in bodies[2]


async def test_an_invoice_past_its_expiry_posts_its_expired_callback(
    app: SandboxApp, api: httpx.AsyncClient, receiver: Receiver, clock: FakeClock
) -> None:
    await register(api, receiver.url)
    created = await api.post("/v2/invoices/", json=invoice_body(invoice_duration=60.0))
    assert created.status_code == 200
    clock.advance(minutes=2)
    assert (await api.get(f"/v2/invoices/{created.json()['id']}")).json()["status"] == "EXPIRED"
    got = await receiver.wait_for(1)
    assert (got[0].json()["id"], got[0].json()["status"]) == (created.json()["id"], "EXPIRED")
    await receiver.stays_at(1)  # lapsed once, said once


async def test_a_token_given_to_the_app_is_sent_instead_of_the_published_one(
    receiver: Receiver,
) -> None:
    app = create_sandbox_app(seed=0, callback_token="my-own-callback-token")
    assert app.webhook_settings() == {"XENDIT_CALLBACK_TOKEN": "my-own-callback-token"}
    invoice = find_invoice(_state(app), status="PENDING")
    with ServedApp(app) as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=10) as control:
            registered = await register(control, receiver.url)
            assert registered["callback_token"] == "my-own-callback-token"
            assert (await control.post(f"/_sandbox/invoices/{invoice.id}/pay")).is_success
            (delivery,) = await receiver.wait_for(1)
    assert delivery.headers["x-callback-token"] == "my-own-callback-token"


@pytest.mark.parametrize("token", ["", "short", "has a space in it", "é" * 10, "x" * 257])
def test_a_token_a_header_cannot_carry_is_refused(token: str) -> None:
    with pytest.raises(ValueError, match="callback_token"):
        create_sandbox_app(callback_token=token)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://127.0.0.1/hook", "mode": "svix"}, "mode"),
        ({"url": "http://127.0.0.1/hook", "callback_token": "x"}, "callback_token"),
        ({"url": "http://127.0.0.1/hook", "retry_schedule_ms": ["1"]}, "retry_schedule_ms"),
        ({"url": "localhost:8000/hook"}, "url"),
        ({"url": "http://127.0.0.1/ho ok"}, "url"),
    ],
)
async def test_a_bad_registration_is_a_400_naming_the_field(
    api: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    answer = await api.post("/_sandbox/webhooks", json=body)
    assert answer.status_code == 400
    assert answer.json()["field"] == field


# The hosted payment page ---------------------------------------------------------------------


async def test_the_invoice_url_opens_the_page_and_its_button_pays_and_sends_the_callback(
    app: SandboxApp,
    api: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    receiver: Receiver,
    served: ServedApp,
) -> None:
    await register(api, receiver.url)
    created = (await api.post("/v2/invoices/", json=invoice_body())).json()
    assert created["invoice_url"] == f"{served.url}/web/{created['id']}"

    page = await browser.get(created["invoice_url"])
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src" not in page.headers["content-security-policy"]
    assert "default-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert PAY_BUTTON in html
    assert 'data-testid="pay-button"' in html
    assert "Invoice Gateway Sandbox" in html  # the merchant
    assert "Trip to Bali" in html
    assert "IDR 150,000" in html
    assert 'data-testid="invoice-status">PENDING<' in html
    assert '<option value="OVO">OVO</option>' in html
    assert "<script" not in html

    paid = await browser.post(created["invoice_url"], data={"payment_channel": "OVO"})
    assert paid.status_code == 303
    assert paid.headers["location"] == created["invoice_url"]
    after = await browser.get(paid.headers["location"])
    assert 'data-testid="invoice-status">PAID<' in after.text
    assert PAY_BUTTON not in after.text
    assert "OVO" in after.text

    (callback,) = await receiver.wait_for(1)
    assert callback.headers["x-callback-token"] == DEFAULT_CALLBACK_TOKEN
    body = callback.json()
    assert (body["id"], body["status"], body["payment_channel"]) == (created["id"], "PAID", "OVO")
    assert body["payment_method"] == "EWALLET"
    _check_model(body)
    api_view = (await api.get(f"/v2/invoices/{created['id']}")).json()
    assert (api_view["status"], api_view["payment_channel"]) == ("PAID", "OVO")


async def test_the_page_sends_the_payer_to_the_success_redirect_url(
    api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    body = invoice_body(success_redirect_url="https://shop.example/thanks?order=1")
    created = (await api.post("/v2/invoices/", json=body)).json()
    paid = await browser.post(created["invoice_url"], data={})
    assert paid.status_code == 303
    assert paid.headers["location"] == "https://shop.example/thanks?order=1"
    assert (await api.get(f"/v2/invoices/{created['id']}")).json()["status"] == "PAID"


async def test_a_paid_expired_or_unknown_invoice_has_no_button(
    app: SandboxApp, api: httpx.AsyncClient, browser: httpx.AsyncClient, receiver: Receiver
) -> None:
    sandbox = _state(app)
    for status in ("PAID", "SETTLED", "EXPIRED"):
        inv = find_invoice(sandbox, status=status)
        page = await browser.get(f"/web/{inv.id}")
        assert page.status_code == 200
        assert f'data-testid="invoice-status">{status}<' in page.text
        assert PAY_BUTTON not in page.text
    await register(api, receiver.url)
    paid = find_invoice(sandbox, status="PAID")
    again = await browser.post(f"/web/{paid.id}", data={"payment_channel": "BCA"})
    assert again.status_code == 409
    assert "already PAID" in again.text
    assert PAY_BUTTON not in again.text
    unknown = await browser.get("/web/ffffffffffffffffffffffff")
    assert unknown.status_code == 404
    assert "Invoice not found" in unknown.text
    assert (await browser.post("/web/ffffffffffffffffffffffff", data={})).status_code == 404
    await receiver.stays_at(0)


async def test_a_channel_the_invoice_does_not_offer_is_refused_on_the_page(
    app: SandboxApp, api: httpx.AsyncClient, browser: httpx.AsyncClient, receiver: Receiver
) -> None:
    await register(api, receiver.url)
    inv = find_invoice(_state(app), status="PENDING", currency="IDR")
    assert "GCASH" not in inv.payment_methods
    refused = await browser.post(f"/web/{inv.id}", data={"payment_channel": "GCASH"})
    assert refused.status_code == 400
    assert "does not offer GCASH" in refused.text
    assert PAY_BUTTON in refused.text  # still payable
    assert inv.status == "PENDING"
    await receiver.stays_at(0)


async def test_the_page_escapes_what_the_merchant_wrote(
    api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    body = invoice_body(description="<script>alert(1)</script>")
    created = (await api.post("/v2/invoices/", json=body)).json()
    page = await browser.get(created["invoice_url"])
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


async def test_the_invoice_url_follows_the_public_url_and_the_mount(app: SandboxApp) -> None:
    inv = find_invoice(_state(app), status="PENDING")
    mounted = Starlette(routes=[Mount("/sandbox/xendit", app=app)])
    with ServedApp(mounted) as served:
        async with httpx.AsyncClient(
            base_url=f"{served.url}/sandbox/xendit",
            auth=httpx.BasicAuth(DEFAULT_API_KEY, ""),
            timeout=10,
        ) as api:
            first = (await api.get(f"/v2/invoices/{inv.id}")).json()["invoice_url"]
            assert first == f"{served.url}/sandbox/xendit/web/{inv.id}"
            assert PAY_BUTTON in (await api.get(first)).text
            app.expose("https://gateway.example/sandbox/xendit/")
            listed = (await api.get("/v2/invoices", params={"limit": 3})).json()
            got = (await api.get(f"/v2/invoices/{inv.id}")).json()["invoice_url"]
            paid = await api.post(f"{served.url}/sandbox/xendit/web/{inv.id}", data={})
    assert got == f"https://gateway.example/sandbox/xendit/web/{inv.id}"
    assert all(
        item["invoice_url"] == f"https://gateway.example/sandbox/xendit/web/{item['id']}"
        for item in listed
    )
    assert paid.headers["location"] == got
