"""The provider side of invoice-gateway: the protocol every provider implements, the domain
model it returns, and the errors it raises. Provider packages live below (`providers.flexprice`).
"""

from providers.base import InvoiceProvider, Operation, ProviderBase, ProviderFactory
from providers.errors import (
    Conflict,
    NotFound,
    ProviderAuthError,
    ProviderBadResponse,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    UnsupportedOperation,
)

__all__ = [
    "Conflict",
    "InvoiceProvider",
    "NotFound",
    "Operation",
    "ProviderAuthError",
    "ProviderBadResponse",
    "ProviderBase",
    "ProviderError",
    "ProviderFactory",
    "ProviderRateLimited",
    "ProviderRejected",
    "ProviderTimeout",
    "ProviderUnavailable",
    "UnsupportedOperation",
]
