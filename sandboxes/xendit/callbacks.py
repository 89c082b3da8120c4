"""Xendit's invoice callbacks: what the sandbox posts when an invoice is paid, settled or
expired, and how.

Xendit posts an ``InvoiceCallback`` JSON object to the account's callback URL with the header
``x-callback-token``: the account's verification token, compared as is by the receiver (there
is no signature). Required fields: ``id``, ``external_id``, ``user_id``, ``status`` (a plain
string: PAID, SETTLED, EXPIRED), ``merchant_name``, ``amount`` (a number), ``created`` and
``updated`` (ISO 8601 strings), ``currency``; the payment's fields (``paid_amount``,
``paid_at``, ``payment_method``, ``payment_channel``, ``payment_destination``, ...) once paid.
The body is the invoice as it was at the event (a PAID callback says PAID even when the
invoice is settled before it goes out). Xendit counts a callback not answered 2xx within 30 s
as failed and retries it with a backoff; how often it tries is not published, so the sandbox
retries 3 times, after 10 s, 1 min and 5 min.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime

from ulid import ULID

from sandboxes.kit.webhook_routes import Options, reject_unknown, retry_schedule
from sandboxes.kit.webhooks import Deliver, Outbox, Publication, WebhookEndpoint

from .encoding import dumps
from .records import Invoice
from .serialize import JSON, timestamp
from .store import XenditSandbox

__all__ = ["DEFAULT_CALLBACK_TOKEN", "XenditCallbacks", "callback_json", "check_token", "send"]

#: The verification token every sandbox sends unless given another: published, not a secret.
DEFAULT_CALLBACK_TOKEN = "xnd_sandbox_callback_token_published"  # noqa: S105

SCHEDULE_MS = (10_000, 60_000, 300_000)
TIMEOUT_S = 30.0
_TOKEN = re.compile(r"[\x21-\x7e]{8,256}")
_OPTIONAL = ("payer_email", "description", "success_redirect_url", "failure_redirect_url")
_PAID = (
    "paid_amount",
    "paid_at",
    "payment_method",
    "payment_channel",
    "payment_destination",
    "bank_code",
    "payment_id",
)


def check_token(token: str) -> str:
    """`token` if a header can carry it (8 to 256 visible ASCII characters), else ValueError."""
    if not _TOKEN.fullmatch(token):
        raise ValueError("callback_token must be 8 to 256 visible ASCII characters")
    return token


def _plain(value: object) -> object:
    return timestamp(value) if isinstance(value, datetime) else value


def callback_json(inv: Invoice) -> JSON:
    """The ``InvoiceCallback`` of `inv` as it is now."""
    out: JSON = {
        "id": inv.id,
        "external_id": inv.external_id,
        "user_id": inv.user_id,
        "status": inv.status,
        "merchant_name": inv.merchant_name,
        "amount": inv.amount,
        "created": timestamp(inv.created),
        "updated": timestamp(inv.updated),
        "currency": inv.currency,
        "is_high": False,
    }
    for key in _OPTIONAL:
        value = getattr(inv, key)
        if value is not None:
            out[key] = value
    if inv.status in ("PAID", "SETTLED"):
        for key in _PAID:
            value = getattr(inv, key)
            if value is not None:
                out[key] = _plain(value)
        out["adjusted_received_amount"] = inv.paid_amount
    if inv.items is not None:
        out["items"] = [
            {"name": item.name, "price": item.price, "quantity": item.quantity}
            | ({"category": item.category} if item.category is not None else {})
            | ({"url": item.url} if item.url is not None else {})
            for item in inv.items
        ]
    if inv.fees is not None:
        out["fees"] = [{"type": fee.type, "value": fee.value} for fee in inv.fees]
    return out


def send(sb: XenditSandbox, invoices: Iterable[Invoice]) -> None:
    """Post the callback of each invoice's current status to every endpoint."""
    if not sb.webhooks.endpoints:
        return
    for inv in invoices:
        message_id = f"cb_{ULID.from_datetime(sb.now())}"
        body = dumps(callback_json(inv))
        sb.webhooks.publish(Publication(message_id, inv.status, inv.id, body))


class XenditCallbacks:
    """The sandbox's `sandboxes.kit.webhook_routes.WebhookSender`: one callback token."""

    def __init__(self, token: str) -> None:
        self.token = check_token(token)

    def settings(self) -> Mapping[str, str]:
        return {"XENDIT_CALLBACK_TOKEN": self.token}

    def endpoint(
        self, outbox: Outbox, url: str, options: Options, *, deliver: Deliver | None = None
    ) -> WebhookEndpoint:
        """Only ``retry_schedule_ms`` besides the URL."""
        schedule = retry_schedule(options, SCHEDULE_MS)
        reject_unknown(options)
        headers = [("content-type", "application/json"), ("x-callback-token", self.token)]
        return WebhookEndpoint(
            id=outbox.next_id("ep"),
            url=url,
            mode="callback",
            schedule_ms=schedule,
            timeout_s=TIMEOUT_S,
            headers=lambda message_id, body, at: headers,
            details={"callback_token": self.token},
            deliver=deliver,
        )
