"""FlexPrice's webhooks: the events the API's changes fire, and how they are delivered.

The body is ``{"event_type": "<name>", "invoice": {...}}``, the invoice as
``GET /v1/invoices/{id}`` shows it when the delivery is first attempted (FlexPrice's builder
re-reads the invoice when it sends, so a receiver sees the state at delivery, not at the event;
a retry sends the same body again). Names (``internal/types/webhook.go``):
``invoice.create.drafted`` (a draft created), ``invoice.update.finalized`` (finalized, also by
the create of a one-off invoice), ``invoice.update.payment`` (a payment status update or
attempt), ``invoice.update.voided``, ``invoice.update`` (an update, a recompute),
``invoice.communication.triggered`` (``POST /invoices/{id}/comms/trigger``).

Two delivery modes, per endpoint:

- ``svix`` (the default; what FlexPrice Cloud uses): Svix signs every attempt with the
  ``svix-id`` (``msg_<ULID>``, one per event, the same on every retry and endpoint),
  ``svix-timestamp`` (the attempt's time, by the sandbox's clock, in Unix seconds) and
  ``svix-signature`` (``v1,<base64 HMAC-SHA256>`` of ``id.timestamp.body`` with the sandbox's
  ``whsec_`` secret), made by ``standardwebhooks``, the library ``svix.webhooks.Webhook``
  signs and verifies with (importing ``svix`` itself would load its API client's httpx into
  the gateway). Svix retries after 5 min, 30 min, 2 h, 5 h and 10 h; the sandbox keeps
  the five retries but takes seconds for minutes and minutes for hours (5 s, 30 s, 2 min,
  5 min, 10 min), so a user sees the end of it. Svix gives an endpoint 15 s to answer.
- ``native`` (a self-hosted FlexPrice): a plain POST with the static headers of its
  configuration and no signature; 3 retries with exponential backoff from 1 s, doubling, at
  most 10 s apart (1 s, 2 s, 4 s; its 2-minute cap on the whole never binds here), 10 s to
  answer each (the sandbox's choice: the configuration does not say).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import datetime

import msgspec
from standardwebhooks.webhooks import Webhook
from ulid import ULID

from sandboxes.kit.webhook_routes import InvalidWebhook, Options, reject_unknown, retry_schedule
from sandboxes.kit.webhooks import Deliver, Headers, Outbox, Publication, WebhookEndpoint

from .records import Invoice
from .serialize import JSON, invoice_json
from .store import EVENTS_KEPT, FlexPriceSandbox

__all__ = [
    "DEFAULT_WEBHOOK_SECRET",
    "FlexPriceWebhooks",
    "check_secret",
    "emit",
    "full_invoice",
]

#: The signing secret every sandbox uses unless given another: published, not a secret.
DEFAULT_WEBHOOK_SECRET = "whsec_aW52b2ljZS1nYXRld2F5IGZsZXhwcmljZSBzYW5kYm94"  # noqa: S105

SVIX_SCHEDULE_MS = (5_000, 30_000, 120_000, 300_000, 600_000)
SVIX_TIMEOUT_S = 15.0
NATIVE_SCHEDULE_MS = (1_000, 2_000, 4_000)
NATIVE_TIMEOUT_S = 10.0
MAX_HEADERS = 20
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")
_VALUE = re.compile(r"[\x20-\x7e]{0,1024}")
#: Set by the sandbox on every delivery; a static header may not replace them.
_RESERVED = frozenset(("content-type", "content-length", "host", "transfer-encoding"))
_JSON = ("content-type", "application/json")
_USER_AGENT = ("user-agent", "Svix-Webhooks/1.0 (invoice-gateway flexprice sandbox)")


def full_invoice(sb: FlexPriceSandbox, inv: Invoice) -> JSON:
    """The invoice as ``GET /invoices/{id}`` shows it: lines, customer and subscription."""
    return invoice_json(
        inv,
        customer=sb.customers.get(inv.customer_id),
        subscription=sb.subscriptions.get(inv.subscription_id or ""),
    )


def emit(sb: FlexPriceSandbox, event: str, inv: Invoice) -> None:
    """Fire `event` about `inv`: noted in ``sb.events`` and sent to every endpoint."""
    sb.events.append((event, inv.id))
    if len(sb.events) > EVENTS_KEPT:
        del sb.events[: len(sb.events) - EVENTS_KEPT]
    if not sb.webhooks.endpoints:
        return
    invoice_id = inv.id

    def body() -> bytes:
        current = sb.invoices[invoice_id]
        return msgspec.json.encode({"event_type": event, "invoice": full_invoice(sb, current)})

    message_id = f"msg_{ULID.from_datetime(sb.now())}"
    sb.webhooks.publish(Publication(message_id, event, invoice_id, body))


def check_secret(secret: str) -> str:
    """`secret` if it is a Svix signing secret (``whsec_`` and base64), else ValueError."""
    encoded = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not secret.startswith("whsec_") or len(key) < 16:
        raise ValueError(
            "webhook_secret must be a Svix signing secret: whsec_ and the base64 of at least "
            "16 bytes"
        )
    return secret


def _svix_headers(secret: str) -> Headers:
    signer = Webhook(secret)

    def headers(message_id: str, body: bytes, at: datetime) -> list[tuple[str, str]]:
        return [
            _JSON,
            _USER_AGENT,
            ("svix-id", message_id),
            ("svix-timestamp", str(int(at.timestamp()))),
            ("svix-signature", signer.sign(message_id, at, body.decode())),
        ]

    return headers


def _static_headers(value: object) -> list[tuple[str, str]]:
    if value is None:
        return []
    rule = (
        f"headers must be an object of at most {MAX_HEADERS} header names (HTTP tokens) to "
        "printable ASCII values"
    )
    if not isinstance(value, dict) or len(value) > MAX_HEADERS:
        raise InvalidWebhook("headers", rule)
    out = []
    for name, text in value.items():
        if not _TOKEN.fullmatch(name) or not isinstance(text, str) or not _VALUE.fullmatch(text):
            raise InvalidWebhook(f"headers.{name}"[:80], rule)
        if name.lower() in _RESERVED:
            raise InvalidWebhook(f"headers.{name}", f"headers may not set {name}")
        out.append((name, text))
    return out


class FlexPriceWebhooks:
    """The sandbox's `sandboxes.kit.webhook_routes.WebhookSender`: one signing secret."""

    def __init__(self, secret: str) -> None:
        self.secret = check_secret(secret)

    def settings(self) -> Mapping[str, str]:
        return {"FLEXPRICE_WEBHOOK_SECRET": self.secret}

    def endpoint(
        self, outbox: Outbox, url: str, options: Options, *, deliver: Deliver | None = None
    ) -> WebhookEndpoint:
        """``mode`` ``svix`` (default) or ``native`` (with ``headers``), ``retry_schedule_ms``."""
        mode = options.pop("mode", None) or "svix"
        if mode not in ("svix", "native"):
            raise InvalidWebhook("mode", 'mode must be "svix" or "native"')
        if mode == "svix":
            if options.get("headers") is not None:
                raise InvalidWebhook("headers", 'headers are for mode "native" only')
            options.pop("headers", None)
            schedule = retry_schedule(options, SVIX_SCHEDULE_MS)
            reject_unknown(options)
            return WebhookEndpoint(
                id=outbox.next_id("ep"),
                url=url,
                mode=mode,
                schedule_ms=schedule,
                timeout_s=SVIX_TIMEOUT_S,
                headers=_svix_headers(self.secret),
                details={"secret": self.secret},
                deliver=deliver,
            )
        static = _static_headers(options.pop("headers", None))
        schedule = retry_schedule(options, NATIVE_SCHEDULE_MS)
        reject_unknown(options)
        return WebhookEndpoint(
            id=outbox.next_id("ep"),
            url=url,
            mode=mode,
            schedule_ms=schedule,
            timeout_s=NATIVE_TIMEOUT_S,
            headers=lambda message_id, body, at: [_JSON, *static],
            details={"headers": dict(static)},
            deliver=deliver,
        )
