"""Per-request aiodataloader loaders keyed by (provider, native id).

Keys collected in one event-loop tick are grouped by provider and sent as one batch call per
provider (`get_invoices`, `get_customers`), the providers in parallel. A provider's failure lands
only in its own keys' slots. Whatever a response already carried (an invoice in a list, a customer
embedded in an invoice) is primed, so it is never fetched again in the same request.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any, TypeVar, cast

from aiodataloader import DataLoader

from providers.base import InvoiceProvider
from providers.models import Customer, Invoice

__all__ = ["Key", "Loaders"]

#: (provider name, the provider's own id)
Key = tuple[str, str]
T = TypeVar("T")

BatchCall = Callable[[InvoiceProvider, Sequence[str]], Awaitable[Sequence[T | None]]]


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


class Loaders:
    """The loaders of one request. Build a new one per request: the caches are per caller.

    Each loader is made on first use: most requests need one or none, and a `DataLoader` is
    not free to build (a tenth of a `{ __typename }` request's CPU when all three were made
    up front)."""

    def __init__(self, providers: Mapping[str, InvoiceProvider]) -> None:
        self._providers = providers

    @functools.cached_property
    def _batch(self) -> int:
        return max((p.max_batch_size for p in self._providers.values()), default=100)

    @functools.cached_property
    def invoices(self) -> DataLoader[Key, Invoice | None]:
        return DataLoader(
            _batch_by_provider(self._providers, lambda p, ids: p.get_invoices(ids)),
            max_batch_size=self._batch,
        )

    @functools.cached_property
    def customers(self) -> DataLoader[Key, Customer | None]:
        return DataLoader(
            _batch_by_provider(self._providers, lambda p, ids: p.get_customers(ids)),
            max_batch_size=self._batch,
        )

    @functools.cached_property
    def pdf_urls(self) -> DataLoader[Key, str | None]:
        return DataLoader(
            _fan_out(self._providers, lambda p, native_id: p.get_invoice_pdf_url(native_id))
        )

    def prime_invoices(self, invoices: Iterable[Invoice]) -> None:
        """Remember invoices (and the customers they embed) that a response already carried."""
        for invoice in invoices:
            self.invoices.clear((invoice.provider, invoice.id))
            self.invoices.prime((invoice.provider, invoice.id), invoice)
            # A partial copy must not stand in for the full record in later look-ups.
            if invoice.customer is not None and invoice.customer.complete:
                self.prime_customers((invoice.customer,))

    def prime_customers(self, customers: Iterable[Customer]) -> None:
        for customer in customers:
            self.customers.prime((customer.provider, customer.id), customer)
