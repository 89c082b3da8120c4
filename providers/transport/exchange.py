"""What a transport exchanges and how it fails: `Request` in, `Response` out (its whole body),
`Timeouts` per attempt, the `Transport` protocol `providers.http.Upstream` sends through, and
the only errors a transport raises."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from yarl import URL

__all__ = [
    "AttemptTimeout",
    "ConnectionLost",
    "Request",
    "Response",
    "ResponseTooLarge",
    "Timeouts",
    "Transport",
    "TransportError",
    "Unreachable",
    "UnreadableResponse",
]


# -- what goes in and comes out -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Per attempt, in seconds: to open a connection, and between two reads of the answer."""

    connect: float
    read: float


@dataclass(slots=True)
class Request:
    """One request as sent: `url` is absolute and already encoded; header names lower-case."""

    method: str
    url: URL
    headers: Mapping[str, str]
    content: bytes | None = None


@dataclass(slots=True)
class Response:
    """A status, its headers (looked up by lower-case name) and the whole body, decoded from
    any content encoding."""

    status_code: int
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes = b""

    @classmethod
    def of(
        cls,
        status_code: int,
        *,
        json: Any = None,
        text: str | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """A response built by hand (a script, a test): `json`, `text` or `content` as body."""
        found = {name.lower(): value for name, value in (headers or {}).items()}
        body = content or b""
        if json is not None:
            body = jsonlib.dumps(json).encode()
            found.setdefault("content-type", "application/json")
        elif text is not None:
            body = text.encode()
            found.setdefault("content-type", "text/plain; charset=utf-8")
        found.setdefault("content-length", str(len(body)))
        return cls(status_code, found, body)

    def json(self) -> Any:
        """The body as JSON with Python's default types (for scripts and tests; the providers
        decode bodies into their own records)."""
        return jsonlib.loads(self.content)


# -- what can go wrong --------------------------------------------------------------------------


class TransportError(Exception):
    """The exchange failed below HTTP. Its text is for logs, never for a client."""


class Unreachable(TransportError):
    """No connection was made (refused, no such host, TLS refused, not an HTTP URL): the request
    was not sent."""


class ConnectionLost(TransportError):
    """Connected, then the connection broke before the answer was whole: the request may have
    been carried out."""


class AttemptTimeout(TransportError):
    """The connection or the next piece of the answer took longer than `Timeouts` allow."""


class UnreadableResponse(Exception):
    """An answer arrived that is not HTTP as it should be (a malformed status line, a body
    that does not match its encoding)."""


class ResponseTooLarge(Exception):
    """The body is longer than `max_bytes` (declared, or as read)."""


class Transport(Protocol):
    """What `Upstream` needs to exchange one request for one response."""

    async def send(self, request: Request, *, timeouts: Timeouts, max_bytes: int) -> Response:
        """Send `request`; return the answer with its whole body (at most `max_bytes`).

        Raises `TransportError` (one of its three kinds), `UnreadableResponse` or
        `ResponseTooLarge`. Cancelling it abandons the exchange and frees the connection.
        """
        ...

    async def aclose(self) -> None:
        """Close what it holds (connections); it is not used afterwards."""
        ...
