"""The per-request context: providers, loaders, settings, request id."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError

from gateway.callers import Caller
from gateway.errors import ErrorCode, GatewayError
from gateway.events import Events
from gateway.idempotency import IdempotencyStore
from gateway.loaders import Loaders, retrieve_failure
from gateway.logs import excerpt
from gateway.settings import GatewaySettings
from providers.base import InvoiceProvider
from providers.calls import RequestCalls

__all__ = ["GatewayContext"]


@dataclass(slots=True)
class GatewayContext:
    providers: Mapping[str, InvoiceProvider]
    settings: GatewaySettings
    request_id: str
    #: Who is calling (None: anonymous), and whether keys are configured at all.
    caller: Caller | None = None
    keys_required: bool = False
    #: Where createInvoice remembers its idempotency keys (shared by every request).
    idempotency: IdempotencyStore | None = None
    #: The providers running on their in-process sandbox (`gateway.wiring.Wired`).
    sandboxes: frozenset[str] = frozenset()
    #: Provider events, for subscriptions (shared by every request).
    events: Events | None = None
    loaders: Loaders = field(init=False)
    #: The upstream requests this operation sent, its limit, and the caller they are made for
    #: (a provider's bulkhead keeps each caller to its share).
    calls: RequestCalls = field(init=False)
    #: Errors to report beside partial data (a provider that failed while others answered).
    partial_errors: list[GraphQLError] = field(default_factory=list)
    #: Work a resolver started ahead of the field that needs it (see `start_early`).
    early: dict[tuple[object, ...], asyncio.Task[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.providers)
        self.calls = RequestCalls(
            caller=self.caller.name if self.caller is not None else None,
            limit=self.settings.max_upstream_calls,
            request_id=self.request_id,
        )

    def provider(self, name: str, *, field: str) -> InvoiceProvider:
        """The enabled provider `name`, or `GatewayError(UNKNOWN_PROVIDER)` naming `field`."""
        provider = self.providers.get(name)
        if provider is None:
            enabled = ", ".join(self.providers)
            shown = excerpt(name, 64)  # a client's text: never echoed at any length
            raise GatewayError(
                ErrorCode.UNKNOWN_PROVIDER,
                f"{field} refers to provider '{shown}', which is not enabled here "
                f"(enabled: {enabled})",
                field=field,
                provider=shown,
            )
        return provider

    def start_early(self, key: tuple[object, ...], work: Coroutine[Any, Any, Any]) -> None:
        """Start `work` now, for the field resolver that will `take_early(key)` it: upstream
        calls that need only an id need not wait for the parent's own look-up. Its failure is
        the field's to report: if no field takes it, it is not left unretrieved."""
        task = asyncio.ensure_future(work)
        task.add_done_callback(retrieve_failure)
        self.early[key] = task

    def take_early(self, key: tuple[object, ...]) -> asyncio.Task[Any] | None:
        return self.early.pop(key, None)

    async def drop_early(self, keys: list[tuple[object, ...]]) -> None:
        """Cancel what was started early under `keys` and is not wanted after all (its parent
        is null); what another field started stays."""
        tasks = [task for key in keys if (task := self.early.pop(key, None)) is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
