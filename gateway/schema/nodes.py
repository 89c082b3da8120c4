"""The two node types, Invoice and Customer, which refer to each other.

Related objects come through the request's loaders, never through HTTP here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Coroutine, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types.nodes import SelectedField, Selection

from gateway.context import GatewayContext
from gateway.ids import GlobalId, NodeType
from gateway.loaders import shielded
from gateway.schema.enums import InvoiceStatus, PaymentStatus
from gateway.schema.money import Money
from gateway.schema.types import (
    Address,
    CustomerInvoiceSummary,
    LineItem,
    MetadataEntry,
    Node,
    metadata_entries,
)
from providers import models
from providers.base import Operation

if TYPE_CHECKING:
    from gateway.schema.connections import CustomerInvoiceFilterInput, InvoiceConnection

__all__ = ["Customer", "Invoice", "InvoiceContent", "InvoicePreview", "start_children_early"]

Info = strawberry.Info[GatewayContext, None]


@strawberry.type(
    description="A customer of one provider. Reached through a Xendit invoice, `name` and "
    "`email` are the copy embedded in the invoice (free); any other field reads the full "
    "customer (one batched look-up)."
)
class Customer(Node):
    model: strawberry.Private[models.Customer]

    @strawberry.field(description="The global ID of the customer.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(
            GlobalId(NodeType.CUSTOMER, self.model.provider, self.model.id).encode()
        )

    @strawberry.field(description="The provider the customer lives in, e.g. flexprice.")
    def provider(self) -> str:
        return self.model.provider

    @strawberry.field(description="The provider's own id of the customer.")
    def provider_id(self) -> str:
        return self.model.id

    async def _full(self, info: Info) -> models.Customer:
        # A copy embedded in an invoice (Xendit) lacks some fields: read the full record,
        # batched with every other customer of the request, only when one of those is asked for.
        if self.model.complete:
            return self.model
        found = await info.context.loaders.customers.load((self.model.provider, self.model.id))
        return found or self.model

    @strawberry.field(description="Your id of the customer, as stored at the provider.")
    async def external_id(self, info: Info) -> str | None:
        return (await self._full(info)).external_id

    @strawberry.field(description="The customer's name.")
    def name(self) -> str | None:
        return self.model.name

    @strawberry.field(description="The customer's email address.")
    def email(self) -> str | None:
        return self.model.email

    @strawberry.field(description="The customer's billing address, if the provider has one.")
    async def address(self, info: Info) -> Address | None:
        a = (await self._full(info)).address
        if a is None:
            return None
        return Address(
            line1=a.line1,
            line2=a.line2,
            city=a.city,
            state=a.state,
            postal_code=a.postal_code,
            country=a.country,
        )

    @strawberry.field(description="The customer's metadata, sorted by key.")
    async def metadata(self, info: Info) -> list[MetadataEntry]:
        return metadata_entries((await self._full(info)).metadata)

    @strawberry.field(description="When the customer was created at the provider.")
    async def created_at(self, info: Info) -> dt.datetime | None:
        return (await self._full(info)).created_at

    @strawberry.field(description="The provider's JSON for this customer, unchanged.")
    async def raw(self, info: Info) -> JSON:
        return JSON((await self._full(info)).raw)

    @strawberry.field(
        description="The customer's invoices, newest first, as a Relay connection (see "
        "Query.invoices for paging); `filter` narrows them further. The first pages of many "
        "customers in one request are read together where the provider can (FlexPrice: one "
        "search)."
    )
    async def invoices(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: Annotated[CustomerInvoiceFilterInput, strawberry.lazy("gateway.schema.connections")]
        | None = None,
    ) -> Annotated[InvoiceConnection, strawberry.lazy("gateway.schema.connections")]:
        key = _invoices_key(self.model.provider, self.model.id, first, after)
        early = info.context.take_early(key) if filter is None else None
        if early is not None:
            connection: InvoiceConnection = await early
            return connection
        [selected] = info.selected_fields
        return await customer_invoices(
            info,
            self.model.provider,
            self.model.id,
            first=first,
            after=after,
            filter=filter,
            count=asks_total(selected.selections),
        )

    @strawberry.field(
        description="The customer's invoice totals, one entry per currency "
        "(one upstream request per customer, however often a request asks; null with an "
        "error when the provider cannot say)."
    )
    async def invoice_summary(self, info: Info) -> list[CustomerInvoiceSummary] | None:
        early = info.context.take_early(_summary_key(self.model.provider, self.model.id))
        if early is not None:
            summaries: list[CustomerInvoiceSummary] = await early
            return summaries
        return await customer_invoice_summary(info, self.model.provider, self.model.id)


def _invoices_key(
    provider: str, customer_id: str, first: int | None, after: str | None
) -> tuple[object, ...]:
    return ("Customer.invoices", provider, customer_id, first, after)


def _summary_key(provider: str, customer_id: str) -> tuple[object, ...]:
    return ("Customer.invoiceSummary", provider, customer_id)


def asks_total(selections: Sequence[Selection]) -> bool:
    """Whether a connection's selection asks for `totalCount`, fragments included."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == "totalCount":
                return True
        elif asks_total(selection.selections):
            return True
    return False


async def customer_invoices(
    info: Info,
    provider: str,
    customer_id: str,
    *,
    first: int | None,
    after: str | None,
    filter: CustomerInvoiceFilterInput | None,
    count: bool = True,
) -> InvoiceConnection:
    """A first page comes through the request's `first_pages` loader, batched with the other
    customers' (`count`: whether its totalCount is wanted); a later page is the customer's own
    listing."""
    from gateway.schema.connections import invoice_connection, provider_filters

    ctx = info.context
    ctx.provider(provider, field="invoices")
    everywhere = provider_filters(ctx, filter.for_all_providers() if filter else None)
    mine = everywhere[provider].model_copy(update={"customer_ids": (customer_id,)})

    async def first_page(size: int) -> models.Page[models.Invoice]:
        key = (provider, customer_id, size, everywhere[provider], count)
        # Shielded: dropping early work must not cancel the loader's cached answer, which
        # another field of the request may share.
        return await shielded(ctx.loaders.first_pages.load(key))

    return await invoice_connection(
        info, first=first, after=after, filters={provider: mine}, first_page=first_page
    )


async def customer_invoice_summary(
    info: Info, provider: str, customer_id: str
) -> list[CustomerInvoiceSummary]:
    """Read once per customer in a request, however many times it is asked for."""
    ctx = info.context
    ctx.provider(provider, field="invoiceSummary")
    # Shielded, as first pages are.
    summaries = await shielded(ctx.loaders.summaries.load((provider, customer_id))) or ()
    return [CustomerInvoiceSummary(model=s, locale=ctx.settings.locale) for s in summaries]


def _literal_int(value: object) -> object:
    # A literal argument comes as its source text (`first: 20` is "20"), a variable as a value.
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return value
    return value


def start_children_early(info: Info, provider: str, customer_id: str) -> list[tuple[object, ...]]:
    """Start the `invoices` and `invoiceSummary` this `customer(id:)` selects before the
    customer itself is read: both need only its id, so the page costs one round trip, not
    two. Only plain selections are started (no alias twice, no directive, no `filter`, no
    fragment); anything else resolves as usual, after the customer."""
    [selected] = info.selected_fields
    fields = [child for child in selected.selections if isinstance(child, SelectedField)]
    started: list[tuple[object, ...]] = []
    if len(fields) != len(selected.selections):
        return started
    names = [child.name for child in fields]
    for child in fields:
        if child.directives or names.count(child.name) != 1:
            continue
        if child.name == "invoiceSummary":
            work: Coroutine[Any, Any, Any] = customer_invoice_summary(info, provider, customer_id)
            started.append(_summary_key(provider, customer_id))
            info.context.start_early(started[-1], work)
        elif child.name == "invoices" and set(child.arguments) <= {"first", "after"}:
            first, after = _literal_int(child.arguments.get("first")), child.arguments.get("after")
            if isinstance(first, int | None) and isinstance(after, str | None):
                work = customer_invoices(
                    info,
                    provider,
                    customer_id,
                    first=first,
                    after=after,
                    filter=None,
                    count=asks_total(child.selections),
                )
                started.append(_invoices_key(provider, customer_id, first, after))
                info.context.start_early(started[-1], work)
    return started


@strawberry.interface(
    description="What an invoice says, saved or not: its provider, currency, amounts, lines and "
    "customer. Implemented by Invoice and InvoicePreview, so one fragment serves both."
)
class InvoiceContent:
    model: strawberry.Private[models.Invoice]

    def _money(self, info: Info, money: models.Money | None) -> Money | None:
        return Money.of(money, info.context.settings.locale)

    @strawberry.field(description="The provider the invoice lives in, e.g. flexprice.")
    def provider(self) -> str:
        return self.model.provider

    @strawberry.field(description="ISO 4217 currency code of every amount on the invoice.")
    def currency(self) -> str:
        return self.model.currency

    @strawberry.field(description="Sum of the lines before tax and discounts.")
    def subtotal(self, info: Info) -> Money | None:
        return self._money(info, self.model.subtotal)

    @strawberry.field(description="Total after tax, discounts and credits.")
    def total(self, info: Info) -> Money | None:
        return self._money(info, self.model.total)

    @strawberry.field(description="What the customer owes in all.")
    def amount_due(self, info: Info) -> Money | None:
        return self._money(info, self.model.amount_due)

    @strawberry.field(description="Total tax, where the provider reports it.")
    def tax(self, info: Info) -> Money | None:
        return self._money(info, self.model.tax)

    @strawberry.field(description="Total discount, where the provider reports it.")
    def discount(self, info: Info) -> Money | None:
        return self._money(info, self.model.discount)

    @strawberry.field(description="The invoice's lines, in the provider's order.")
    def line_items(self, info: Info) -> list[LineItem]:
        locale = info.context.settings.locale
        return [LineItem(model=line, locale=locale) for line in self.model.line_items]

    @strawberry.field(description="A description or memo on the invoice.")
    def description(self) -> str | None:
        return self.model.description

    @strawberry.field(
        description="The customer billed, batched with every other customer in the request "
        "(free when the provider embedded it in the invoice).",
        graphql_type=Customer | None,
    )
    def customer(self, info: Info) -> Customer | Awaitable[Customer | None] | None:
        # Sync when the provider embedded the customer (a plain field: see gateway.schema.plan),
        # awaitable when it has to be read.
        if self.model.customer is not None:
            return Customer(model=self.model.customer)
        if self.model.customer_id is None:
            return None
        return _customer_of(
            info.context.loaders.customers.load((self.model.provider, self.model.customer_id))
        )

    @strawberry.field(description="The provider's JSON for this invoice, unchanged.")
    def raw(self) -> JSON:
        return JSON(self.model.raw)


async def _customer_of(found: Awaitable[models.Customer | None]) -> Customer | None:
    customer = await found
    return None if customer is None else Customer(model=customer)


@strawberry.type(description="An invoice of one provider, in the gateway's one data model.")
class Invoice(Node, InvoiceContent):
    @strawberry.field(description="The global ID of the invoice.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(
            GlobalId(NodeType.INVOICE, self.model.provider, self.model.id).encode()
        )

    @strawberry.field(description="The provider's own id of the invoice.")
    def provider_id(self) -> str:
        return self.model.id

    @strawberry.field(description="The invoice number shown to the customer; null on drafts.")
    def number(self) -> str | None:
        return self.model.number

    @strawberry.field(description="Where the invoice is in its life, the same for every provider.")
    def status(self) -> InvoiceStatus:
        return self.model.status

    @strawberry.field(description="Where the invoice's money is, the same for every provider.")
    def payment_status(self) -> PaymentStatus:
        return self.model.payment_status

    @strawberry.field(
        description="The provider's own status, unchanged (FlexPrice: "
        "`invoice_status/payment_status`, e.g. FINALIZED/PENDING)."
    )
    def provider_status(self) -> str:
        return self.model.provider_status

    @strawberry.field(description="What the customer has paid so far.")
    def amount_paid(self, info: Info) -> Money | None:
        return self._money(info, self.model.amount_paid)

    @strawberry.field(description="What remains to be paid.")
    def amount_remaining(self, info: Info) -> Money | None:
        return self._money(info, self.model.amount_remaining)

    @strawberry.field(description="When the invoice was created at the provider.")
    def created_at(self) -> dt.datetime:
        return self.model.created_at

    @strawberry.field(description="When the invoice was issued.")
    def issued_at(self) -> dt.datetime | None:
        return self.model.issued_at

    @strawberry.field(description="When payment is due.")
    def due_at(self) -> dt.datetime | None:
        return self.model.due_at

    @strawberry.field(description="When the invoice was paid in full.")
    def paid_at(self) -> dt.datetime | None:
        return self.model.paid_at

    @strawberry.field(description="When the invoice was voided.")
    def voided_at(self) -> dt.datetime | None:
        return self.model.voided_at

    @strawberry.field(description="When the invoice was finalized (stopped being a draft).")
    def finalized_at(self) -> dt.datetime | None:
        return self.model.finalized_at

    @strawberry.field(
        description="A URL of the invoice as a PDF document; null where the provider has no "
        "PDFs (Xendit: see paymentUrl). Costs one upstream request per invoice unless the "
        "provider stored a URL (at most 8 at once per request); the URL may expire (ask again)."
    )
    async def pdf_url(self, info: Info) -> str | None:
        if self.model.pdf_url:
            return self.model.pdf_url
        provider = info.context.provider(self.model.provider, field="pdfUrl")
        if Operation.INVOICE_PDF not in provider.capabilities:
            return None  # e.g. Xendit: no PDF, only the payment page at paymentUrl
        return await info.context.loaders.pdf_urls.load((self.model.provider, self.model.id))

    @strawberry.field(
        description="Where the customer can pay online, when the provider has a page."
    )
    def payment_url(self) -> str | None:
        return self.model.payment_url

    @strawberry.field(description="The invoice's metadata, sorted by key.")
    def metadata(self) -> list[MetadataEntry]:
        return metadata_entries(self.model.metadata)


@strawberry.type(
    description="An invoice a provider would issue, computed and not saved: it has no ID, "
    "number or status history, and nothing refers to it later."
)
class InvoicePreview(InvoiceContent):
    pass
