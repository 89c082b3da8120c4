"""FlexPrice's webhooks through `FlexPriceProvider.read_webhook`: Svix-signed deliveries
(signed here with Svix's own library), native deliveries with the static header, deny by
default, every event name of the table, delivery keys, bodies FlexPrice does not send, and the
settings' errors."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from pydantic import ValidationError
from starlette.datastructures import Headers
from svix.webhooks import Webhook

from providers.errors import WebhookMalformed, WebhookRefused
from providers.flexprice import FlexPriceProvider, FlexPriceSettings
from providers.flexprice.provider import factory
from providers.models import InvoiceEventType, WebhookEvent
from providers.transport import HandlerTransport
from tests.providers.webhook_upstream import Upstream

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OTHER_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
HEADER_VALUE = "native-hook-value-do-not-print-91"
HEADER = f"X-Flexprice-Token: {HEADER_VALUE}"
UPDATED_AT = "2026-12-05T09:58:12.123456Z"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def payload(event_type: str = "invoice.update.finalized", **invoice: Any) -> bytes:
    found: dict[str, Any] = {
        "id": "inv_01JEXAMPLE0000000000000001",
        "customer_id": "cust_01JEXAMPLE000000000000001",
        "invoice_status": "FINALIZED",
        "payment_status": "PENDING",
        "amount_due": "120.00",
        "currency": "usd",
        "updated_at": UPDATED_AT,
    }
    for name, value in invoice.items():
        if value is None:
            found.pop(name, None)
        else:
            found[name] = value
    return json.dumps({"event_type": event_type, "invoice": found}).encode()


def signed(
    body: bytes,
    *,
    secret: str = SECRET,
    message_id: str = "msg_2pYQ8N7sGJ2b3FJf1v7oXv5kQ1A",
    at: dt.datetime | None = None,
) -> dict[str, str]:
    """The Svix headers of `body`, signed as Svix signs it (its bytes as they are: svix 2
    signs bytes though its annotation says str, which a body that is not UTF-8 needs)."""
    at = at or now()
    return {
        "svix-id": message_id,
        "svix-timestamp": str(int(at.timestamp())),
        "svix-signature": Webhook(secret).sign(message_id, at, body),  # type: ignore[arg-type]
    }


@pytest.fixture
def upstream() -> Upstream:
    return Upstream()


def build(upstream: Upstream, **environ: str) -> FlexPriceProvider:
    settings = FlexPriceSettings.from_environ({"FLEXPRICE_API_KEY": "fp_test_key", **environ})
    return FlexPriceProvider(settings=settings, transport=HandlerTransport(upstream))


@pytest.fixture
def provider(upstream: Upstream) -> Iterator[FlexPriceProvider]:
    """Both modes configured."""
    yield build(upstream, FLEXPRICE_WEBHOOK_SECRET=SECRET, FLEXPRICE_WEBHOOK_HEADER=HEADER)
    assert upstream.calls == [], "reading a webhook calls nothing upstream"


def read(
    provider: FlexPriceProvider,
    body: bytes,
    headers: Mapping[str, str],
    received_at: dt.datetime | None = None,
) -> list[WebhookEvent]:
    return list(provider.read_webhook(headers, body, received_at=received_at or now()))


def refused(provider: FlexPriceProvider, body: bytes, headers: Mapping[str, str]) -> str:
    with pytest.raises(WebhookRefused) as caught:
        read(provider, body, headers)
    message = caught.value.message
    assert caught.value.provider == "flexprice"
    for secret in (SECRET, SECRET.removeprefix("whsec_"), HEADER_VALUE):
        assert secret not in message
    for value in headers.values():
        if len(value.strip()) > 8:
            assert value.strip() not in message
    return message


# -- Svix ---------------------------------------------------------------------------------------


def test_a_signed_delivery_is_read(provider: FlexPriceProvider) -> None:
    body = payload("invoice.update.payment", payment_status="SUCCEEDED")
    [event] = read(provider, body, signed(body, message_id="msg_1"))
    assert event == WebhookEvent(
        provider="flexprice",
        delivery_key="msg_1",
        type=InvoiceEventType.PAID,
        provider_event="invoice.update.payment",
        occurred_at=dt.datetime(2026, 12, 5, 9, 58, 12, 123456, tzinfo=dt.UTC),
        invoice_id="inv_01JEXAMPLE0000000000000001",
        customer_id="cust_01JEXAMPLE000000000000001",
        raw=body,
    )


def test_a_signed_delivery_is_read_with_only_the_secret(upstream: Upstream) -> None:
    provider = build(upstream, FLEXPRICE_WEBHOOK_SECRET=SECRET)
    body = payload()
    assert len(
        read(
            provider, body, Headers(raw=[(k.encode(), v.encode()) for k, v in signed(body).items()])
        )
    )


def test_retries_of_a_message_share_its_key(provider: FlexPriceProvider) -> None:
    body = payload()
    first = read(provider, body, signed(body, message_id="msg_a"))
    retry = read(
        provider, body, signed(body, message_id="msg_a", at=now() - dt.timedelta(seconds=90))
    )
    other = read(provider, body, signed(body, message_id="msg_b"))
    assert first[0].delivery_key == retry[0].delivery_key == "msg_a"
    assert other[0].delivery_key == "msg_b"


def test_a_rotated_secret_verifies_with_either_signature(provider: FlexPriceProvider) -> None:
    body = payload()
    headers = signed(body)
    old = signed(body, secret=OTHER_SECRET)["svix-signature"]
    headers["svix-signature"] = f"{old} {headers['svix-signature']}"
    assert len(read(provider, body, headers)) == 1


def _tampered(headers: dict[str, str], **changes: str | None) -> dict[str, str]:
    changed = dict(headers)
    for name, value in changes.items():
        name = name.replace("_", "-")
        if value is None:
            changed.pop(name)
        else:
            changed[name] = value
    return changed


BODY = payload()


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda: (BODY, signed(BODY, secret=OTHER_SECRET)), "does not verify"),
        (lambda: (BODY.replace(b"120.00", b"1.00"), signed(BODY)), "does not verify"),
        (lambda: (BODY + b" ", signed(BODY)), "does not verify"),
        (lambda: (BODY, _tampered(signed(BODY), svix_id="msg_other")), "does not verify"),
        (
            lambda: (BODY, signed(BODY, at=now() - dt.timedelta(minutes=6))),
            "more than 5 minutes",
        ),
        (
            lambda: (BODY, signed(BODY, at=now() + dt.timedelta(minutes=6))),
            "more than 5 minutes",
        ),
        (lambda: (BODY, _tampered(signed(BODY), svix_id=None)), "svix-id header is missing"),
        (
            lambda: (BODY, _tampered(signed(BODY), svix_timestamp=None)),
            "svix-timestamp header is missing",
        ),
        (
            lambda: (BODY, _tampered(signed(BODY), svix_signature=None)),
            "svix-signature header is missing",
        ),
        (
            lambda: (BODY, _tampered(signed(BODY), svix_signature="")),
            "svix-signature header is empty",
        ),
        (lambda: (BODY, _tampered(signed(BODY), svix_signature="v1")), "does not verify"),
        (lambda: (BODY, _tampered(signed(BODY), svix_signature="v1,!!!")), "does not verify"),
        (lambda: (BODY, _tampered(signed(BODY), svix_signature="v1,a,b")), "does not verify"),
        (
            lambda: (BODY, _tampered(signed(BODY), svix_timestamp="1e10")),
            "not whole seconds",
        ),
        (
            lambda: (BODY, _tampered(signed(BODY), svix_timestamp=f" {int(now().timestamp())}.9")),
            "not whole seconds",
        ),
        # Standard Webhooks names alone are not what FlexPrice Cloud sends.
        (
            lambda: (BODY, {k.replace("svix-", "webhook-"): v for k, v in signed(BODY).items()}),
            "svix-id header is missing",
        ),
        # A signed delivery never falls back to the static header.
        (
            lambda: (
                BODY,
                {**signed(BODY, secret=OTHER_SECRET), "x-flexprice-token": HEADER_VALUE},
            ),
            "does not verify",
        ),
        (
            lambda: (BODY, {"svix-id": "msg_1", "x-flexprice-token": HEADER_VALUE}),
            "svix-timestamp header is missing",
        ),
        (
            lambda: (BODY, {"webhook-signature": "v1,x", "x-flexprice-token": HEADER_VALUE}),
            "svix-id header is missing",
        ),
        (
            lambda: (
                BODY,
                Headers(
                    raw=[
                        *((k.encode(), v.encode()) for k, v in signed(BODY).items()),
                        (b"svix-id", b"msg_other"),
                    ]
                ),
            ),
            "svix-id header is given more than once",
        ),
        (
            lambda: (BODY, {**signed(BODY), "SVIX-SIGNATURE": signed(BODY)["svix-signature"]}),
            "svix-signature header is given more than once",
        ),
    ],
    ids=[
        "wrong-secret",
        "tampered-body",
        "body-with-a-space-more",
        "other-message-id",
        "old-timestamp",
        "future-timestamp",
        "no-svix-id",
        "no-svix-timestamp",
        "no-svix-signature",
        "empty-signature",
        "signature-without-value",
        "signature-not-base64",
        "signature-three-parts",
        "timestamp-exponent",
        "timestamp-fraction",
        "standard-webhooks-names",
        "bad-signature-with-static-header",
        "partial-svix-with-static-header",
        "webhook-header-with-static-header",
        "repeated-svix-id",
        "two-spellings-of-signature",
    ],
)
def test_a_signed_delivery_that_does_not_verify_is_refused(
    provider: FlexPriceProvider, make: Any, says: str
) -> None:
    body, headers = make()
    assert says in refused(provider, body, headers)


def test_without_a_secret_a_signed_delivery_is_refused(upstream: Upstream) -> None:
    provider = build(upstream, FLEXPRICE_WEBHOOK_HEADER=HEADER)
    headers = {**signed(BODY), "x-flexprice-token": HEADER_VALUE}
    assert "FLEXPRICE_WEBHOOK_SECRET is not set" in refused(provider, BODY, headers)


# -- native -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"x-flexprice-token": HEADER_VALUE},
        {"X-FlexPrice-Token": HEADER_VALUE},
        {"x-flexprice-token": f" {HEADER_VALUE} "},
        Headers(raw=[(b"X-Flexprice-Token", HEADER_VALUE.encode())]),
    ],
    ids=["lower", "mixed-case", "surrounding-space", "starlette"],
)
def test_a_native_delivery_with_the_header_is_read(
    provider: FlexPriceProvider, headers: Mapping[str, str]
) -> None:
    [event] = read(provider, BODY, headers)
    assert event.type == InvoiceEventType.FINALIZED
    assert event.invoice_id == "inv_01JEXAMPLE0000000000000001"


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        ({}, "x-flexprice-token header is missing"),
        ({"x-flexprice-token": ""}, "x-flexprice-token header is empty"),
        (
            {"x-flexprice-token": "wrong-value-0123456789"},
            "not the value of FLEXPRICE_WEBHOOK_HEADER",
        ),
        ({"x-flexprice-token": HEADER_VALUE[:-1]}, "not the value"),
        ({"x-flexprice-token": HEADER_VALUE + "0"}, "not the value"),
        ({"x-flexprice-token": "välue-nön-åscii-0123"}, "not the value"),
        ({"x-other-token": HEADER_VALUE}, "x-flexprice-token header is missing"),
        (
            {"x-flexprice-token": HEADER_VALUE, "X-Flexprice-Token": "other-value-0123"},
            "more than once",
        ),
        (
            Headers(
                raw=[
                    (b"x-flexprice-token", b"other-value-0123"),
                    (b"x-flexprice-token", HEADER_VALUE.encode()),
                ]
            ),
            "more than once",
        ),
    ],
    ids=[
        "missing",
        "empty",
        "wrong",
        "prefix",
        "longer",
        "non-ascii",
        "other-name",
        "dict-duplicate",
        "repeated",
    ],
)
def test_a_native_delivery_without_the_header_is_refused(
    provider: FlexPriceProvider, headers: Mapping[str, str], says: str
) -> None:
    assert says in refused(provider, b"not json", headers)


def test_with_only_a_secret_a_native_delivery_is_refused(upstream: Upstream) -> None:
    provider = build(upstream, FLEXPRICE_WEBHOOK_SECRET=SECRET)
    message = refused(provider, BODY, {"x-flexprice-token": HEADER_VALUE})
    assert "FLEXPRICE_WEBHOOK_HEADER is not set" in message


@pytest.mark.parametrize(
    "environ",
    [{}, {"FLEXPRICE_WEBHOOK_SECRET": "", "FLEXPRICE_WEBHOOK_HEADER": ""}],
    ids=["unset", "empty"],
)
def test_with_nothing_configured_every_delivery_is_refused(
    upstream: Upstream, environ: dict[str, str]
) -> None:
    provider = build(upstream, **environ)
    assert "FLEXPRICE_WEBHOOK_SECRET is not set" in refused(provider, BODY, signed(BODY))
    for headers in ({}, {"x-flexprice-token": HEADER_VALUE}, {"authorization": "Bearer x"}):
        message = refused(provider, BODY, headers)
        assert "neither FLEXPRICE_WEBHOOK_SECRET nor FLEXPRICE_WEBHOOK_HEADER is set" in message
    assert upstream.calls == []


def test_native_keys_are_equal_across_retries_and_differ_across_events(
    provider: FlexPriceProvider,
) -> None:
    headers = {"x-flexprice-token": HEADER_VALUE}
    first = read(provider, payload(), headers)[0].delivery_key
    retry = read(provider, payload(), headers)[0].delivery_key
    later = read(provider, payload(updated_at="2026-12-05T10:00:00Z"), headers)[0].delivery_key
    voided = read(provider, payload("invoice.update.voided"), headers)[0].delivery_key
    other = read(provider, payload(id="inv_other"), headers)[0].delivery_key
    assert first == retry
    assert len({first, later, voided, other}) == 4
    assert json.loads(first) == [
        "invoice.update.finalized",
        "inv_01JEXAMPLE0000000000000001",
        UPDATED_AT,
    ]


def test_a_native_delivery_without_updated_at_is_keyed_by_its_body(
    provider: FlexPriceProvider,
) -> None:
    headers = {"x-flexprice-token": HEADER_VALUE}
    slim = payload("invoice.communication.triggered", updated_at=None)
    first = read(provider, slim, headers)[0].delivery_key
    assert read(provider, slim, headers)[0].delivery_key == first
    changed = payload("invoice.communication.triggered", updated_at=None, amount_due="1")
    assert read(provider, changed, headers)[0].delivery_key != first


# -- what an event says -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "payment_status", "expected"),
    [
        ("invoice.create.drafted", "PENDING", InvoiceEventType.CREATED),
        ("invoice.update.finalized", "PENDING", InvoiceEventType.FINALIZED),
        ("invoice.update.payment", "SUCCEEDED", InvoiceEventType.PAID),
        ("invoice.update.payment", "OVERPAID", InvoiceEventType.PAID),
        ("invoice.update.payment", "FAILED", InvoiceEventType.PAYMENT_FAILED),
        ("invoice.update.payment", "PROCESSING", InvoiceEventType.UPDATED),
        ("invoice.update.payment", "REFUNDED", InvoiceEventType.UPDATED),
        ("invoice.update.payment", None, InvoiceEventType.UPDATED),
        ("invoice.update.voided", "PENDING", InvoiceEventType.VOIDED),
        ("invoice.payment.overdue", "PENDING", InvoiceEventType.OVERDUE),
        ("invoice.update", "PENDING", InvoiceEventType.UPDATED),
        ("invoice.communication.triggered", "PENDING", InvoiceEventType.UPDATED),
        ("invoice.sync.success", "PENDING", InvoiceEventType.UPDATED),
        ("invoice.something.new", "SUCCEEDED", InvoiceEventType.UPDATED),
    ],
)
def test_event_table(
    provider: FlexPriceProvider,
    event_type: str,
    payment_status: str | None,
    expected: InvoiceEventType,
) -> None:
    body = payload(event_type, payment_status=payment_status)
    [event] = read(provider, body, signed(body))
    assert event.type == expected
    assert event.provider_event == event_type


def test_an_unknown_invoice_event_is_logged_once(
    provider: FlexPriceProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="providers.flexprice.webhooks")
    body = payload("invoice.update.reticulated")
    for _ in range(3):
        read(provider, body, signed(body))
    assert len([r for r in caplog.records if "invoice.update.reticulated" in r.getMessage()]) == 1


@pytest.mark.parametrize(
    "body",
    [
        b'{"event_type": "payment.success", "payment": {"id": "pay_1"}}',
        b'{"event_type": "customer.created", "customer": {"id": "cust_1"}}',
        b'{"event_type": "wallet.credit_balance.dropped", "wallet": {}}',
        b'{"event_type": "invoices.update", "invoice": {"id": "inv_1"}}',
        b'{"event_type": "invoice", "invoice": {"id": "inv_1"}}',
    ],
    ids=["payment", "customer", "wallet", "invoices-prefix", "bare-invoice"],
)
def test_an_event_about_something_else_gives_no_event(
    provider: FlexPriceProvider, body: bytes
) -> None:
    assert read(provider, body, signed(body)) == []
    # ... still only when it is authentic
    refused(provider, body, signed(body, secret=OTHER_SECRET))


def test_the_slim_communication_invoice_is_read(provider: FlexPriceProvider) -> None:
    body = b'{"event_type": "invoice.communication.triggered", "invoice": {"id": "inv_9"}}'
    received = dt.datetime(2026, 12, 5, 10, 1, tzinfo=dt.UTC)
    [event] = read(provider, body, signed(body), received_at=received)
    assert (event.invoice_id, event.customer_id, event.occurred_at) == ("inv_9", None, received)


def test_occurred_at_falls_back_to_the_delivery(provider: FlexPriceProvider) -> None:
    received = dt.datetime(2026, 12, 5, 10, 1, tzinfo=dt.UTC)
    body = payload(updated_at="not a time")
    [event] = read(provider, body, signed(body), received_at=received)
    assert event.occurred_at == received
    body = payload(updated_at="2026-12-05T11:00:00+02:00")
    [event] = read(provider, body, signed(body), received_at=received)
    assert event.occurred_at == dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)


def test_the_customer_comes_from_the_invoice(provider: FlexPriceProvider) -> None:
    body = payload(customer_id=None, customer={"id": "cust_embedded", "name": "A"})
    assert read(provider, body, signed(body))[0].customer_id == "cust_embedded"
    body = payload(customer_id=None)
    assert read(provider, body, signed(body))[0].customer_id is None


# -- bodies FlexPrice does not send -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        (b"", "body", "must be JSON"),
        (b"<xml/>", "body", "must be JSON"),
        (b'{"event_type": "invoice.update", "invoice": {"id": "\xff"}}', "invoice", "UTF-8"),
        (b"[1]", "body", "must be an object"),
        (b'{"invoice": {"id": "inv_1"}}', "event_type", "is required"),
        (b'{"event_type": 5, "invoice": {"id": "inv_1"}}', "event_type", "must be a string"),
        (b'{"event_type": "invoice.update"}', "invoice", "is required"),
        (b'{"event_type": "invoice.update", "invoice": null}', "invoice", "is required"),
        (b'{"event_type": "invoice.update", "invoice": []}', "invoice", "must be an object"),
        (b'{"event_type": "invoice.update", "invoice": {}}', "invoice.id", "is required"),
        (payload(id=None), "invoice.id", "is required"),
        (payload(id=42), "invoice.id", "must be a string"),
        (payload(id=""), "invoice.id", "must not be empty"),
        (payload(id={"x": 1}), "invoice.id", "must be a string"),
        (payload(customer_id=7), "invoice.customer_id", "must be a string"),
        (payload(updated_at=5), "invoice.updated_at", "must be a string"),
        (
            b'{"event_type": "invoice.update", "invoice": {"id": "i", "x": '
            + b"[" * 50_000
            + b"]" * 50_000
            + b"}}",
            "body",  # the envelope's read finds it, before the invoice's
            "nested too deeply",
        ),
        (
            b'{"event_type": "x", "y": ' + b'{"a":' * 50_000 + b"1" + b"}" * 50_001,
            "body",
            "nested too deeply",
        ),
    ],
    ids=[
        "empty",
        "xml",
        "not-utf8",
        "array",
        "no-event-type",
        "event-type-number",
        "no-invoice",
        "null-invoice",
        "invoice-array",
        "empty-invoice",
        "no-id",
        "id-number",
        "id-empty",
        "id-object",
        "customer-id-number",
        "updated-at-number",
        "deep-invoice",
        "deep-body",
    ],
)
def test_a_verified_body_flexprice_does_not_send_is_malformed(
    provider: FlexPriceProvider, body: bytes, field: str, rule: str
) -> None:
    with pytest.raises(WebhookMalformed) as caught:
        read(provider, body, signed(body))
    assert caught.value.field == field
    assert caught.value.message.startswith(f"{field}: ")
    assert rule in caught.value.message
    with pytest.raises(WebhookMalformed):  # the same rules for a native delivery
        read(provider, body, {"x-flexprice-token": HEADER_VALUE})


def test_a_large_body_is_read(provider: FlexPriceProvider) -> None:
    lines = [{"id": f"li_{n}", "amount": "1.00", "display_name": "x" * 80} for n in range(40_000)]
    body = payload(line_items=lines)
    assert len(body) > 4_000_000
    [event] = read(provider, body, signed(body))
    assert event.invoice_id == "inv_01JEXAMPLE0000000000000001"


# -- the settings -------------------------------------------------------------------------------


def test_the_factory_reads_both_settings() -> None:
    provider = factory(
        {
            "FLEXPRICE_API_KEY": "fp_test_key",
            "FLEXPRICE_WEBHOOK_SECRET": SECRET,
            "FLEXPRICE_WEBHOOK_HEADER": HEADER,
        }
    )
    assert len(read(provider, BODY, signed(BODY)))
    assert len(read(provider, BODY, {"x-flexprice-token": HEADER_VALUE}))


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("whsec_", "must be whsec_ followed by base64"),
        ("whsec_!!!!notbase64!!!!!!!!!!!!!!!!!!", "must be whsec_ followed by base64"),
        ("whsec_c2hvcnQ=", "at least 16 bytes"),
        ("whsec_Mf KQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "printable ASCII without whitespace"),
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw===", "must be whsec_ followed by base64"),
    ],
    ids=["prefix-only", "not-base64", "short", "space", "over-padded"],
)
def test_a_secret_svix_cannot_use_is_a_settings_error(value: str, rule: str) -> None:
    with pytest.raises(ValidationError) as caught:
        FlexPriceSettings.from_environ({"FLEXPRICE_WEBHOOK_SECRET": value})
    problems = FlexPriceSettings.problems(caught.value)
    assert "FLEXPRICE_WEBHOOK_SECRET" in problems
    assert rule in problems
    secret = value.removeprefix("whsec_")
    assert not secret or secret not in problems
    assert not secret or secret not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("just-a-long-secret-value-without-name", "must be `Name: value`"),
        (": a-long-secret-value-0123456789", "must be `Name: value`"),
        ("Bad Name: a-long-secret-value-0123456789", "must be `Name: value`"),
        ("X-Token:", "printable ASCII"),
        ("X-Token: välue-nön-åscii-0123456789", "printable ASCII"),
        ("X-Token: short-secret", "at least 16 characters"),
        ("Content-Type: application/json; charset=utf-8", "a header of its own"),
        ("HOST: gateway.example.com.invalid", "a header of its own"),
        ("svix-signature: v1,a-long-secret-value-01234", "a header of its own"),
        ("Webhook-Id: a-long-secret-value-0123456789", "a header of its own"),
    ],
)
def test_a_malformed_static_header_is_a_settings_error(value: str, rule: str) -> None:
    with pytest.raises(ValidationError) as caught:
        FlexPriceSettings.from_environ({"FLEXPRICE_WEBHOOK_HEADER": value})
    problems = FlexPriceSettings.problems(caught.value)
    assert "FLEXPRICE_WEBHOOK_HEADER" in problems
    assert rule in problems
    secret = value.partition(":")[2].strip()
    assert not secret or secret not in problems
    assert not secret or secret not in str(caught.value)


def test_the_settings_are_cleaned_and_never_shown() -> None:
    settings = FlexPriceSettings.from_environ(
        {"FLEXPRICE_WEBHOOK_SECRET": f" {SECRET}\n", "FLEXPRICE_WEBHOOK_HEADER": f" {HEADER} \n"}
    )
    assert settings.webhook_secret is not None
    assert settings.webhook_header is not None
    assert settings.webhook_secret.get_secret_value() == SECRET
    assert settings.webhook_header.get_secret_value() == f"x-flexprice-token: {HEADER_VALUE}"
    for shown in (repr(settings), str(settings.model_dump())):
        assert SECRET.removeprefix("whsec_") not in shown
        assert HEADER_VALUE not in shown
