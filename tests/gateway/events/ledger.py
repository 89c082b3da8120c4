"""`Ledger`: a provider of the tests' own that sends webhooks, for the gateway's side of events
(receiver, log, subscriptions) apart from FlexPrice's and Xendit's own readings.

Its invoices live in a dict (`invoices`), its reads are counted (`reads`), and a webhook is
`{"id": delivery, "event": "paid" | ..., "invoice": id, "customer": id?}` with the header
`x-ledger-token: <token>` (once), compared in constant time; no token configured refuses all.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Mapping, Sequence

from providers.base import Operation, ProviderBase
from providers.errors import WebhookMalformed, WebhookRefused
from providers.models import (
    Customer,
    Invoice,
    InvoiceEventType,
    InvoiceFilter,
    InvoiceStatus,
    Page,
    PageRequest,
    PaymentStatus,
    WebhookEvent,
)
from providers.webhooks import DeliveryHeaders, same_secret

NAME = "ledger"
CREATED = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
EVENTS = {
    "created": InvoiceEventType.CREATED,
    "paid": InvoiceEventType.PAID,
    "voided": InvoiceEventType.VOIDED,
}


def invoice(invoice_id: str, status: InvoiceStatus, customer: str = "cust-1") -> Invoice:
    paid = PaymentStatus.PAID if status is InvoiceStatus.PAID else PaymentStatus.UNPAID
    return Invoice(
        NAME, invoice_id, status, paid, status.value, "USD", CREATED, customer_id=customer
    )


class Ledger(ProviderBase):
    name = NAME
    capabilities = frozenset({Operation.GET_INVOICES})

    def __init__(self, token: str | None = "ledger-token-0123456789") -> None:
        self.token = token
        self.invoices: dict[str, Invoice] = {}
        self.reads: list[str] = []
        #: How long a read takes (a provider's round trip), and the most in flight at once.
        self.read_seconds = 0.0
        self.in_flight = self.most_in_flight = 0

    async def get_invoices(self, ids: Sequence[str]) -> Sequence[Invoice | None]:
        self.reads.extend(ids)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.read_seconds)
        finally:
            self.in_flight -= 1
        return [self.invoices.get(i) for i in ids]

    async def list_invoices(self, filters: InvoiceFilter, page: PageRequest) -> Page[Invoice]:
        return Page(items=[], item_cursors=[], end_cursor=None, has_next_page=False)

    async def get_customers(self, ids: Sequence[str]) -> Sequence[Customer | None]:
        return [None] * len(ids)

    async def check(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    def read_webhook(
        self, headers: Mapping[str, str], body: bytes, *, received_at: dt.datetime
    ) -> Sequence[WebhookEvent]:
        if self.token is None:
            raise WebhookRefused(NAME, "LEDGER_TOKEN is not set: every delivery is refused")
        sent = DeliveryHeaders(NAME, headers).one("x-ledger-token")
        if not same_secret(sent, self.token):
            raise WebhookRefused(NAME, "x-ledger-token does not match LEDGER_TOKEN")
        try:
            data = json.loads(body)
            kind = EVENTS[data["event"]]
            invoice_id = data["invoice"]
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookMalformed(NAME, "the body must be {id, event, invoice}") from exc
        return [
            WebhookEvent(
                provider=NAME,
                delivery_key=str(data["id"]),
                type=kind,
                provider_event=data["event"],
                occurred_at=received_at,
                invoice_id=invoice_id,
                customer_id=data.get("customer"),
                raw=body,
            )
        ]
