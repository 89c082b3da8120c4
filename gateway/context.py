"""The per-request context: providers, loaders, settings, request id."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from graphql import GraphQLError

from gateway.callers import Caller
from gateway.errors import ErrorCode, GatewayError
from gateway.idempotency import IdempotencyStore
from gateway.loaders import Loaders
from gateway.settings import GatewaySettings
from providers.base import InvoiceProvider

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
    loaders: Loaders = field(init=False)
    #: Errors to report beside partial data (a provider that failed while others answered).
    partial_errors: list[GraphQLError] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.providers)

    def provider(self, name: str, *, field: str) -> InvoiceProvider:
        """The enabled provider `name`, or `GatewayError(UNKNOWN_PROVIDER)` naming `field`."""
        provider = self.providers.get(name)
        if provider is None:
            enabled = ", ".join(self.providers)
            raise GatewayError(
                ErrorCode.UNKNOWN_PROVIDER,
                f"{field} refers to provider {name!r}, which is not enabled here "
                f"(enabled: {enabled})",
                field=field,
                provider=name,
            )
        return provider
