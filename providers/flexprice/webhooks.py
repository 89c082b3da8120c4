"""FlexPrice's webhooks, authenticated and read (`read_delivery`).

Facts this relies on (FlexPrice's public docs, `docs/webhook/webhooks.mdx`, and its source,
`internal/types/webhook.go`, `internal/webhook/`):

- A body is `{"event_type": "<name>", "invoice": {...}}`, the invoice as the API's
  `InvoiceResponse` when the delivery is built (the communication event carries a slimmer
  one). Only `invoice.id` is required here; `customer_id`, `payment_status` and `updated_at`
  are read when present, everything else is ignored. Events that are not `invoice.*`
  (payments, customers, wallets, ...) give no event.
- Two delivery modes. FlexPrice Cloud sends through Svix: headers `svix-id`,
  `svix-timestamp`, `svix-signature`, verified with Svix's own library against the endpoint's
  signing secret (FLEXPRICE_WEBHOOK_SECRET); the library also refuses a timestamp more than
  5 minutes away (a replay); it is `standardwebhooks`, which `svix.webhooks` wraps. Svix
  retries one message under one `svix-id`: the delivery key.
  Self-hosted FlexPrice sends natively: a plain POST with static headers from its config and
  no signature, so the static header (FLEXPRICE_WEBHOOK_HEADER) is the whole check; its
  delivery key is (`event_type`, `invoice.id`, `invoice.updated_at`), the body's SHA-256 in
  place of an `updated_at` it lacks.
- A delivery carrying any Svix (or Standard Webhooks) header is a signed one and must verify:
  it never falls back to the static header. One carrying none is native.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping, Sequence
from typing import Annotated, Final

import msgspec
from pydantic import SecretStr
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from providers.errors import WebhookMalformed, WebhookRefused
from providers.flexprice.mapping import PROVIDER
from providers.flexprice.settings import signing_key
from providers.models import InvoiceEventType, WebhookEvent
from providers.webhooks import (
    DeliveryHeaders,
    UnknownValues,
    decode,
    delivery_key,
    parse_time,
    same_secret,
    when,
)

__all__ = [
    "EVENT_TABLE",
    "PAYMENT_EVENT",
    "PAYMENT_EVENT_TABLE",
    "SVIX_HEADERS",
    "read_delivery",
]

logger = logging.getLogger(__name__)

SVIX_HEADERS: Final = ("svix-id", "svix-timestamp", "svix-signature")
#: Any of these makes a delivery a signed one (Svix may also send the Standard Webhooks names).
_SIGNED_MARKS: Final = (*SVIX_HEADERS, "webhook-id", "webhook-timestamp", "webhook-signature")
_SECRET: Final = "FLEXPRICE_WEBHOOK_SECRET"  # noqa: S105 - a variable's name
_HEADER: Final = "FLEXPRICE_WEBHOOK_HEADER"

#: FlexPrice event name -> what happened to the invoice. Another `invoice.*` name is UPDATED
#: (logged once); a name outside `invoice.*` is no invoice event.
EVENT_TABLE: Final[dict[str, InvoiceEventType]] = {
    "invoice.create.drafted": InvoiceEventType.CREATED,
    "invoice.update.finalized": InvoiceEventType.FINALIZED,
    "invoice.update.voided": InvoiceEventType.VOIDED,
    "invoice.payment.overdue": InvoiceEventType.OVERDUE,
    "invoice.update": InvoiceEventType.UPDATED,
    "invoice.communication.triggered": InvoiceEventType.UPDATED,
    "invoice.sync.success": InvoiceEventType.UPDATED,
    "invoice.sync.failed": InvoiceEventType.UPDATED,
}
#: The event whose meaning is the invoice's `payment_status`, through the table below (any
#: other payment status is UPDATED).
PAYMENT_EVENT: Final = "invoice.update.payment"
PAYMENT_EVENT_TABLE: Final[dict[str, InvoiceEventType]] = {
    "SUCCEEDED": InvoiceEventType.PAID,
    # Paid in full and more (the invoice's status is PAID, as `statuses.py` maps it): a
    # subscriber waiting for PAID must not miss an invoice that was overpaid at once.
    "OVERPAID": InvoiceEventType.PAID,
    "FAILED": InvoiceEventType.PAYMENT_FAILED,
}
_unknown = UnknownValues(logger, "flexprice invoice event")

_Text = Annotated[str, msgspec.Meta(min_length=1)]


class WebhookCustomer(msgspec.Struct, gc=False):
    id: str | None = None


class WebhookInvoice(msgspec.Struct, kw_only=True, gc=False):
    """What is read of the delivered invoice (an `InvoiceResponse`, or the slimmer one)."""

    id: _Text
    customer_id: str | None = None
    payment_status: str | None = None
    #: Kept as sent: it is part of a native delivery's key.
    updated_at: str | None = None
    customer: WebhookCustomer | None = None


class WebhookPayload(msgspec.Struct, kw_only=True, gc=False):
    """`{"event_type", <the object>}`: the object is read once the name says what it is."""

    event_type: _Text
    invoice: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)


_PAYLOAD: Final = msgspec.json.Decoder(WebhookPayload)
_INVOICE: Final = msgspec.json.Decoder(WebhookInvoice)


def _verify_signed(secret: SecretStr | None, headers: DeliveryHeaders, body: bytes) -> str:
    """The `svix-id` of a delivery whose Svix signature verifies; else `WebhookRefused`."""
    if secret is None:
        raise WebhookRefused(
            PROVIDER, f"{_SECRET} is not set: a signed (Svix) delivery cannot be verified"
        )
    message_id, timestamp, signature = (headers.one(name) for name in SVIX_HEADERS)
    if not timestamp.isascii() or not timestamp.isdigit():
        raise WebhookRefused(PROVIDER, "the svix-timestamp header is not whole seconds")
    webhook = Webhook(signing_key(secret.get_secret_value()))
    # Svix's own verifier: `svix.webhooks.Webhook.verify` renames the svix-* headers to these
    # and calls it. Imported from `standardwebhooks` because `svix` imports its whole API
    # client (httpx, ~350 ms) with it.
    standard = {
        "webhook-id": message_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": signature,
    }
    try:
        webhook.verify(body, standard, json_parse=False)
    except (WebhookVerificationError, ValueError, TypeError) as exc:
        # Releases before 1.3 raised ValueError for a signature they could not split or decode.
        raise WebhookRefused(
            PROVIDER,
            f"the Svix signature does not verify with {_SECRET}, or its timestamp is more "
            "than 5 minutes away",
        ) from exc
    return message_id


def _verify_native(
    secret: SecretStr | None, header: SecretStr | None, headers: DeliveryHeaders
) -> None:
    if header is None:
        missing = f"{_HEADER} is not set" if secret else f"neither {_SECRET} nor {_HEADER} is set"
        raise WebhookRefused(
            PROVIDER,
            f"an unsigned delivery (no svix-id, svix-timestamp, svix-signature): {missing}",
        )
    name, _, expected = header.get_secret_value().partition(": ")
    if not same_secret(headers.one(name), expected):
        raise WebhookRefused(PROVIDER, f"the {name} header is not the value of {_HEADER}")


def read_delivery(
    secret: SecretStr | None,
    header: SecretStr | None,
    headers: Mapping[str, str],
    body: bytes,
    *,
    received_at: dt.datetime,
) -> Sequence[WebhookEvent]:
    """The events of one delivery: none for an event that is not `invoice.*`, else one.

    `WebhookRefused` unless a signed delivery verifies with `secret` or an unsigned one carries
    `header` (`name: value`, as the settings keep it); always when neither is configured. Then
    `WebhookMalformed` naming the field when the body is not FlexPrice's."""
    seen = DeliveryHeaders(PROVIDER, headers)
    signed = any(seen.present(name) for name in _SIGNED_MARKS)
    if signed:
        message_id: str | None = _verify_signed(secret, seen, body)
    else:
        _verify_native(secret, header, seen)
        message_id = None
    payload = decode(_PAYLOAD, body, provider=PROVIDER)
    name = payload.event_type
    if not name.startswith("invoice."):
        return []
    if not payload.invoice or bytes(payload.invoice) == b"null":
        raise WebhookMalformed(PROVIDER, f"invoice: is required for {name}", field="invoice")
    invoice = decode(_INVOICE, bytes(payload.invoice), provider=PROVIDER, at=("invoice",))
    kind = _event_type(name, invoice)
    if message_id is None:
        updated = invoice.updated_at or hashlib.sha256(body).hexdigest()
        message_id = delivery_key(name, invoice.id, updated)
    customer = invoice.customer
    return [
        WebhookEvent(
            provider=PROVIDER,
            delivery_key=message_id,
            type=kind,
            provider_event=name,
            occurred_at=when(parse_time(invoice.updated_at), received_at=received_at),
            invoice_id=invoice.id,
            customer_id=invoice.customer_id or (customer.id if customer else None) or None,
            raw=body,
        )
    ]


def _event_type(name: str, invoice: WebhookInvoice) -> InvoiceEventType:
    if name == PAYMENT_EVENT:
        return PAYMENT_EVENT_TABLE.get(invoice.payment_status or "", InvoiceEventType.UPDATED)
    kind = EVENT_TABLE.get(name)
    if kind is None:
        kind = InvoiceEventType.UPDATED
        _unknown.report(name, mapped_to=kind)
    return kind
