"""The object types clients read besides the nodes: line items, addresses, summaries, providers.

Each type wraps a domain object (`model`, private) and exposes it field by field.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import strawberry

from gateway.context import GatewayContext
from gateway.schema.enums import Capability
from gateway.schema.money import Money
from providers import models
from providers.base import InvoiceProvider

__all__ = [
    "Address",
    "CustomerInvoiceSummary",
    "LineItem",
    "MetadataEntry",
    "Node",
    "Provider",
    "metadata_entries",
]

if TYPE_CHECKING:
    pass

Info = strawberry.Info[GatewayContext, None]


@strawberry.type(description="One key and value of a record's metadata.")
class MetadataEntry:
    key: str = strawberry.field(description="The metadata key.")
    value: str = strawberry.field(description="The value stored under the key.")


def metadata_entries(metadata: dict[str, str]) -> list[MetadataEntry]:
    return [MetadataEntry(key=k, value=v) for k, v in sorted(metadata.items())]


@strawberry.interface(description="An object with a global ID, fetchable with `node(id:)`.")
class Node:
    @strawberry.field(description="The global ID: opaque, stable, unique across providers.")
    def id(self) -> strawberry.ID:
        raise NotImplementedError


@strawberry.type(description="A postal address.")
class Address:
    line1: str | None = strawberry.field(description="First line: street and number.")
    line2: str | None = strawberry.field(description="Second line: suite, floor, building.")
    city: str | None = strawberry.field(description="City or locality.")
    state: str | None = strawberry.field(description="State, province or region.")
    postal_code: str | None = strawberry.field(description="Postal or ZIP code.")
    country: str | None = strawberry.field(description="ISO 3166-1 alpha-2 country code.")


@strawberry.type(description="One line of an invoice.")
class LineItem:
    model: strawberry.Private[models.LineItem]
    locale: strawberry.Private[str]

    @strawberry.field(description="The provider's id of the line, when it has one.")
    def provider_id(self) -> str | None:
        return self.model.id

    @strawberry.field(description="What the line is for.")
    def description(self) -> str | None:
        return self.model.description

    @strawberry.field(description="How many units, exact.")
    def quantity(self) -> Decimal:
        return self.model.quantity

    @strawberry.field(description="The price of one unit, when the provider states or implies it.")
    def unit_amount(self) -> Money | None:
        return Money.of(self.model.unit_amount, self.locale)

    @strawberry.field(description="The line's amount (quantity times unit amount).")
    def amount(self) -> Money:
        money = Money.of(self.model.amount, self.locale)
        assert money is not None
        return money

    @strawberry.field(description="Start of the period the line bills for, if any.")
    def period_start(self) -> dt.datetime | None:
        return self.model.period_start

    @strawberry.field(description="End of the period the line bills for, if any.")
    def period_end(self) -> dt.datetime | None:
        return self.model.period_end

    @strawberry.field(description="The line's metadata, sorted by key.")
    def metadata(self) -> list[MetadataEntry]:
        return metadata_entries(self.model.metadata)


@strawberry.type(description="A provider this gateway serves, and what it can do.")
class Provider:
    model: strawberry.Private[InvoiceProvider]
    on_sandbox: strawberry.Private[bool]

    @strawberry.field(description="The provider's name, as in `Invoice.provider`.")
    def name(self) -> str:
        return self.model.name

    @strawberry.field(description="True when the provider is a local sandbox, not the real API.")
    def sandbox(self) -> bool:
        return self.on_sandbox

    @strawberry.field(
        description="The operations the provider supports: show only these actions to a user. "
        "Any other operation returns the user error UNSUPPORTED_BY_PROVIDER."
    )
    def capabilities(self) -> list[Capability]:
        return sorted(self.model.capabilities, key=lambda op: op.value)


@strawberry.type(description="A customer's invoice totals in one currency.")
class CustomerInvoiceSummary:
    model: strawberry.Private[models.CustomerInvoiceSummary]
    locale: strawberry.Private[str]

    def _money(self, money: models.Money) -> Money:
        amount = models.Money(amount=money.amount, currency=self.model.currency)
        out = Money.of(amount, self.locale)
        assert out is not None
        return out

    @strawberry.field(description="ISO 4217 currency code of this summary.")
    def currency(self) -> str:
        return self.model.currency

    @strawberry.field(description="How many invoices the customer has in this currency.")
    def total_invoice_count(self) -> int:
        return self.model.total_invoice_count

    @strawberry.field(description="How many of them are not paid yet.")
    def unpaid_invoice_count(self) -> int:
        return self.model.unpaid_invoice_count

    @strawberry.field(description="How many unpaid invoices are past their due date.")
    def overdue_invoice_count(self) -> int:
        return self.model.overdue_invoice_count

    @strawberry.field(description="The sum of all invoice totals.")
    def total_revenue(self) -> Money:
        return self._money(self.model.total_revenue)

    @strawberry.field(description="What remains to be paid.")
    def total_unpaid(self) -> Money:
        return self._money(self.model.total_unpaid)

    @strawberry.field(description="What remains to be paid on overdue invoices.")
    def total_overdue(self) -> Money:
        return self._money(self.model.total_overdue)
