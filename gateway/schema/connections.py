"""The Relay connection of invoices (`InvoiceConnection`, its edges and page info) and the
merged page it is built from (`merged_page`): one page across providers, a failing provider
reported beside the others' data.

The connection's edges hold `Invoice` nodes, and a `Customer` node has a connection of its
invoices: the node types (`gateway.schema.nodes`) import this module, and `InvoiceEdge.node`
names `Invoice` lazily (`strawberry.lazy`), so the dependency runs one way. The nodes build the
connection from a merged page (`nodes.connection_of`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

import strawberry
from graphql import GraphQLError

from gateway.context import GatewayContext
from gateway.errors import ErrorCode, GatewayError, code_for_provider_error
from gateway.pagination import Edge, MergedPage, fetch_merged
from gateway.schema.filters import fingerprint
from providers.models import Invoice as InvoiceModel
from providers.models import InvoiceFilter, Page, PageRequest

if TYPE_CHECKING:
    from gateway.schema.nodes import Invoice

__all__ = ["InvoiceConnection", "InvoiceEdge", "PageInfo", "merged_page"]


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
    node: Annotated[Invoice, strawberry.lazy("gateway.schema.nodes")] = strawberry.field(
        description="The invoice."
    )
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


async def merged_page(
    info: strawberry.Info[GatewayContext, None],
    *,
    first: int | None,
    after: str | None,
    filters: dict[str, InvoiceFilter],
    first_page: Callable[[int], Awaitable[Page[InvoiceModel]]] | None = None,
) -> MergedPage:
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
    return merged
