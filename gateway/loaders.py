"""Per-request aiodataloader loaders keyed by (provider, native id).

Keys collected in one event-loop tick are grouped by provider and sent as one batch call per
provider (`get_invoices`, `get_customers`), the providers in parallel. A provider's failure lands
only in its own keys' slots. Whatever a response already carried (an invoice in a list, a customer
embedded in an invoice) is primed, so it is never fetched again in the same request.

The first pages of `Customer.invoices` under many customers are one `list_invoices_of_customers`
per provider and listing (FlexPrice: one search); a customer the batch cannot answer is listed
on its own. `invoiceSummary` is read once per customer per request.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any, TypeVar, cast

from aiodataloader import DataLoader

from providers.base import InvoiceProvider
from providers.models import (
    Customer,
    CustomerInvoiceSummary,
    Invoice,
    InvoiceFilter,
    Page,
    PageRequest,
)

__all__ = ["Key", "ListingKey", "Loaders", "retrieve_failure", "shielded"]

#: (provider name, the provider's own id)
Key = tuple[str, str]
#: (provider, customer id, first, the listing's filter without customers, whether the
#: connection's totalCount is asked for): the first page of one customer's invoices.
ListingKey = tuple[str, str, int, InvoiceFilter, bool]
T = TypeVar("T")

BatchCall = Callable[[InvoiceProvider, Sequence[str]], Awaitable[Sequence[T | None]]]


def retrieve_failure(future: asyncio.Future[Any]) -> None:
    """A done callback: mark the future's exception as seen. A failure nobody awaits any more
    is otherwise logged by asyncio when the future is collected ("exception was never
    retrieved", with a traceback), outside the gateway's log budgets. Whoever awaits the
    future still gets the exception."""
    if not future.cancelled():
        future.exception()


def shielded(load: Awaitable[T]) -> Awaitable[T]:
    """`asyncio.shield` for a load that other fields of the request may share: cancelling the
    field that awaits it (its object failed, or its early start was dropped) does not cancel
    the load. asyncio.shield detaches a cancelled waiter from the load, so a failure arriving
    after it would be nobody's: it is marked seen (`retrieve_failure`). One request made
    asyncio log 6 such tracebacks per customer whose summary was still being read when a
    sibling field failed."""
    inner = asyncio.ensure_future(load)
    inner.add_done_callback(retrieve_failure)
    return asyncio.shield(inner)


def _batch_by_provider(
    providers: Mapping[str, InvoiceProvider], call: BatchCall[T]
) -> Callable[[list[Key]], Coroutine[Any, Any, list[T | None]]]:
    async def load(keys: list[Key]) -> list[T | None]:
        by_provider: dict[str, list[str]] = {}
        for provider, native_id in keys:
            by_provider.setdefault(provider, []).append(native_id)
        names = list(by_provider)
        outcomes = await asyncio.gather(
            *(call(providers[name], by_provider[name]) for name in names),
            return_exceptions=True,
        )
        found: dict[Key, T | Exception | None] = {}
        for name, outcome in zip(names, outcomes, strict=True):
            ids = by_provider[name]
            if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
                raise outcome  # cancellation is the request's, not the key's
            if isinstance(outcome, Exception):
                found.update(((name, native_id), outcome) for native_id in ids)
            else:
                found.update(
                    ((name, native_id), item) for native_id, item in zip(ids, outcome, strict=True)
                )
        # aiodataloader fails exactly the keys whose slot holds an Exception; its type hints
        # do not say so.
        return cast(list[T | None], [found[key] for key in keys])

    return load


class _Remembering(DataLoader[Key, T]):
    """A DataLoader that first looks among the records the request's answers already carried
    (`known`), filled by a dict assignment: priming a DataLoader makes a future per record (the
    50 invoices and customers of a listing cost a tenth of its execution), most never read."""

    def __init__(
        self,
        batch_load_fn: Callable[[list[Key]], Coroutine[Any, Any, list[T]]],
        known: dict[Key, Any],
        *,
        replace: bool,
        max_batch_size: int,
    ) -> None:
        super().__init__(batch_load_fn, max_batch_size=max_batch_size)
        self._known = known
        #: Whether a record carried later replaces one already loaded (invoices: the newest
        #: copy wins) or not (customers: the first, complete copy stays).
        self._replace = replace

    def load(self, key: Key) -> asyncio.Future[T]:
        found = self._known.pop(key, None)
        if found is not None:
            if self._replace:
                self.clear(key)
            self.prime(key, found)
        return super().load(key)


#: At most this many one-by-one upstream calls of one request at once (for APIs with no batch).
FAN_OUT = 8


def _fan_out(
    providers: Mapping[str, InvoiceProvider],
    call: Callable[[InvoiceProvider, str], Awaitable[T]],
) -> Callable[[list[Key]], Coroutine[Any, Any, list[T | None]]]:
    """A batch function for an API without a batch call: one call per key, `FAN_OUT` at once."""

    async def load(keys: list[Key]) -> list[T | None]:
        gate = asyncio.Semaphore(FAN_OUT)

        async def one(key: Key) -> T:
            async with gate:
                return await call(providers[key[0]], key[1])

        outcomes = await asyncio.gather(*(one(key) for key in keys), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
                raise outcome
        return cast(list[T | None], outcomes)

    return load


def _first_pages(
    providers: Mapping[str, InvoiceProvider],
) -> Callable[[list[ListingKey]], Coroutine[Any, Any, list[Page[Invoice]]]]:
    """The first pages of many customers' listings: one `list_invoices_of_customers` per
    (provider, first, filter, count) for two customers or more; `list_invoices` for a customer
    alone or one the batch could not answer (`FAN_OUT` at once). A failure lands in the slots
    of the keys it was for."""

    async def load(keys: list[ListingKey]) -> list[Page[Invoice]]:
        groups: dict[tuple[str, int, InvoiceFilter, bool], list[str]] = {}
        for name, customer_id, first, filters, count in keys:
            groups.setdefault((name, first, filters, count), []).append(customer_id)
        found: dict[ListingKey, Page[Invoice] | Exception] = {}
        gate = asyncio.Semaphore(FAN_OUT)

        async def alone(name: str, customer_id: str, first: int, filters: InvoiceFilter) -> Any:
            mine = filters.model_copy(update={"customer_ids": (customer_id,)})
            async with gate:
                return await providers[name].list_invoices(mine, PageRequest(first=first))

        async def group(group_key: tuple[str, int, InvoiceFilter, bool], ids: list[str]) -> None:
            name, first, filters, count = group_key
            distinct = list(dict.fromkeys(ids))
            batched: Sequence[Page[Invoice] | Exception | None] = [None] * len(distinct)
            if len(distinct) > 1:
                try:
                    batched = await providers[name].list_invoices_of_customers(
                        filters, distinct, first, count=count
                    )
                except Exception as exc:  # it fills these keys' slots, as a failed batch does
                    batched = [exc] * len(distinct)
            missing = [c for c, page in zip(distinct, batched, strict=True) if page is None]
            listed = await asyncio.gather(
                *(alone(name, c, first, filters) for c in missing), return_exceptions=True
            )
            for outcome in listed:
                if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
                    raise outcome  # cancellation is the request's, not the key's
            answers: dict[str, Any] = dict(zip(distinct, batched, strict=True))
            answers.update(zip(missing, listed, strict=True))
            for customer_id, outcome in answers.items():
                found[(name, customer_id, first, filters, count)] = outcome

        await asyncio.gather(*(group(key, ids) for key, ids in groups.items()))
        return cast(list[Page[Invoice]], [found[key] for key in keys])

    return load


class Loaders:
    """The loaders of one request. Build a new one per request: the caches are per caller.

    Each loader is made on first use: most requests need one or none, and a `DataLoader` is
    not free to build (a tenth of a `{ __typename }` request's CPU when all three were made
    up front)."""

    def __init__(self, providers: Mapping[str, InvoiceProvider]) -> None:
        self._providers = providers
        #: Records the request's answers carried, not yet asked for by key (`_Remembering`).
        self._known_invoices: dict[Key, Invoice] = {}
        self._known_customers: dict[Key, Customer] = {}

    @functools.cached_property
    def _batch(self) -> int:
        return max((p.max_batch_size for p in self._providers.values()), default=100)

    @functools.cached_property
    def invoices(self) -> DataLoader[Key, Invoice | None]:
        return _Remembering(
            _batch_by_provider(self._providers, lambda p, ids: p.get_invoices(ids)),
            self._known_invoices,
            replace=True,
            max_batch_size=self._batch,
        )

    @functools.cached_property
    def customers(self) -> DataLoader[Key, Customer | None]:
        return _Remembering(
            _batch_by_provider(self._providers, lambda p, ids: p.get_customers(ids)),
            self._known_customers,
            replace=False,
            max_batch_size=self._batch,
        )

    @functools.cached_property
    def pdf_urls(self) -> DataLoader[Key, str | None]:
        return DataLoader(
            _fan_out(self._providers, lambda p, native_id: p.get_invoice_pdf_url(native_id))
        )

    @functools.cached_property
    def summaries(self) -> DataLoader[Key, Sequence[CustomerInvoiceSummary] | None]:
        """`invoiceSummary`: one call per customer, however many times the request asks."""
        return DataLoader(
            _fan_out(
                self._providers, lambda p, native_id: p.get_customer_invoice_summary(native_id)
            )
        )

    @functools.cached_property
    def first_pages(self) -> DataLoader[ListingKey, Page[Invoice]]:
        """The first page of a customer's invoices (`Customer.invoices` without `after`)."""
        return DataLoader(_first_pages(self._providers), max_batch_size=self._batch)

    def prime_invoices(self, invoices: Iterable[Invoice]) -> None:
        """Remember invoices (and the customers they embed) that a response already carried."""
        known_invoices, known_customers = self._known_invoices, self._known_customers
        for invoice in invoices:
            known_invoices[(invoice.provider, invoice.id)] = invoice  # the newest copy wins
            customer = invoice.customer
            # A partial copy must not stand in for the full record in later look-ups.
            if customer is not None and customer.complete:
                known_customers.setdefault((customer.provider, customer.id), customer)

    def prime_customers(self, customers: Iterable[Customer]) -> None:
        known = self._known_customers
        for customer in customers:
            known.setdefault((customer.provider, customer.id), customer)  # the first copy stays
