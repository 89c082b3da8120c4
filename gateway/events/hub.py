"""`Events`: what the gateway's subscriptions read from, one per app: the log, this process's
feed of it, the open subscriptions per caller, and the invoices re-read for the events.

A webhook body is a hint, not the truth: an event's invoice is read again from its provider
when a subscriber asks for it, once per event in a process however many subscribers ask
(`invoice`), and the answer is what the provider says now, never what the body said.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections import Counter, OrderedDict
from collections.abc import Iterator, Mapping

from gateway.errors import ErrorCode, GatewayError
from gateway.events.feed import EventFeed
from gateway.events.log import EventLog
from gateway.events.records import RecordedEvent
from providers import models
from providers.base import InvoiceProvider

__all__ = ["Events"]

#: Events whose re-read invoice is kept (or in flight) for the subscribers of this process.
REREAD_KEPT = 1024


class Events:
    def __init__(
        self,
        log: EventLog,
        providers: Mapping[str, InvoiceProvider],
        *,
        max_per_caller: int,
        heartbeat_seconds: float,
    ) -> None:
        self.log = log
        self.feed = EventFeed(log, on_events=self._prefetch)
        self.providers = providers
        self.max_per_caller = max_per_caller
        self.heartbeat_seconds = heartbeat_seconds
        self._open: Counter[str] = Counter()
        #: Open subscriptions that select `invoice`: while there are any, each new event's
        #: invoice is read as soon as the feed has it.
        self._reading = 0
        self._invoices: OrderedDict[tuple[str, str, str], asyncio.Future[models.Invoice | None]]
        self._invoices = OrderedDict()

    @contextlib.contextmanager
    def slot(self, caller: str) -> Iterator[None]:
        """Hold one of `caller`'s subscriptions open; `GatewayError(TOO_MANY_SUBSCRIPTIONS)`
        when it has GATEWAY_MAX_SUBSCRIPTIONS_PER_CALLER open already."""
        if self._open[caller] >= self.max_per_caller:
            raise GatewayError(
                ErrorCode.TOO_MANY_SUBSCRIPTIONS,
                f"This caller has {self.max_per_caller} subscriptions open, the most allowed "
                "(GATEWAY_MAX_SUBSCRIPTIONS_PER_CALLER): end one first",
            )
        self._open[caller] += 1
        try:
            yield
        finally:
            self._open[caller] -= 1
            if self._open[caller] <= 0:
                del self._open[caller]

    @contextlib.contextmanager
    def reading_invoices(self) -> Iterator[None]:
        """Hold, for a subscription that selects `invoice`, the reading of each new event's
        invoice ahead of its delivery: a subscriber takes its events one at a time, so read
        only when it reached one, it would get at most one event per upstream round trip."""
        self._reading += 1
        try:
            yield
        finally:
            self._reading -= 1

    def _prefetch(self, events: list[RecordedEvent]) -> None:
        if self._reading:
            for event in events:
                if event.provider in self.providers:
                    self._read(event)

    async def invoice(self, event: RecordedEvent) -> models.Invoice | None:
        """The event's invoice as its provider has it now (None: it no longer exists). One
        read per event in this process, shared by every subscriber; a failed read is not
        kept, so the next subscriber to ask tries again. Raises `ProviderError`."""
        return await asyncio.shield(self._read(event))

    def _read(self, event: RecordedEvent) -> asyncio.Future[models.Invoice | None]:
        key = (event.provider, event.invoice_id, event.position)
        found = self._invoices.get(key)
        if found is None:
            provider = self.providers[event.provider]
            # Outside any operation's accounting (an empty context): the read is shared by
            # every subscriber of this process, so it is no one operation's upstream call, and
            # a subscription open for days does not run out of GATEWAY_MAX_UPSTREAM_CALLS.
            found = asyncio.get_running_loop().create_task(
                _read_one(provider, event.invoice_id), context=contextvars.Context()
            )
            found.add_done_callback(lambda done: self._forget_failed(key, done))
            self._invoices[key] = found
            while len(self._invoices) > REREAD_KEPT:
                self._invoices.popitem(last=False)
        return found

    def _forget_failed(
        self, key: tuple[str, str, str], done: asyncio.Future[models.Invoice | None]
    ) -> None:
        failed = done.cancelled() or done.exception() is not None
        if failed and self._invoices.get(key) is done:
            del self._invoices[key]

    async def aclose(self) -> None:
        await self.feed.aclose()
        for pending in self._invoices.values():
            pending.cancel()
        self._invoices.clear()
        await self.log.aclose()


async def _read_one(provider: InvoiceProvider, invoice_id: str) -> models.Invoice | None:
    (found,) = await provider.get_invoices([invoice_id])
    return found
