"""What every HTTP provider's client shares: the upstream it is built on, the auth that hides its
key, our user agent, path segments, error bodies and decoding answers into wire records.

A provider's `client.py` subclasses `ApiClient` and keeps only its API: one method per
endpoint, its error body (`parse_error`, written with `error_body`) and its odd status codes.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import ClassVar, TypeVar
from urllib.parse import quote

import msgspec
from pydantic import SecretStr

from providers.errors import NotFound, ProviderBadResponse
from providers.http import ErrorBody, HttpPolicy, Response, Upstream
from providers.records import Record, decode_list, decode_object
from providers.redaction import redacting
from providers.transport import Transport

__all__ = [
    "MAX_MESSAGE",
    "ApiClient",
    "ApiKeyAuth",
    "Auth",
    "BasicAuth",
    "ErrorParser",
    "RoutedPath",
    "decode_record",
    "decode_records",
    "error_body",
    "routed",
    "segment",
    "user_agent",
]

#: An upstream error message is shown to clients: a runaway body is cut to this many characters.
MAX_MESSAGE = 500

R = TypeVar("R", bound=Record)
C = TypeVar("C", bound="ApiClient")

#: A provider's reader of its error bodies: (code, message), never raising.
ErrorParser = Callable[[Response], ErrorBody]


def user_agent() -> str:
    """`invoice-gateway/<version>`, the user agent every provider sends."""
    try:
        return f"invoice-gateway/{version('invoice-gateway')}"
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "invoice-gateway/0+unknown"


def segment(provider: str, value: str) -> str:
    """`value` as one path segment, whatever it holds ("/" included, quoted).

    "", "." and ".." would be removed by URL normalisation and reach another route; no
    provider's ids are empty or dots, so they are `NotFound` without a call.
    """
    if value in ("", ".", ".."):
        raise NotFound(provider, f"{provider} has no record with id {value!r}", status=404)
    return quote(value, safe="")


class RoutedPath(str):
    """A request path (segments quoted) that remembers its template, `route`: what the call
    is observed under (`providers.observe`), ids left out."""

    route: str


def routed(provider: str, template: str, *values: str) -> RoutedPath:
    """`template` with each `{}` replaced by the next of `values` as one path segment
    (`segment`); its route is the template with `{id}` in their place."""
    parts = template.split("{}")
    if len(parts) != len(values) + 1:
        raise ValueError(f"{template!r} takes {len(parts) - 1} values, not {len(values)}")
    path = RoutedPath(
        parts[0]
        + "".join(segment(provider, v) + rest for v, rest in zip(values, parts[1:], strict=True))
    )
    path.route = "{id}".join(parts)
    return path


def error_body(code: str | None, message: str | None) -> ErrorBody:
    """(code, message) as `Upstream` takes them from a `parse_error`, the message cut to
    `MAX_MESSAGE` characters (it reaches clients)."""
    return code, message[:MAX_MESSAGE] if message else None


def _not_json(provider: str, response: Response) -> ProviderBadResponse:
    return ProviderBadResponse(
        provider, f"{provider} answered HTTP {response.status_code} with a body that is not JSON"
    )


def decode_record(provider: str, model: type[R], response: Response) -> R:
    """The body as one `model`; `ProviderBadResponse` when it is not JSON, or not that record."""
    try:
        return decode_object(model, response.content)
    except msgspec.ValidationError as exc:
        raise ProviderBadResponse(
            provider,
            f"{provider} answered HTTP {response.status_code} with a body that is not "
            f"a {model.__name__}",
        ) from exc
    except msgspec.DecodeError as exc:
        raise _not_json(provider, response) from exc


def decode_records(provider: str, model: type[R], response: Response) -> list[R]:
    """The body as a JSON array of `model`; `ProviderBadResponse` as `decode_record` says."""
    try:
        return decode_list(model, response.content)
    except msgspec.ValidationError as exc:
        raise ProviderBadResponse(
            provider,
            f"{provider} answered HTTP {response.status_code} with a body that is not "
            f"a list of {model.__name__}",
        ) from exc
    except msgspec.DecodeError as exc:
        raise _not_json(provider, response) from exc


class Auth:
    """How a provider's key goes on every request. Its repr never shows the key, and the
    headers it makes are the upstream's `credentials`, which no repr or snapshot shows."""

    def __init__(self, key: SecretStr) -> None:
        self._key = key

    @property
    def secret(self) -> str:
        """The key itself, for `redacting`: an error body that quotes it shows it as `***`."""
        return self._key.get_secret_value()

    def headers(self) -> dict[str, str]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(**********)"


class ApiKeyAuth(Auth):
    """The key alone in one header (`x-api-key: <key>`, FlexPrice's)."""

    def __init__(self, key: SecretStr, *, header: str = "x-api-key") -> None:
        super().__init__(key)
        self.header = header

    def headers(self) -> dict[str, str]:
        return {self.header: self.secret}


class BasicAuth(Auth):
    """HTTP Basic with the key as user name and an empty password (Xendit's)."""

    def headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.secret}:".encode()).decode("ascii")
        return {"authorization": f"Basic {token}"}


class ApiClient:
    """A provider's client: its `upstream`, `aclose`, and `open` to build one.

    Subclasses set `provider` (its name, in every error) and add one method per endpoint,
    each through `self.upstream.request` and `decode_record` / `decode_records`.
    """

    provider: ClassVar[str] = "api"

    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream

    @classmethod
    def open(
        cls: type[C],
        *,
        base_url: str,
        auth: Auth,
        policy: HttpPolicy,
        parse_error: ErrorParser,
        headers: Mapping[str, str] | None = None,
        transport: Transport | None = None,
    ) -> C:
        """A client whose every request carries `accept: application/json`, our `user-agent`,
        `headers` and the `auth` headers (as `credentials`: never shown); `parse_error`'s
        messages have the key redacted. `transport` defaults to the network
        (`providers.http.build_transport`)."""
        sent = {"accept": "application/json", "user-agent": user_agent(), **(headers or {})}
        return cls(
            Upstream(
                provider=cls.provider,
                base_url=base_url,
                policy=policy,
                parse_error=redacting(parse_error, auth.secret),
                headers=sent,
                credentials=auth.headers(),
                transport=transport,
            )
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.upstream!r})"

    async def aclose(self) -> None:
        await self.upstream.aclose()
