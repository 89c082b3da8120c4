"""A provider's own key out of the error text it sends back.

A 4xx message is shown to clients (it says what to fix), and a provider may quote the key it
was sent: each client wraps its error reader so the key never reaches a message, a client or
a log.
"""

from __future__ import annotations

from collections.abc import Callable

from providers.http import ErrorBody, Response

__all__ = ["REDACTED", "redacting"]

REDACTED = "[redacted]"


def redacting(
    parse_error: Callable[[Response], ErrorBody], secret: str
) -> Callable[[Response], ErrorBody]:
    """`parse_error` whose message has every occurrence of `secret` replaced by REDACTED."""

    def parse(response: Response) -> ErrorBody:
        code, message = parse_error(response)
        if secret and message and secret in message:
            message = message.replace(secret, REDACTED)
        return code, message

    return parse
