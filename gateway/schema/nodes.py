"""The two node types, Invoice and Customer, which refer to each other, and `connection_of`,
the connection of invoices a client reads from a merged page.

Related objects come through the request's loaders (`customer_reads`), never through HTTP here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable

import strawberry
from strawberry.scalars import JSON

from gateway.context import GatewayContext
from gateway.ids import NodeType, encode_id
from gateway.pagination import MergedPage
from gateway.schema.connections import InvoiceConnection, InvoiceEdge, PageInfo
from gateway.schema.customer_reads import (
    asks_total,
    customer_invoice_summary,
    customer_invoices,
    invoices_key,
    summary_key,
)
from gateway.schema.enums import InvoiceStatus, PaymentStatus
from gateway.schema.filters import CustomerInvoiceFilterInput
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

__all__ = ["Customer", "Invoice", "InvoiceContent", "InvoicePreview", "connection_of"]

_INVOICE, _CUSTOMER = NodeType.INVOICE.value, NodeType.CUSTOMER.value

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
        return strawberry.ID(encode_id(_CUSTOMER, self.model.provider, self.model.id))

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
        filter: CustomerInvoiceFilterInput | None = None,
    ) -> InvoiceConnection:
        key = invoices_key(self.model.provider, self.model.id, first, after)
        early = info.context.take_early(key) if filter is None else None
        if early is not None:
            page: MergedPage = await early
        else:
            [selected] = info.selected_fields
            page = await customer_invoices(
                info,
                self.model.provider,
                self.model.id,
                first=first,
                after=after,
                filter=filter,
                count=asks_total(selected.selections),
            )
        return connection_of(page, after)

    @strawberry.field(
        description="The customer's invoice totals, one entry per currency "
        "(one upstream request per customer, however often a request asks; null with an "
        "error when the provider cannot say)."
    )
    async def invoice_summary(self, info: Info) -> list[CustomerInvoiceSummary] | None:
        early = info.context.take_early(summary_key(self.model.provider, self.model.id))
        if early is not None:
            summaries: list[CustomerInvoiceSummary] = await early
            return summaries
        return await customer_invoice_summary(info, self.model.provider, self.model.id)


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
        return strawberry.ID(encode_id(_INVOICE, self.model.provider, self.model.id))

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


def connection_of(page: MergedPage, after: str | None) -> InvoiceConnection:
    """The connection a client reads of a merged page asked for with `after`: an `Invoice` node
    per edge (its cursor written only if selected)."""
    return InvoiceConnection(
        edges=[InvoiceEdge(_edge=edge, node=Invoice(model=edge.node)) for edge in page.edges],
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=False,
            _page=page,
            _after=after,
        ),
        total_count=page.total_count,
    )
