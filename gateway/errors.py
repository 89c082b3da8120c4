"""What a client may see of a failure, and the codes it is told.

Two kinds of failure reach a client:
- GraphQL errors, with `extensions.code` (and `extensions.provider` when a provider is the cause):
  bad arguments to a query, a provider that is down, an unexpected bug (masked: the client sees
  `INTERNAL_SERVER_ERROR` and the request id, the log sees the traceback);
- user errors in a mutation payload, for expected failures (validation, refused by the provider,
  unsupported operation): see `gateway.schema.payloads`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from providers.errors import (
    Conflict,
    IdempotencyKeyReused,
    InvalidInput,
    NotFound,
    ProviderAuthError,
    ProviderBadResponse,
    ProviderBusy,
    ProviderCircuitOpen,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    UnsupportedOperation,
    UpstreamCallLimit,
)

__all__ = ["ErrorCode", "GatewayError", "code_for_provider_error"]


class ErrorCode(StrEnum):
    BAD_USER_INPUT = "BAD_USER_INPUT"
    INVALID_ID = "INVALID_ID"
    UNKNOWN_PROVIDER = "UNKNOWN_PROVIDER"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    UNSUPPORTED_BY_PROVIDER = "UNSUPPORTED_BY_PROVIDER"
    PROVIDER_REJECTED = "PROVIDER_REJECTED"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    PROVIDER_TIMEOUT = "PROVIDER_TIMEOUT"
    PROVIDER_BUSY = "PROVIDER_BUSY"
    PROVIDER_CIRCUIT_OPEN = "PROVIDER_CIRCUIT_OPEN"
    PROVIDER_AUTH_FAILED = "PROVIDER_AUTH_FAILED"
    PROVIDER_RATE_LIMITED = "PROVIDER_RATE_LIMITED"
    PROVIDER_BAD_RESPONSE = "PROVIDER_BAD_RESPONSE"
    #: The operation's estimated upstream calls are over GATEWAY_MAX_COST (nothing ran).
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
    #: The request sent GATEWAY_MAX_UPSTREAM_CALLS upstream requests; this one was not sent.
    TOO_MANY_UPSTREAM_CALLS = "TOO_MANY_UPSTREAM_CALLS"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    #: The shared idempotency store (Redis) cannot be reached: no keyed create is made.
    IDEMPOTENCY_STORE_UNAVAILABLE = "IDEMPOTENCY_STORE_UNAVAILABLE"
    #: Another request holds the idempotency key and did not finish within the wait.
    IDEMPOTENCY_KEY_IN_PROGRESS = "IDEMPOTENCY_KEY_IN_PROGRESS"
    #: `invoiceEvents(after:)` names an event followed by events no longer kept (older than
    #: GATEWAY_EVENT_RETENTION), or a subscription fell further behind than that: it cannot
    #: be given everything it missed.
    EVENT_CURSOR_EXPIRED = "EVENT_CURSOR_EXPIRED"
    #: The event log (Redis) cannot be reached; the subscription ends, resume it with `after`.
    EVENT_LOG_UNAVAILABLE = "EVENT_LOG_UNAVAILABLE"
    #: The connection or the caller has GATEWAY_MAX_SUBSCRIPTIONS_PER_* open already.
    TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
    #: A request the gateway cannot read, or whose fields break a rule the message names.
    BAD_REQUEST = "BAD_REQUEST"
    #: The persisted query's hash (or the `documentId`) names nothing this gateway holds:
    #: send the query with its hash to register it (automatic persisted queries).
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    #: Automatic persisted queries are off (GATEWAY_APQ=false), or the version is not 1.
    PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
    #: `extensions.persistedQuery.sha256Hash` is not the SHA-256 of the query sent with it.
    PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
    #: GATEWAY_TRUSTED_DOCUMENTS_ONLY: a query that is not a trusted document, or a
    #: registration, was refused.
    TRUSTED_DOCUMENT_REQUIRED = "TRUSTED_DOCUMENT_REQUIRED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class GatewayError(Exception):
    """An error whose message is written for the client; `extensions` reach it unchanged."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        field: str | None = None,
        provider: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.provider = provider
        self.extensions: dict[str, Any] = {"code": code.value}
        if field is not None:
            self.extensions["field"] = field
        if provider is not None:
            self.extensions["provider"] = provider


_PROVIDER_CODES: dict[type[ProviderError], ErrorCode] = {
    UnsupportedOperation: ErrorCode.UNSUPPORTED_BY_PROVIDER,
    IdempotencyKeyReused: ErrorCode.IDEMPOTENCY_KEY_REUSED,
    InvalidInput: ErrorCode.BAD_USER_INPUT,
    NotFound: ErrorCode.NOT_FOUND,
    Conflict: ErrorCode.CONFLICT,
    ProviderRejected: ErrorCode.PROVIDER_REJECTED,
    ProviderTimeout: ErrorCode.PROVIDER_TIMEOUT,
    ProviderBusy: ErrorCode.PROVIDER_BUSY,
    ProviderCircuitOpen: ErrorCode.PROVIDER_CIRCUIT_OPEN,
    ProviderUnavailable: ErrorCode.PROVIDER_UNAVAILABLE,
    ProviderAuthError: ErrorCode.PROVIDER_AUTH_FAILED,
    ProviderRateLimited: ErrorCode.PROVIDER_RATE_LIMITED,
    ProviderBadResponse: ErrorCode.PROVIDER_BAD_RESPONSE,
    UpstreamCallLimit: ErrorCode.TOO_MANY_UPSTREAM_CALLS,
}


def code_for_provider_error(error: ProviderError) -> ErrorCode:
    """The client-facing code of a provider failure: the entry of its nearest class."""
    for cls in type(error).__mro__:
        code = _PROVIDER_CODES.get(cls)
        if code is not None:
            return code
    return ErrorCode.PROVIDER_UNAVAILABLE
