"""Relay connections of invoices, and the filter clients pass to them."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Awaitable, Callable

import strawberry
from graphql import GraphQLError

from gateway.context import GatewayContext
from gateway.errors import ErrorCode, GatewayError, code_for_provider_error
from gateway.ids import GlobalId, NodeType
from gateway.pagination import Edge, MergedPage, fetch_merged
from gateway.schema.enums import InvoiceStatus, PaymentStatus
from gateway.schema.nodes import Invoice
from providers.currencies import CURRENCIES
from providers.models import Invoice as InvoiceModel
from providers.models import InvoiceFilter, Page, PageRequest

__all__ = [
    "CustomerInvoiceFilterInput",
    "InvoiceConnection",
    "InvoiceFilterInput",
    "invoice_connection",
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


@strawberry.type(description="Where a page of a connection stands (Relay).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when `after: endCursor` gives more.")
    has_previous_page: bool = strawberry.field(
        description="Always false: connections here page forwards only."
    )
    #: The page the cursors are read from, and the `after` it was asked with.
    _page: strawberry.Private[MergedPage]
    _after: strawberry.Private[str | None]

    # Sync resolvers of `self` only: a cursor is encoded when a client selects it, not before.
    @strawberry.field(description="The cursor of the first edge.")
    def start_cursor(self) -> str | None:
        edges = self._page.edges
        return edges[0].cursor if edges else None

    @strawberry.field(
        description="Pass as `after` for the next page: the cursor of the last edge, or on an "
        "empty page the `after` that was passed."
    )
    def end_cursor(self) -> str | None:
        edges = self._page.edges
        return self._page.end_cursor or (edges[-1].cursor if edges else self._after)


def _edge_cursor(self: InvoiceEdge) -> str:
    # A sync resolver of `self` only (the compiled plans run it directly): an edge's cursor is
    # encoded when a client selects it, not for every edge of every page.
    return self._edge.cursor


@strawberry.type(description="An invoice and its position in a connection.")
class InvoiceEdge:
    cursor: str = strawberry.field(
        resolver=_edge_cursor, description="Pass as `after` to continue after this invoice."
    )
    node: Invoice = strawberry.field(description="The invoice.")
    _edge: strawberry.Private[Edge]


@strawberry.type(
    description="A page of invoices, newest first (by creation time, then provider and id), "
    "merged across providers."
)
class InvoiceConnection:
    edges: list[InvoiceEdge] = strawberry.field(description="The invoices of this page.")
    page_info: PageInfo = strawberry.field(description="How to get the next page.")
    total_count: int | None = strawberry.field(
        description="How many invoices match in all providers; null when a provider cannot "
        "count or did not answer."
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


def check_first(ctx: GatewayContext, first: int | None) -> int:
    if first is None:
        return ctx.settings.default_page_size
    limit = ctx.settings.max_page_size
    if not 0 <= first <= limit:
        raise GatewayError(
            ErrorCode.BAD_USER_INPUT,
            f"first must be between 0 and {limit}, got {first}",
            field="first",
        )
    return first


async def invoice_connection(
    info: strawberry.Info[GatewayContext, None],
    *,
    first: int | None,
    after: str | None,
    filters: dict[str, InvoiceFilter],
    first_page: Callable[[int], Awaitable[Page[InvoiceModel]]] | None = None,
) -> InvoiceConnection:
    """One merged page. A failing provider is reported as an error beside the other's data;
    when every provider fails, the first failure is raised. `first_page(first)`, for a
    listing of one provider, reads its first page instead of `list_invoices` (a loader that
    batches it with other customers')."""
    ctx = info.context
    size = check_first(ctx, first)

    async def list_page(
        name: str, page: PageRequest, before: dt.datetime | None
    ) -> Page[InvoiceModel]:
        filter = filters[name]
        if first_page is not None and page.after is None and before is None:
            result = await first_page(page.first)
        else:
            if before is not None and (
                filter.created_before is None or before < filter.created_before
            ):
                filter = filter.model_copy(update={"created_before": before})
            result = await ctx.providers[name].list_invoices(filter, page)
        return result

    merged = await fetch_merged(
        list_page,
        providers=list(filters),
        first=size,
        after=after,
        fingerprint=fingerprint(filters),
    )
    if merged.failures and len(merged.failures) == len(filters):
        raise merged.failures[0]
    for failure in merged.failures:
        ctx.partial_errors.append(
            GraphQLError(
                failure.message,
                path=info.path.as_list(),
                extensions={
                    "code": code_for_provider_error(failure).value,
                    "provider": failure.provider,
                },
            )
        )
    # Only the invoices the page returns are mapped (and primed, so a field that reads one again
    # in this request makes no call); the others each provider sent stay unmapped records.
    ctx.loaders.prime_invoices([edge.node for edge in merged.edges])
    edges = [InvoiceEdge(_edge=edge, node=Invoice(model=edge.node)) for edge in merged.edges]
    return InvoiceConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=merged.has_next_page,
            has_previous_page=False,
            _page=merged,
            _after=after,
        ),
        total_count=merged.total_count,
    )
