"""What an answer's status means: the error for a non-2xx answer (`error_for_status`), the
statuses a call may retry and how long an answer asks to wait (`Retry-After`)."""

from __future__ import annotations

import datetime as dt
import email.utils

from providers.errors import (
    Conflict,
    NotFound,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from providers.transport import Response

__all__ = [
    "RETRYABLE_STATUSES",
    "ErrorBody",
    "RetryableStatus",
    "error_for_status",
    "retry_after",
]

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})

#: What a provider's error body says: (its error code, a message safe to show a client).
ErrorBody = tuple[str | None, str | None]


class RetryableStatus(Exception):
    """An answer `Upstream` may retry (its status is in `RETRYABLE_STATUSES`)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def retry_after(response: Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def error_for_status(provider: str, response: Response, body: ErrorBody) -> ProviderError:
    """The error for a non-2xx answer. Only 4xx messages are passed on: 5xx text stays in logs."""
    status = response.status_code
    code, message = body
    if status in (401, 403):
        return ProviderAuthError(
            provider,
            f"{provider} refused the gateway's credentials (HTTP {status}): check its API key",
            status=status,
            provider_code=code,
        )
    if status == 429:
        return ProviderRateLimited(
            provider, f"{provider} is rate limiting the gateway", status=status, provider_code=code
        )
    if status >= 500:
        return ProviderUnavailable(
            provider, f"{provider} answered HTTP {status}", status=status, provider_code=code
        )
    text = message or f"{provider} refused the request (HTTP {status})"
    cls: type[ProviderRejected] = ProviderRejected
    if status == 404:
        cls = NotFound
    elif status == 409:
        cls = Conflict
    return cls(provider, text, status=status, provider_code=code)
