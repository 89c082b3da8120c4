"""Xendit's invoice callbacks through `XenditProvider.read_webhook`: the token, deny by default,
every spelling of the header, the documented sample, the status table, delivery keys, bodies
that are not callbacks, and the setting's errors."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from pydantic import ValidationError
from starlette.datastructures import Headers

from providers.errors import WebhookMalformed, WebhookRefused
from providers.models import InvoiceEventType, WebhookEvent
from providers.transport import HandlerTransport
from providers.xendit import XenditProvider, XenditSettings
from providers.xendit.provider import factory
from tests.providers.webhook_upstream import Upstream

TOKEN = "xnd-callback-token-do-not-print-7c1f"
RECEIVED = dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.UTC)

#: The InvoiceCallback sample of Xendit's SDK docs, byte for byte as documented.
SAMPLE = (
    b'{"id":"593f4ed1c3d3bb7f39733d83","external_id":"testing-invoice",'
    b'"user_id":"5848fdf860053555135587e7","payment_method":"RETAIL_OUTLET","status":"PAID",'
    b'"merchant_name":"Xendit","amount":2000000,"paid_amount":2000000,'
    b'"paid_at":"2020-01-14T02:32:50.912Z","payer_email":"test@xendit.co",'
    b'"description":"Invoice webhook test","created":"2020-01-13T02:32:49.827Z",'
    b'"updated":"2020-01-13T02:32:50.912Z","currency":"IDR","payment_channel":"ALFAMART",'
    b'"payment_destination":"TEST815"}'
)


def callback(**changes: Any) -> bytes:
    """The sample with fields changed (None removes one)."""
    body = json.loads(SAMPLE)
    for name, value in changes.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return json.dumps(body).encode()


@pytest.fixture
def upstream() -> Upstream:
    return Upstream()


def build(upstream: Upstream, **environ: str) -> XenditProvider:
    settings = XenditSettings.from_environ({"XENDIT_SECRET_KEY": "xnd_test_key", **environ})
    return XenditProvider(settings=settings, transport=HandlerTransport(upstream))


@pytest.fixture
def provider(upstream: Upstream) -> Iterator[XenditProvider]:
    yield build(upstream, XENDIT_CALLBACK_TOKEN=TOKEN)
    assert upstream.calls == [], "reading a webhook calls nothing upstream"


def read(
    provider: XenditProvider, body: bytes = SAMPLE, headers: Mapping[str, str] | None = None
) -> list[WebhookEvent]:
    sent = {"x-callback-token": TOKEN} if headers is None else headers
    return list(provider.read_webhook(sent, body, received_at=RECEIVED))


# -- the documented sample ----------------------------------------------------------------------


def test_the_documented_sample_is_paid_when_it_was_paid(provider: XenditProvider) -> None:
    [event] = read(provider)
    assert event == WebhookEvent(
        provider="xendit",
        delivery_key='["593f4ed1c3d3bb7f39733d83","PAID"]',
        type=InvoiceEventType.PAID,
        provider_event="PAID",
        occurred_at=dt.datetime(2020, 1, 14, 2, 32, 50, 912000, tzinfo=dt.UTC),
        invoice_id="593f4ed1c3d3bb7f39733d83",
        customer_id=None,  # user_id is the merchant's account, not a customer
        raw=SAMPLE,
    )
    assert event.raw is SAMPLE


def test_fields_only_real_callbacks_carry_are_ignored(provider: XenditProvider) -> None:
    body = callback(is_high=False, adjusted_received_amount=1995000, fees_paid_amount=5000)
    [event] = read(provider, body)
    assert event.type == InvoiceEventType.PAID


def test_a_paid_callback_without_paid_at_occurred_when_updated(provider: XenditProvider) -> None:
    [event] = read(provider, callback(paid_at=None))
    assert event.occurred_at == dt.datetime(2020, 1, 13, 2, 32, 50, 912000, tzinfo=dt.UTC)


def test_the_customer_is_named_only_by_an_embedded_customer_id(provider: XenditProvider) -> None:
    customer = "cust-3f1c9a4e-0000-4000-8000-000000000001"
    [event] = read(provider, callback(customer={"id": customer, "email": "a@example.com"}))
    assert event.customer_id == customer
    [event] = read(provider, callback(customer={"email": "a@example.com"}))
    assert event.customer_id is None


# -- statuses -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("PAID", InvoiceEventType.PAID),
        ("EXPIRED", InvoiceEventType.EXPIRED),
        ("SETTLED", InvoiceEventType.UPDATED),
        ("PENDING", InvoiceEventType.UPDATED),
        ("REFUNDED_SOMEDAY", InvoiceEventType.UPDATED),
    ],
)
def test_status_table(provider: XenditProvider, status: str, expected: InvoiceEventType) -> None:
    [event] = read(provider, callback(status=status))
    assert event.type == expected
    assert event.provider_event == status
    if status != "PAID":  # paid_at is when it was paid, not when this happened
        assert event.occurred_at == dt.datetime(2020, 1, 13, 2, 32, 50, 912000, tzinfo=dt.UTC)


def test_an_unknown_status_is_logged_once(
    provider: XenditProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="providers.xendit.webhooks")
    for _ in range(3):
        read(provider, callback(status="PARTIALLY_SETTLED_XYZ"))
    lines = [r for r in caplog.records if "PARTIALLY_SETTLED_XYZ" in r.getMessage()]
    assert len(lines) == 1


# -- delivery keys ------------------------------------------------------------------------------


def test_retries_share_a_key_and_changes_do_not(provider: XenditProvider) -> None:
    [first] = read(provider)
    [retry] = read(provider)
    [settled] = read(provider, callback(status="SETTLED", updated="2020-01-15T00:00:00Z"))
    [other] = read(provider, callback(id="593f4ed1c3d3bb7f39733d84"))
    assert first.delivery_key == retry.delivery_key
    assert len({first.delivery_key, settled.delivery_key, other.delivery_key}) == 3


def test_a_key_cannot_be_forged_by_moving_the_separator(provider: XenditProvider) -> None:
    [one] = read(provider, callback(id="a:b", status="c"))
    [two] = read(provider, callback(id="a", status="b:c"))
    assert one.delivery_key != two.delivery_key


# -- the token ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Callback-Token": TOKEN},
        {"X-CALLBACK-TOKEN": TOKEN},
        {"x-callback-token": f"  {TOKEN} "},
        Headers(raw=[(b"x-callback-token", TOKEN.encode())]),
    ],
    ids=["title-case", "upper-case", "surrounding-space", "starlette"],
)
def test_the_token_is_accepted_however_the_name_is_spelled(
    provider: XenditProvider, headers: Mapping[str, str]
) -> None:
    assert len(read(provider, headers=headers)) == 1


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        ({}, "x-callback-token header is missing"),
        ({"x-callback-token": ""}, "x-callback-token header is empty"),
        ({"x-callback-token": "wrong-token-0123"}, "is not XENDIT_CALLBACK_TOKEN"),
        ({"x-callback-token": TOKEN[:-1]}, "is not XENDIT_CALLBACK_TOKEN"),
        ({"x-callback-token": TOKEN + "x"}, "is not XENDIT_CALLBACK_TOKEN"),
        ({"x-callback-token": f"{TOKEN}, {TOKEN}"}, "is not XENDIT_CALLBACK_TOKEN"),
        ({"x-callback-token": "tökén-ñøt-åscii"}, "is not XENDIT_CALLBACK_TOKEN"),
        ({"x-callback-token-x": TOKEN}, "x-callback-token header is missing"),
        ({"x-callback-token": TOKEN, "X-Callback-Token": "other"}, "more than once"),
        ({"x-callback-token": "other", "X-Callback-Token": TOKEN}, "more than once"),
        (
            Headers(raw=[(b"x-callback-token", TOKEN.encode()), (b"x-callback-token", b"w")]),
            "more than once",
        ),
        (
            Headers(raw=[(b"x-callback-token", b"w"), (b"x-callback-token", TOKEN.encode())]),
            "more than once",
        ),
        # Only ASCII names fold: the Kelvin sign lower-cases to "k" but is not our header.
        ({"x-callbac\u212a-token": TOKEN}, "x-callback-token header is missing"),
    ],
    ids=[
        "missing",
        "empty",
        "wrong",
        "prefix",
        "longer",
        "joined-duplicates",
        "non-ascii",
        "other-name",
        "dict-duplicate-right-first",
        "dict-duplicate-right-last",
        "repeated-right-first",
        "repeated-right-last",
        "unicode-folding",
    ],
)
def test_a_callback_without_the_token_is_refused(
    provider: XenditProvider, headers: Mapping[str, str], says: str
) -> None:
    # A body that is not a callback: authentication is decided first.
    with pytest.raises(WebhookRefused) as caught:
        read(provider, b"not json", headers=headers)
    assert says in caught.value.message
    assert caught.value.provider == "xendit"
    assert TOKEN not in caught.value.message
    for value in headers.values():
        if value.strip():
            assert value.strip() not in caught.value.message


@pytest.mark.parametrize("environ", [{}, {"XENDIT_CALLBACK_TOKEN": ""}], ids=["unset", "empty"])
def test_without_a_token_every_callback_is_refused(
    upstream: Upstream, environ: dict[str, str]
) -> None:
    provider = build(upstream, **environ)
    for headers in ({}, {"x-callback-token": ""}, {"x-callback-token": TOKEN}):
        with pytest.raises(WebhookRefused) as caught:
            read(provider, headers=headers)
        assert "XENDIT_CALLBACK_TOKEN is not set" in caught.value.message
    assert upstream.calls == []


def test_the_factory_reads_the_token(upstream: Upstream) -> None:
    provider = factory({"XENDIT_SECRET_KEY": "xnd_test_key", "XENDIT_CALLBACK_TOKEN": TOKEN})
    assert len(provider.read_webhook({"x-callback-token": TOKEN}, SAMPLE, received_at=RECEIVED))


# -- bodies that are not invoice callbacks ------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        (b"", "body", "must be JSON"),
        (b"not json", "body", "must be JSON"),
        (b"\xff\xfe{}", "body", "must be"),
        (b"[]", "body", "must be an object"),
        (callback(id=None), "id", "is required"),
        (callback(id=593), "id", "must be a string"),
        (callback(id=""), "id", "must not be empty"),
        (callback(status=None), "status", "is required"),
        (callback(status=1), "status", "must be a string"),
        (callback(updated="yesterday"), "updated", "ISO 8601"),
        (callback(paid_at="soon"), "paid_at", "ISO 8601"),
        (callback(amount="lots"), "amount", "must be"),
        (callback(customer=[1]), "customer", "must be an object"),
        # A disbursement callback (same token, other product): no merchant_name or currency.
        (
            json.dumps(
                {
                    "id": "57e214ba82b034c325e84d6e",
                    "user_id": "57c5aa7a36e3b6a709b6e148",
                    "external_id": "disb-1",
                    "amount": 150000,
                    "bank_code": "BCA",
                    "status": "COMPLETED",
                }
            ).encode(),
            "merchant_name",
            "is required",
        ),
        (b'{"x":' + b"[" * 50_000 + b"]" * 50_000 + b"}", "body", "nested too deeply"),
    ],
    ids=[
        "empty",
        "not-json",
        "not-utf8",
        "array",
        "no-id",
        "id-number",
        "id-empty",
        "no-status",
        "status-number",
        "updated-not-time",
        "paid-at-not-time",
        "amount-not-number",
        "customer-array",
        "disbursement",
        "deeply-nested",
    ],
)
def test_a_body_that_is_not_a_callback_is_malformed(
    provider: XenditProvider, body: bytes, field: str, rule: str
) -> None:
    with pytest.raises(WebhookMalformed) as caught:
        read(provider, body)
    assert caught.value.field == field
    assert caught.value.message.startswith(f"{field}: ")
    assert rule in caught.value.message


def test_a_large_body_is_read(provider: XenditProvider) -> None:
    body = callback(items=[{"name": "x" * 100, "price": 1, "quantity": 1}] * 40_000)
    assert len(body) > 4_000_000
    [event] = read(provider, body)
    assert event.type == InvoiceEventType.PAID


# -- the setting --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["two words-secret", "tab\tsecret", "tökén"])
def test_a_token_a_header_cannot_carry_is_a_settings_error(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        XenditSettings.from_environ({"XENDIT_CALLBACK_TOKEN": value})
    problems = XenditSettings.problems(caught.value)
    assert "XENDIT_CALLBACK_TOKEN" in problems
    assert value not in problems
    assert value not in str(caught.value)


def test_the_token_is_never_shown() -> None:
    settings = XenditSettings.from_environ({"XENDIT_CALLBACK_TOKEN": f"  {TOKEN}\n"})
    assert settings.callback_token is not None
    assert settings.callback_token.get_secret_value() == TOKEN
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings.model_dump())
