"""What a customer's `invoices` and `invoiceSummary` fields read, through the request's loaders,
and `start_children_early`, which starts both while `customer(id:)` is still reading the customer.

The invoices come back as a merged page, which `nodes.connection_of` turns into the connection
the client reads, so this module needs no node type."""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from typing import Any

import strawberry
from strawberry.types.nodes import SelectedField, Selection

from gateway.context import GatewayContext
from gateway.loaders import shielded
from gateway.pagination import MergedPage
from gateway.schema.connections import merged_page
from gateway.schema.filters import CustomerInvoiceFilterInput, provider_filters
from gateway.schema.types import CustomerInvoiceSummary
from providers import models

__all__ = [
    "asks_total",
    "customer_invoice_summary",
    "customer_invoices",
    "invoices_key",
    "start_children_early",
    "summary_key",
]

Info = strawberry.Info[GatewayContext, None]


def invoices_key(
    provider: str, customer_id: str, first: int | None, after: str | None
) -> tuple[object, ...]:
    """The key of a customer's `invoices` page started early (`GatewayContext.start_early`)."""
    return ("Customer.invoices", provider, customer_id, first, after)


def summary_key(provider: str, customer_id: str) -> tuple[object, ...]:
    """The key of a customer's `invoiceSummary` started early."""
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
) -> MergedPage:
    """A first page comes through the request's `first_pages` loader, batched with the other
    customers' (`count`: whether its totalCount is wanted); a later page is the customer's own
    listing."""
    ctx = info.context
    ctx.provider(provider, field="invoices")
    everywhere = provider_filters(ctx, filter.for_all_providers() if filter else None)
    mine = everywhere[provider].model_copy(update={"customer_ids": (customer_id,)})

    async def first_page(size: int) -> models.Page[models.Invoice]:
        key = (provider, customer_id, size, everywhere[provider], count)
        # Shielded: dropping early work must not cancel the loader's cached answer, which
        # another field of the request may share.
        return await shielded(ctx.loaders.first_pages.load(key))

    return await merged_page(
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
            started.append(summary_key(provider, customer_id))
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
                started.append(invoices_key(provider, customer_id, first, after))
                info.context.start_early(started[-1], work)
    return started
