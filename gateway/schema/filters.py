"""The filters of the invoice listings: what a client passes (`InvoiceFilterInput`, and
`CustomerInvoiceFilterInput` on a customer), turned into one domain `InvoiceFilter` per provider it
can match, and the fingerprint that ties a cursor to its filter."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import strawberry

from gateway.context import GatewayContext
from gateway.errors import ErrorCode, GatewayError
from gateway.ids import GlobalId, NodeType
from gateway.schema.enums import InvoiceStatus, PaymentStatus
from providers.currencies import CURRENCIES
from providers.models import InvoiceFilter

__all__ = [
    "CustomerInvoiceFilterInput",
    "InvoiceFilterInput",
    "fingerprint",
    "provider_filters",
]


@strawberry.input(
    description="Which of a customer's invoices to list: InvoiceFilterInput without the "
    "provider and customer, which the customer fixes."
)
class CustomerInvoiceFilterInput:
    status: list[InvoiceStatus] | None = strawberry.field(
        default=None, description="Only invoices in one of these statuses."
    )
    payment_status: list[PaymentStatus] | None = strawberry.field(
        default=None, description="Only invoices in one of these payment statuses."
    )
    currency: list[str] | None = strawberry.field(
        default=None, description="Only invoices in these ISO 4217 currencies (any case)."
    )
    created_after: dt.datetime | None = strawberry.field(
        default=None,
        description="Only invoices created strictly after this time (no offset means UTC).",
    )
    created_before: dt.datetime | None = strawberry.field(
        default=None,
        description="Only invoices created strictly before this time (no offset means UTC).",
    )

    def for_all_providers(self) -> InvoiceFilterInput:
        return InvoiceFilterInput(
            status=self.status,
            payment_status=self.payment_status,
            currency=self.currency,
            created_after=self.created_after,
            created_before=self.created_before,
        )


@strawberry.input(
    description="Which invoices to list. Conditions are ANDed; a list means any of its values. "
    "Each provider applies what its API can: FlexPrice every condition in its search; Xendit "
    "status and creation time in its list call, while customer and currency, which its list "
    "API cannot express, are applied by the gateway's Xendit adapter to the pages it reads "
    "(up to 10 pages of 100 per request; a page may then hold fewer than `first` invoices, "
    "with hasNextPage true). Statuses a provider cannot have (DRAFT and VOID on Xendit, "
    "EXPIRED on FlexPrice) simply match none of its invoices."
)
class InvoiceFilterInput(CustomerInvoiceFilterInput):
    provider: list[str] | None = strawberry.field(
        default=None, description="Only these providers (names as in `providers { name }`)."
    )
    customer_id: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only invoices of these customers (global Customer IDs)."
    )


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def provider_filters(
    ctx: GatewayContext, filter: InvoiceFilterInput | None
) -> dict[str, InvoiceFilter]:
    """The domain filter for each provider the client's filter can match, in enabled order."""
    filter = filter or InvoiceFilterInput()
    names = list(ctx.providers)
    if filter.provider is not None:
        wanted = {name.lower() for name in filter.provider}
        for name in wanted:
            ctx.provider(name, field="filter.provider")
        names = [name for name in names if name in wanted]
    customers: dict[str, list[str]] | None = None
    if filter.customer_id is not None:
        customers = {}
        for value in filter.customer_id:
            gid = GlobalId.decode(value, field="filter.customerId", expect=NodeType.CUSTOMER)
            ctx.provider(gid.provider, field="filter.customerId")
            customers.setdefault(gid.provider, []).append(gid.native_id)
        names = [name for name in names if name in customers]
    currencies: tuple[str, ...] = ()
    if filter.currency is not None:
        currencies = tuple(dict.fromkeys(code.strip().upper() for code in filter.currency))
        unknown = [code for code in currencies if code not in CURRENCIES]
        if unknown:
            raise GatewayError(
                ErrorCode.BAD_USER_INPUT,
                f"filter.currency must hold ISO 4217 codes; not one: {', '.join(unknown)}",
                field="filter.currency",
            )
    after, before = _utc(filter.created_after), _utc(filter.created_before)
    return {
        # Sorted and de-duplicated: equal filters make equal requests and equal cursors.
        name: InvoiceFilter(
            statuses=tuple(sorted(set(filter.status or ()))),
            payment_statuses=tuple(sorted(set(filter.payment_status or ()))),
            customer_ids=tuple(sorted(set(customers[name]))) if customers is not None else (),
            currencies=tuple(sorted(currencies)),
            created_after=after,
            created_before=before,
        )
        for name in names
    }


def fingerprint(filters: dict[str, InvoiceFilter]) -> str:
    """A short digest of a listing's filters: a cursor is good only for the listing it came from."""
    state = {name: f.model_dump(mode="json") for name, f in sorted(filters.items())}
    digest = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()
    return digest[:16]
