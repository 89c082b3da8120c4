"""The base of every HTTP provider and its factory: what a provider does not write again.

`HttpProvider` holds the settings, the key (`MissingCredentials` without one), the policy, the
client (built once by the subclass's `connect`) and its lifecycle, `describe`, `upstream_status`,
and `fan_out`, the bounded one-call-per-id read for an API without a batch call.
`AdapterFactory` is the `invoice_gateway.providers` entry point: settings from the environment
(errors name the variable, never its value), and the gateway's `Endpoint` in place of the
settings' key, URL and transport when it wires an in-process sandbox.

A provider is then `client.py` (an `providers.client.ApiClient`), `wire.py`, `mapping.py` and a
`provider.py` with its operations, its `connect` and its `check`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import SecretStr, ValidationError

from providers.base import Endpoint, ProviderBase
from providers.client import ApiClient
from providers.errors import MissingCredentials, NotFound
from providers.http import HttpPolicy, without_userinfo
from providers.observe import UpstreamObserver
from providers.settings import HttpSettings
from providers.transport import Transport

__all__ = ["AdapterFactory", "HttpProvider", "run_all"]

T = TypeVar("T")
S = TypeVar("S", bound=HttpSettings)
C = TypeVar("C", bound=ApiClient)
P = TypeVar("P", bound="HttpProvider[Any, Any]")


async def run_all(calls: Iterable[Awaitable[T]]) -> list[T]:
    """Run `calls` at once and return their results in order. If one fails, the others are
    cancelled and its exception is raised as itself, not as an exception group."""
    pending = list(calls)
    if len(pending) == 1:
        return [await pending[0]]
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_awaited(call)) for call in pending]
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0]  # noqa: B904 - keeps its own cause (the transport error)
    return [task.result() for task in tasks]


async def _awaited(call: Awaitable[T]) -> T:
    return await call


class HttpProvider(ProviderBase, Generic[S, C]):
    """A provider over one HTTP API: the real service, or whatever speaks it at `base_url`.

    Keyword-only construction: `settings`; `transport` to plug in an ASGI app or a script
    (default: the network, on aiohttp); `policy` to override the timeouts and retry waits the
    settings describe. Raises `MissingCredentials` when the settings hold no key.

    A subclass sets `name` and the rest of `ProviderBase`'s class attributes, `key_setting` and
    `url_setting` when its settings name them otherwise, and writes `connect` and `check`.
    """

    #: The settings field that holds the key (a `SecretStr | None`).
    key_setting: ClassVar[str] = "api_key"
    #: The settings field that holds the API's base URL.
    url_setting: ClassVar[str] = "base_url"

    settings: S
    client: C

    def __init__(
        self,
        *,
        settings: S,
        transport: Transport | None = None,
        policy: HttpPolicy | None = None,
    ) -> None:
        key = getattr(settings, self.key_setting)
        if key is None:
            raise MissingCredentials(
                self.name,
                f"{self.key_variable(type(settings))} is not set: export it, "
                f"or leave {self.name} out of GATEWAY_PROVIDERS",
            )
        self.settings = settings
        self._key: SecretStr = key
        self._policy = policy or settings.policy()
        # One bound per provider, shared by every fan-out running at the same time.
        self._in_flight = asyncio.Semaphore(self.concurrency())
        self.client = self.connect(key, transport)

    @classmethod
    def key_variable(cls, settings: type[HttpSettings]) -> str:
        """The environment variable of the key, e.g. `FLEXPRICE_API_KEY`."""
        prefix = str(settings.model_config.get("env_prefix", ""))
        return f"{prefix}{cls.key_setting}".upper()

    @property
    def base_url(self) -> str:
        return str(getattr(self.settings, self.url_setting))

    def connect(self, key: SecretStr, transport: Transport | None) -> C:
        """The client, on `self.base_url` with `key` (`ApiClient.open`), `self._policy` and
        `transport`. Called once, by the constructor."""
        raise NotImplementedError(f"{type(self).__name__} must define connect()")

    def concurrency(self) -> int:
        """How many calls one `fan_out` (all of them together) has in flight at most."""
        return 8

    def describe(self) -> str:
        """Where this provider points, never its key: `name: URL` (any user:password in the URL
        left out) and `describe_more()`."""
        return f"{self.name}: {without_userinfo(self.base_url)}{self.describe_more()}"

    def describe_more(self) -> str:
        """What `describe` adds after the URL (e.g. ", sub-account X"); nothing by default."""
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()!r})"

    async def aclose(self) -> None:
        await self.client.aclose()

    def upstream_status(self) -> dict[str, object]:
        """The HTTP guards' settings and state (circuit breaker, bulkhead, retry budget)."""
        return self.client.upstream.snapshot()

    def observe_upstream(self, observer: UpstreamObserver) -> None:
        self.client.upstream.observer = observer

    async def check(self) -> None:
        """One cheap authenticated call; raises `ProviderAuthError` for a refused key."""
        raise NotImplementedError(f"{type(self).__name__} must define check()")

    async def fan_out(
        self, ids: Sequence[str], fetch: Callable[[str], Awaitable[T]]
    ) -> list[T | None]:
        """`fetch` once per distinct id, at most `concurrency()` at once across the provider,
        for an API without a batch read. Key order kept, repeated ids share one call, a
        `NotFound` is that id's None, no call for no ids; any other failure cancels the rest
        and is raised as itself."""

        async def one(key: str) -> T | None:
            async with self._in_flight:
                try:
                    return await fetch(key)
                except NotFound:
                    return None

        distinct = list(dict.fromkeys(ids))
        if len(distinct) <= 1:
            results = [await one(key) for key in distinct]
        else:
            results = await run_all(one(key) for key in distinct)
        found = dict(zip(distinct, results, strict=True))
        return [found[key] for key in ids]


class AdapterFactory(Generic[S, P]):
    """The `invoice_gateway.providers` entry point of an `HttpProvider`: settings -> provider.

    `AdapterFactory(name="acme", settings=AcmeSettings, provider=AcmeProvider)`. Called with
    the environment, it reads `settings` from it and builds the provider; with an `endpoint`
    (the gateway wiring the in-process sandbox), the provider calls it, with its key and its
    transport, instead. Raises `MissingCredentials` without a key and without an endpoint, and
    `ValueError` naming the variable when a setting cannot be read (its value is never echoed).
    """

    def __init__(self, *, name: str, settings: type[S], provider: type[P]) -> None:
        self.name = name
        self.settings = settings
        self.provider = provider

    def __call__(
        self,
        environ: Mapping[str, str],
        *,
        endpoint: Endpoint | None = None,
        policy: HttpPolicy | None = None,
    ) -> P:
        try:
            settings = self.settings.from_environ(environ)
        except ValidationError as exc:
            problems = self.settings.problems(exc)
            raise ValueError(f"invalid {self.name} settings: {problems}") from exc
        if endpoint is None:
            return self.provider(settings=settings, policy=policy)
        on_endpoint = settings.model_copy(
            update={
                self.provider.key_setting: SecretStr(endpoint.api_key),
                self.provider.url_setting: endpoint.base_url,
            }
        )
        return self.provider(settings=on_endpoint, transport=endpoint.transport, policy=policy)

    def __repr__(self) -> str:
        return f"AdapterFactory({self.name!r})"
