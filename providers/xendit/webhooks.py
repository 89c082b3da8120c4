"""Xendit's invoice callbacks, authenticated and read (`read_callback`).

Facts this relies on (Xendit's public docs, the callback pages and its Python SDK's
`InvoiceCallback` model):

- A callback is a POST of an `InvoiceCallback` JSON object with the header `x-callback-token`:
  the account's callback verification token from the dashboard. There is no signature and no
  timestamp, so the token is the whole check; it is compared in constant time.
- The model requires `id`, `external_id`, `user_id`, `status`, `merchant_name`, `amount` (a
  number), `created` and `updated` (ISO 8601 strings) and `currency`; the rest is optional,
  and real callbacks carry fields the model lacks (`is_high`, `adjusted_received_amount`,
  `fees_paid_amount`): unknown fields are ignored. The required fields are checked: the same
  token authenticates the callbacks of Xendit's other products (virtual accounts,
  disbursements), and one of those sent to this URL is refused as malformed rather than read
  as an invoice's.
- Callbacks come at least once: two deliveries of one change share the invoice `id` and
  `status` (the delivery key).
- `status` is a plain string. PAID and EXPIRED are events of their own; SETTLED comes after
  PAID (the money reached the balance), so it is UPDATED: a subscriber sees PAID once. Any
  other value is UPDATED and logged once.
- The callback names no customer by the Customer API id the gateway uses as `Customer.id`
  (`user_id` is the merchant's account), so `customer_id` is set only when the body embeds the
  invoice's `customer` object with its `id`, as `mapping.customer_id_of` reads an invoice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Final

import msgspec
from pydantic import SecretStr

from providers.errors import WebhookRefused
from providers.models import InvoiceEventType, WebhookEvent
from providers.webhooks import (
    DeliveryHeaders,
    UnknownValues,
    decode,
    delivery_key,
    same_secret,
    when,
)
from providers.xendit.fields import PROVIDER

__all__ = ["CALLBACK_EVENT_TABLE", "TOKEN_HEADER", "InvoiceCallback", "read_callback"]

logger = logging.getLogger(__name__)

TOKEN_HEADER: Final = "x-callback-token"  # noqa: S105 - a header's name, not a secret
_TOKEN_VARIABLE: Final = "XENDIT_CALLBACK_TOKEN"  # noqa: S105 - a variable's name

#: Xendit invoice `status` in a callback -> what happened; anything else is UPDATED (logged).
CALLBACK_EVENT_TABLE: Final[dict[str, InvoiceEventType]] = {
    "PAID": InvoiceEventType.PAID,
    "EXPIRED": InvoiceEventType.EXPIRED,
    # Paid already (a PAID callback came first); settlement is a later change of that invoice.
    "SETTLED": InvoiceEventType.UPDATED,
    "PENDING": InvoiceEventType.UPDATED,
}
_unknown = UnknownValues(logger, "xendit callback status")

_Text = Annotated[str, msgspec.Meta(min_length=1)]


class CallbackCustomer(msgspec.Struct, gc=False):
    id: str | None = None


class InvoiceCallback(msgspec.Struct, kw_only=True, gc=False):
    """The fields of Xendit's `InvoiceCallback` the gateway checks or reads."""

    id: _Text
    external_id: str
    user_id: str
    status: _Text
    merchant_name: str
    amount: Decimal
    created: dt.datetime
    updated: dt.datetime
    currency: str
    paid_at: dt.datetime | None = None
    customer: CallbackCustomer | None = None


_DECODER: Final = msgspec.json.Decoder(InvoiceCallback)


def _authenticate(token: SecretStr | None, headers: Mapping[str, str]) -> None:
    if token is None:
        raise WebhookRefused(
            PROVIDER, f"{_TOKEN_VARIABLE} is not set: every xendit callback is refused"
        )
    sent = DeliveryHeaders(PROVIDER, headers).one(TOKEN_HEADER)
    if not same_secret(sent, token.get_secret_value()):
        raise WebhookRefused(PROVIDER, f"the {TOKEN_HEADER} header is not {_TOKEN_VARIABLE}")


def read_callback(
    token: SecretStr | None,
    headers: Mapping[str, str],
    body: bytes,
    *,
    received_at: dt.datetime,
) -> Sequence[WebhookEvent]:
    """The one event of an invoice callback. `WebhookRefused` unless `x-callback-token` is
    `token` (always, when no token is configured); then `WebhookMalformed` naming the field
    when the body is not an `InvoiceCallback`."""
    _authenticate(token, headers)
    callback = decode(_DECODER, body, provider=PROVIDER)
    status = callback.status
    kind = CALLBACK_EVENT_TABLE.get(status)
    if kind is None:
        kind = InvoiceEventType.UPDATED
        _unknown.report(status, mapped_to=kind)
    paid_at = callback.paid_at if kind is InvoiceEventType.PAID else None
    customer = callback.customer
    return [
        WebhookEvent(
            provider=PROVIDER,
            delivery_key=delivery_key(callback.id, status),
            type=kind,
            provider_event=status,
            occurred_at=when(paid_at, callback.updated, received_at=received_at),
            invoice_id=callback.id,
            customer_id=customer.id if customer is not None and customer.id else None,
            raw=body,
        )
    ]
