"""How the gateway wires its providers: each from the environment, or, when it has no
credentials, to its sandbox in this process.

A provider package never knows about sandboxes. Its factory (`providers.base.ProviderFactory`)
raises `MissingCredentials` when nothing is configured; the gateway then looks up the sandbox
registered under the same name (entry-point group ``invoice_gateway.sandboxes``), builds its app
and calls the factory again with an `Endpoint` on that app (`AsgiTransport`: no socket). What was
wired is a `Wired` record: the provider, and the sandbox app when there is one. Everything that
depends on running on a sandbox (``/readyz``'s ``sandbox``, ``providers { sandbox }``, GraphiQL
by default, ``/sandbox/<name>``, the refusal to mix a real provider with a silent sandbox) reads
this record, never the provider.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Protocol, runtime_checkable

from starlette.types import Receive, Scope, Send

from providers.base import Endpoint, InvoiceProvider
from providers.errors import MissingCredentials
from providers.http import HttpPolicy
from providers.registry import load_factory
from providers.transport import AsgiTransport

__all__ = [
    "SANDBOX_ENTRY_POINTS",
    "Deliver",
    "SandboxApp",
    "SandboxEntry",
    "SendsWebhooks",
    "Wired",
    "load_sandbox",
    "on_sandbox",
    "sandbox_names",
    "wire",
    "wire_all",
    "wired",
]

SANDBOX_ENTRY_POINTS = "invoice_gateway.sandboxes"


#: How a sandbox delivers a webhook to a receiver in the same process: ``(url, headers,
#: body) -> the HTTP status the receiver answered``.
Deliver = Callable[[str, Sequence[tuple[str, str]], bytes], Awaitable[int]]


class SandboxApp(Protocol):
    """A sandbox's ASGI app, as the gateway serves it: `expose(url)` tells it its public URL
    (the links it hands out, such as FlexPrice's PDF URLs, point there)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None: ...

    def expose(self, url: str) -> None: ...


@runtime_checkable
class SendsWebhooks(Protocol):
    """A sandbox app that sends its provider's webhooks (optional: one that does not is still
    a sandbox). `webhook_settings()` is what its provider needs to authenticate them
    (environment names to values, e.g. the callback token it sends), and
    `send_webhooks_to(url, deliver)` makes it send them, from then on, to `url` through
    `deliver`: the gateway's own receiver, in process. `stop_webhooks()` stops sending
    (what is queued is dropped) and waits, bounded, for a delivery in flight: the gateway
    calls it when it shuts down."""

    def webhook_settings(self) -> Mapping[str, str]: ...

    def send_webhooks_to(self, url: str, deliver: Deliver) -> None: ...

    async def stop_webhooks(self) -> None: ...


class SandboxEntry(Protocol):
    """What an ``invoice_gateway.sandboxes`` entry point names (`sandboxes.kit.Sandbox`)."""

    @property
    def name(self) -> str: ...
    @property
    def api_key(self) -> str: ...
    @property
    def base_url(self) -> str: ...

    def app(
        self, *, api_key: str | None = None, seed: int = 0, latency_ms: int = 0
    ) -> SandboxApp: ...


@dataclass(frozen=True, slots=True)
class Wired:
    """A provider as the gateway wired it: `sandbox` is the app it calls in process, or None
    when it calls its configured API (the real one, or a sandbox served elsewhere)."""

    provider: InvoiceProvider
    sandbox: SandboxApp | None = None
    #: The published key the in-process sandbox accepts (shown in the start-up log).
    sandbox_key: str | None = None
    #: The provider was built to authenticate the sandbox's webhooks (`on_sandbox` gave it
    #: the sandbox's `webhook_settings`): the gateway then has the sandbox send them to its
    #: own receiver. A provider wired any other way is not sent them (they would be refused,
    #: and retried for as long as the sandbox's schedule lasts).
    receives_webhooks: bool = False

    @property
    def name(self) -> str:
        return self.provider.name

    @property
    def on_sandbox(self) -> bool:
        return self.sandbox is not None

    def describe(self) -> str:
        """One line for the start-up log; never a secret (a sandbox's key is published)."""
        if self.sandbox is None:
            return self.provider.describe()
        return f"{self.provider.name}: sandbox (in-process), API key {self.sandbox_key}"


def sandbox_names() -> list[str]:
    """The installed sandboxes' names."""
    return sorted(ep.name for ep in entry_points(group=SANDBOX_ENTRY_POINTS))


def load_sandbox(name: str) -> SandboxEntry | None:
    """The sandbox registered as `name`, or None."""
    for ep in entry_points(group=SANDBOX_ENTRY_POINTS, name=name):
        entry: SandboxEntry = ep.load()
        return entry
    return None


def _checked(name: str, provider: InvoiceProvider) -> InvoiceProvider:
    if provider.name != name:
        raise LookupError(
            f"the entry point {name!r} built a provider named {provider.name!r}; "
            "a provider's name must be its entry-point name"
        )
    return provider


def on_sandbox(
    name: str, environ: Mapping[str, str] | None = None, *, policy: HttpPolicy | None = None
) -> Wired:
    """The provider `name` on a fresh in-process sandbox (its settings' timeouts and limits
    still apply; the key and URL are the sandbox's). Raises LookupError without one."""
    entry = load_sandbox(name)
    if entry is None:
        raise LookupError(f"no sandbox named {name!r} is installed")
    app = entry.app()
    endpoint = Endpoint(
        base_url=entry.base_url, api_key=entry.api_key, transport=AsgiTransport(app)
    )
    # The provider authenticates the webhooks of this very app (its callback token, its
    # signing secret), whatever the environment says of the real provider's.
    settings = dict(environ or {})
    sends = False
    if isinstance(app, SendsWebhooks):
        settings.update(app.webhook_settings())
        sends = True
    provider = load_factory(name)(settings, endpoint=endpoint, policy=policy)
    return Wired(
        _checked(name, provider), sandbox=app, sandbox_key=entry.api_key, receives_webhooks=sends
    )


def wire(name: str, environ: Mapping[str, str], *, policy: HttpPolicy | None = None) -> Wired:
    """The provider `name` from `environ`; without its credentials, on its in-process sandbox
    when one is installed (else its `MissingCredentials` stands). Raises LookupError for an
    unknown name, ValueError for unreadable settings."""
    try:
        return Wired(_checked(name, load_factory(name)(environ, policy=policy)))
    except MissingCredentials:
        if load_sandbox(name) is None:
            raise
    return on_sandbox(name, environ, policy=policy)


def wire_all(names: Iterable[str], environ: Mapping[str, str]) -> dict[str, Wired]:
    """`wire` each name, in order."""
    return {name: wire(name, environ) for name in names}


def wired(providers: Mapping[str, InvoiceProvider | Wired]) -> dict[str, Wired]:
    """`providers` as records: a bare provider is one wired to its configured API."""
    return {
        name: entry if isinstance(entry, Wired) else Wired(entry)
        for name, entry in providers.items()
    }
