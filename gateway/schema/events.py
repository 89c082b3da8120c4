"""`Subscription.invoiceEvents`: providers' invoice events as they arrive, from any gateway
process that received them (`gateway.events`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import nullcontext

import msgspec
import strawberry
from strawberry.scalars import JSON

from gateway.context import GatewayContext
from gateway.errors import ErrorCode, GatewayError
from gateway.events import EventLogUnavailable, Events, RecordedEvent
from gateway.events.log import EventsForgotten
from gateway.events.records import decode_cursor, position_key
from gateway.ids import GlobalId, NodeType
from gateway.schema.nodes import Invoice
from providers.models import InvoiceEventType

__all__ = ["InvoiceEvent", "InvoiceEventFilter", "Subscription"]

Info = strawberry.Info[GatewayContext, None]

strawberry.enum(
    InvoiceEventType,
    description="What happened to an invoice, the same for every provider. CREATED, FINALIZED, "
    "PAID, PAYMENT_FAILED, VOIDED, EXPIRED, OVERDUE; UPDATED for any other change (see "
    "InvoiceEvent.providerEvent for the provider's own name).",
)


@strawberry.type(
    description="Something a provider said happened to one of its invoices (a webhook). The "
    "webhook is a hint: `invoice` is read again from the provider when asked for."
)
class InvoiceEvent:
    record: strawberry.Private[RecordedEvent]
    events: strawberry.Private[Events]

    @strawberry.field(
        description="This event's id, opaque and ordered: pass the last one you received as "
        "`invoiceEvents(after:)` to resume where you left off."
    )
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.record.cursor)

    @strawberry.field(description="What happened.")
    def type(self) -> InvoiceEventType:
        return self.record.type

    @strawberry.field(description="The provider's own name for it (invoice.update.payment, PAID).")
    def provider_event(self) -> str:
        return self.record.provider_event

    @strawberry.field(description="When it happened, as the provider says (UTC).")
    def occurred_at(self) -> dt.datetime:
        return self.record.occurred_at

    @strawberry.field(description="When this gateway received the provider's webhook (UTC).")
    def received_at(self) -> dt.datetime:
        return self.record.received_at

    @strawberry.field(description="The provider that sent it.")
    def provider(self) -> str:
        return self.record.provider

    @strawberry.field(description="The global ID of the invoice (no upstream call).")
    def invoice_id(self) -> strawberry.ID:
        return strawberry.ID(self.record.invoice_gid)

    @strawberry.field(
        description="The invoice as the provider has it now, read once per event and gateway "
        "process whoever asks; null when it no longer exists."
    )
    async def invoice(self, info: Info) -> Invoice | None:
        # An event another process recorded may be of a provider not enabled in this one.
        info.context.provider(self.record.provider, field="invoice")
        found = await self.events.invoice(self.record)
        return None if found is None else Invoice(model=found)

    @strawberry.field(description="The webhook's body, as the provider sent it.")
    def raw(self) -> JSON:
        try:
            return JSON(msgspec.json.decode(self.record.raw))
        except msgspec.DecodeError:
            return JSON(self.record.raw.decode("utf-8", "replace"))


@strawberry.input(
    description="Which events to receive: each field given narrows them (none: every event)."
)
class InvoiceEventFilter:
    provider: list[str] | None = strawberry.field(
        default=None, description="Only these providers' events."
    )
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only events about this customer's invoices (a global ID)."
    )
    type: list[InvoiceEventType] | None = strawberry.field(
        default=None, description="Only these kinds of event."
    )


Match = Callable[[RecordedEvent], Awaitable[bool]]


def _matcher(info: Info, events: Events, chosen: InvoiceEventFilter | None) -> Match:
    """The filter as a test of one event; refuses (naming the field) a provider that is not
    enabled or an id that is not a customer's, before anything is read."""
    providers: frozenset[str] | None = None
    types: frozenset[InvoiceEventType] | None = None
    customer: GlobalId | None = None
    if chosen is not None:
        for name, given in (("provider", chosen.provider), ("type", chosen.type)):
            if given is not None and not given:
                raise GatewayError(
                    ErrorCode.BAD_USER_INPUT,
                    f"filter.{name} is empty, so no event would match: leave it out for all",
                    field=f"filter.{name}",
                )
        if chosen.provider is not None:
            for name in chosen.provider:
                info.context.provider(name, field="filter.provider")
            providers = frozenset(chosen.provider)
        if chosen.type is not None:
            types = frozenset(chosen.type)
        if chosen.customer_id is not None:
            customer = GlobalId.decode(
                chosen.customer_id, field="filter.customerId", expect=NodeType.CUSTOMER
            )
            info.context.provider(customer.provider, field="filter.customerId")

    async def matches(record: RecordedEvent) -> bool:
        if providers is not None and record.provider not in providers:
            return False
        if types is not None and record.type not in types:
            return False
        if customer is None:
            return True
        if record.provider != customer.provider:
            return False
        customer_id = record.customer_id
        if customer_id is None and record.provider not in events.providers:
            return False  # not enabled in this process: nothing here can tell
        if customer_id is None:  # the webhook does not say: the invoice does
            invoice = await events.invoice(record)
            customer_id = None if invoice is None else invoice.customer_id
        return customer_id == customer.native_id

    return matches


async def _start(info: Info, after: strawberry.ID | None) -> tuple[Events, str | None]:
    """The events and the position to start after; refuses (naming `after`) a cursor that is
    not ours, past the newest event, or followed by events no longer kept. Raises
    `EventLogUnavailable`."""
    events = info.context.events
    if events is None:
        raise GatewayError(ErrorCode.NOT_FOUND, "This gateway keeps no events")
    if after is None:
        return events, None
    position = decode_cursor(after, field="after")
    if position_key(position) > position_key(await events.log.last_position()):
        raise GatewayError(
            ErrorCode.BAD_USER_INPUT,
            "after names no event this gateway recorded: pass the id of an InvoiceEvent you "
            "received",
            field="after",
        )
    if await events.log.forgot(position):
        raise GatewayError(
            ErrorCode.EVENT_CURSOR_EXPIRED,
            "after names an event older than the events this gateway keeps "
            "(GATEWAY_EVENT_RETENTION): some that followed it are gone. Subscribe without "
            "after, and read the invoices you need again",
            field="after",
        )
    return events, position


def _selects(info: Info, name: str) -> bool:
    """Whether the subscription's selection asks for the field `name` of its events (through
    fragments too)."""
    pending = list(info.selected_fields)
    while pending:
        field = pending.pop()
        for child in field.selections:
            if getattr(child, "name", None) == name:
                return True
        pending.extend(child for child in field.selections if hasattr(child, "selections"))
    return False


@strawberry.type(description="What a client can subscribe to.")
class Subscription:
    @strawberry.subscription(
        description="Invoice events from every enabled provider, in the order this gateway "
        "recorded them, each once. With `after` (an InvoiceEvent.id) it first sends every "
        "event after that one that is still kept (GATEWAY_EVENT_RETENTION), then new ones. A "
        "subscription ends with an error when the provider behind a field fails or the event "
        "log cannot be read: resume it with `after`. Heartbeats keep it open."
    )
    async def invoice_events(
        self,
        info: Info,
        filter: InvoiceEventFilter | None = None,
        after: strawberry.ID | None = None,
    ) -> AsyncGenerator[InvoiceEvent, None]:
        # The log failing anywhere, at the start or later, ends the subscription one way.
        try:
            events, position = await _start(info, after)
            matches = _matcher(info, events, filter)
            caller = info.context.caller.name if info.context.caller is not None else ""
            reading = events.reading_invoices() if _selects(info, "invoice") else nullcontext()
            with events.slot(caller), reading:
                async for record in events.feed.subscribe(position):
                    if await matches(record):
                        yield InvoiceEvent(record=record, events=events)
        except EventLogUnavailable as exc:
            raise GatewayError(
                ErrorCode.EVENT_LOG_UNAVAILABLE,
                "The event log cannot be read: subscribe again later with after",
            ) from exc
        except EventsForgotten as exc:
            raise GatewayError(
                ErrorCode.EVENT_CURSOR_EXPIRED,
                "This subscription fell further behind than the events this gateway keeps: "
                "subscribe again without after, and read the invoices you need again",
            ) from exc
