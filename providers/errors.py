"""Errors a provider raises; nothing from aiohttp or pydantic crosses out of `providers/`.

ProviderError                 base; carries `provider`
├── ProviderUnavailable       the provider could not be reached or answered 5xx
│   ├── ProviderTimeout       no answer within the deadline
│   ├── ProviderConnectionLost  the connection broke once the request was (maybe) sent:
│   │                           whether it was carried out is unknown
│   ├── ProviderBusy          the gateway's cap on calls in flight to it is reached
│   └── ProviderCircuitOpen   it kept failing: the gateway stops calling it for a while
├── ProviderAuthError         the provider refused our credentials (401/403)
│   └── MissingCredentials    none are configured (the gateway may wire its sandbox instead)
├── ProviderRateLimited       429 after our retries
├── ProviderBadResponse       an answer we could not understand
├── UpstreamCallLimit         the request reached its cap on upstream calls: nothing was sent
├── ProviderRejected          a 4xx: the request is wrong or the state forbids it
│   ├── InvalidInput          input that breaks a rule of the domain or the provider's limits,
│   │                         found before anything was sent (`violations`)
│   ├── NotFound
│   └── Conflict              a duplicate (409)
│       └── IdempotencyKeyReused  the provider holds an invoice under the create's key that
│                                 another input made
├── UnsupportedOperation      the provider has no such operation
├── WebhookRefused            a webhook delivery failed its authentication (401): no secret is
│                             configured, the token or signature is wrong, or it is too old
└── WebhookMalformed          an authenticated delivery whose body cannot be read (400)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "Conflict",
    "IdempotencyKeyReused",
    "InvalidInput",
    "MissingCredentials",
    "NotFound",
    "ProviderAuthError",
    "ProviderBadResponse",
    "ProviderBusy",
    "ProviderCircuitOpen",
    "ProviderConnectionLost",
    "ProviderError",
    "ProviderRateLimited",
    "ProviderRejected",
    "ProviderTimeout",
    "ProviderUnavailable",
    "UnsupportedOperation",
    "UpstreamCallLimit",
    "Violation",
    "WebhookMalformed",
    "WebhookRefused",
]


class ProviderError(Exception):
    """Base of every provider failure. `message` is safe to show a client: it never holds a key."""

    code = "PROVIDER_ERROR"

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status: int | None = None,
        provider_code: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.message = message
        self.status = status
        self.provider_code = provider_code
        self.field = field

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(provider={self.provider!r}, message={self.message!r}, "
            f"status={self.status!r}, provider_code={self.provider_code!r})"
        )


class ProviderUnavailable(ProviderError):
    code = "PROVIDER_UNAVAILABLE"


class ProviderTimeout(ProviderUnavailable):
    code = "PROVIDER_TIMEOUT"


class ProviderConnectionLost(ProviderUnavailable):
    """Like a timeout for a create: the provider may have made what it was asked to."""


class ProviderBusy(ProviderUnavailable):
    code = "PROVIDER_BUSY"


class ProviderCircuitOpen(ProviderUnavailable):
    code = "PROVIDER_CIRCUIT_OPEN"


class ProviderAuthError(ProviderError):
    code = "PROVIDER_AUTH_FAILED"


class MissingCredentials(ProviderAuthError):
    """No credentials are configured for the provider: its message names the variable to set.
    A factory raises it; the gateway answers it by wiring the provider's sandbox, if one is
    installed, or refuses to start."""


class ProviderRateLimited(ProviderError):
    code = "PROVIDER_RATE_LIMITED"


class ProviderBadResponse(ProviderError):
    code = "PROVIDER_BAD_RESPONSE"


class UpstreamCallLimit(ProviderError):
    """The gateway request already sent as many upstream requests as it may
    (`providers.calls.RequestCalls.limit`); this one was not sent."""

    code = "TOO_MANY_UPSTREAM_CALLS"


class ProviderRejected(ProviderError):
    code = "PROVIDER_REJECTED"


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: the domain field it is about, as a path into the domain model
    (`("line_items", "2", "unit_amount")`; empty for the input as a whole), and the rule, in
    words for a person (`"must be greater than 0"`). Never a GraphQL name: the gateway maps the
    path to the input path the client sent."""

    field: tuple[str, ...]
    rule: str

    def __str__(self) -> str:
        return f"{'.'.join(self.field)}: {self.rule}" if self.field else self.rule


class InvalidInput(ProviderRejected):
    """Input that breaks a rule, found before anything was sent: a rule of the domain model
    (`providers.validation`; `provider` is "") or a limit of the provider the input is for
    (`InvoiceProvider.check_draft`; `provider` names it). `violations` name each field and rule;
    `field` is the first one's path, dotted."""

    code = "INVALID_INPUT"

    def __init__(self, provider: str, violations: Iterable[Violation]) -> None:
        self.violations: tuple[Violation, ...] = tuple(violations)
        if not self.violations:
            raise ValueError("InvalidInput needs at least one violation")
        first = self.violations[0].field
        super().__init__(
            provider,
            "; ".join(str(v) for v in self.violations),
            field=".".join(first) if first else None,
        )


class NotFound(ProviderRejected):
    code = "NOT_FOUND"


class Conflict(ProviderRejected):
    code = "CONFLICT"


class IdempotencyKeyReused(Conflict):
    """The invoice the provider holds under a create's idempotency key differs from the draft
    (the gateway had forgotten the key: past its TTL, a restart, another process). `differences`
    are the domain fields that differ (`line_items`, `due_at`, ...), which `message` names too;
    `field` is `idempotency_key`."""

    code = "IDEMPOTENCY_KEY_REUSED"

    def __init__(
        self,
        provider: str,
        differences: Sequence[str],
        *,
        status: int | None = None,
        provider_code: str | None = None,
    ) -> None:
        self.differences = tuple(differences)
        super().__init__(
            provider,
            f"the idempotency key was used for a different invoice (its "
            f"{', '.join(self.differences)} differ): send a new key for a new invoice, or the "
            "same input to get the first one back",
            field="idempotency_key",
            status=status,
            provider_code=provider_code,
        )


class UnsupportedOperation(ProviderError):
    code = "UNSUPPORTED_BY_PROVIDER"

    def __init__(self, provider: str, operation: str) -> None:
        super().__init__(provider, f"{provider} does not support {operation}")
        self.operation = operation


class WebhookRefused(ProviderError):
    """A webhook delivery that is not the provider's: no verification secret is configured
    (deny by default), the token or the signature does not match, or its timestamp is outside
    the tolerance. `message` says which, never a secret or what was sent in its place."""

    code = "WEBHOOK_UNAUTHENTICATED"


class WebhookMalformed(ProviderError):
    """An authenticated webhook delivery whose body is not what the provider sends: `message`
    names the field and the rule."""

    code = "WEBHOOK_MALFORMED"
