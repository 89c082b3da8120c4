"""Queries: read invoices and customers of every enabled provider through one schema."""

from __future__ import annotations

import strawberry

from gateway.context import GatewayContext
from gateway.errors import ErrorCode, GatewayError
from gateway.ids import GlobalId, NodeType
from gateway.schema.connections import InvoiceConnection, merged_page
from gateway.schema.customer_reads import start_children_early
from gateway.schema.filters import InvoiceFilterInput, provider_filters
from gateway.schema.inputs import InvoicePreviewInput
from gateway.schema.nodes import Customer, Invoice, InvoicePreview, connection_of
from gateway.schema.types import Node, Provider
from providers.models import InvoicePreviewRequest

__all__ = ["Query"]

Info = strawberry.Info[GatewayContext, None]


async def _invoice(info: Info, gid: GlobalId, field: str) -> Invoice | None:
    info.context.provider(gid.provider, field=field)
    found = await info.context.loaders.invoices.load((gid.provider, gid.native_id))
    return None if found is None else Invoice(model=found)


async def _customer(info: Info, gid: GlobalId, field: str) -> Customer | None:
    info.context.provider(gid.provider, field=field)
    found = await info.context.loaders.customers.load((gid.provider, gid.native_id))
    return None if found is None else Customer(model=found)


@strawberry.type(description="Everything a client can read.")
class Query:
    @strawberry.field(description="Any object by its global ID; null when it does not exist.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        gid = GlobalId.decode(id, field="id")
        if gid.type is NodeType.INVOICE:
            return await _invoice(info, gid, "id")
        return await _customer(info, gid, "id")

    @strawberry.field(
        description="One invoice by its global ID; null when it does not exist. Many of these "
        "in one query cost one batched upstream request per provider."
    )
    async def invoice(self, info: Info, id: strawberry.ID) -> Invoice | None:
        return await _invoice(info, GlobalId.decode(id, field="id", expect=NodeType.INVOICE), "id")

    @strawberry.field(
        description="Invoices of every enabled provider, newest first, as a Relay connection. "
        "`first` has a default and a maximum set by the server (GATEWAY_DEFAULT_PAGE_SIZE, 20, "
        "and GATEWAY_MAX_PAGE_SIZE, 100, unless changed); `first: 0` answers only totalCount. "
        "A walk through the pages lists the invoices that existed when it began. When one "
        "provider fails, the others' invoices still come back, with an error naming the failed "
        "provider. FlexPrice's SKIPPED invoices (zero-amount subscription drafts) are never "
        "listed; `invoice(id:)` finds them."
    )
    async def invoices(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: InvoiceFilterInput | None = None,
    ) -> InvoiceConnection:
        filters = provider_filters(info.context, filter)
        page = await merged_page(info, first=first, after=after, filters=filters)
        return connection_of(page, after)

    @strawberry.field(description="One customer by its global ID; null when it does not exist.")
    async def customer(self, info: Info, id: strawberry.ID) -> Customer | None:
        gid = GlobalId.decode(id, field="id", expect=NodeType.CUSTOMER)
        info.context.provider(gid.provider, field="id")
        started = start_children_early(info, gid.provider, gid.native_id)
        try:
            found = await _customer(info, gid, "id")
        except BaseException:
            await info.context.drop_early(started)
            raise
        if found is None:
            await info.context.drop_early(started)
        return found

    @strawberry.field(
        description="Customers by global ID, in the order asked, null where one does not exist; "
        "one batched upstream request per provider."
    )
    async def customers(self, info: Info, ids: list[strawberry.ID]) -> list[Customer | None]:
        limit = info.context.settings.max_page_size
        if len(ids) > limit:
            raise GatewayError(
                ErrorCode.BAD_USER_INPUT, f"ids may hold at most {limit} IDs", field="ids"
            )
        gids = [
            GlobalId.decode(value, field=f"ids[{n}]", expect=NodeType.CUSTOMER)
            for n, value in enumerate(ids)
        ]
        for n, gid in enumerate(gids):
            info.context.provider(gid.provider, field=f"ids[{n}]")
        found = await info.context.loaders.customers.load_many(
            [(gid.provider, gid.native_id) for gid in gids]
        )
        return [None if c is None else Customer(model=c) for c in found]

    @strawberry.field(description="The enabled providers and what each can do.")
    def providers(self, info: Info) -> list[Provider]:
        sandboxes = info.context.sandboxes
        return [
            Provider(model=provider, on_sandbox=name in sandboxes)
            for name, provider in info.context.providers.items()
        ]

    @strawberry.field(
        description="The invoice a subscription would produce for a period, computed by the "
        "provider and not saved (FlexPrice)."
    )
    async def invoice_preview(self, info: Info, input: InvoicePreviewInput) -> InvoicePreview:
        provider = info.context.provider(input.provider.lower(), field="input.provider")
        if not input.subscription_id.strip():
            raise GatewayError(
                ErrorCode.BAD_USER_INPUT,
                "input.subscriptionId must not be empty",
                field="input.subscriptionId",
            )
        preview = await provider.preview_invoice(
            InvoicePreviewRequest(
                subscription_id=input.subscription_id.strip(),
                period_start=input.period_start,
                period_end=input.period_end,
            )
        )
        return InvoicePreview(model=preview)
