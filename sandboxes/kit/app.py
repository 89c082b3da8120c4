"""What a sandbox is to the outside: a `SandboxApp` (a Starlette app that knows the URL it is
served at) and a `Sandbox`, the entry point naming how to build one, the key it accepts by
default and the URL a provider calls it at in process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from sandboxes.kit.controls import SandboxControls
from sandboxes.kit.routing import Endpoint, api_route
from sandboxes.kit.webhook_routes import WebhookSender, webhook_routes
from sandboxes.kit.webhooks import Outbox

__all__ = ["AppFactory", "Sandbox", "SandboxApp", "build_app", "public_link"]

E = TypeVar("E", bound=Endpoint[Any])


class SandboxApp(Starlette):
    """A sandbox's Starlette app. `expose(url)` tells it where browsers reach it (the gateway
    mounts an in-process sandbox at ``<public URL>/sandbox/<name>``): the links it hands out
    (`public_link`) point there from then on, whoever asked, in process or over HTTP."""

    public_url: str | None = None
    #: How this sandbox's provider sends webhooks (None: it sends none), see `build_app`.
    webhook_sender: WebhookSender | None = None

    def expose(self, url: str) -> None:
        self.public_url = url.rstrip("/")

    def _outbox(self) -> Outbox:
        outbox: Outbox = self.state.sandbox.webhooks
        return outbox

    def webhook_settings(self) -> Mapping[str, str]:
        """What a provider needs to authenticate this sandbox's webhooks (its signing secret
        or callback token, by the provider's variable name; none for a sandbox that sends
        none)."""
        return {} if self.webhook_sender is None else dict(self.webhook_sender.settings())

    def send_webhooks_to(
        self, url: str, deliver: Callable[[str, Sequence[tuple[str, str]], bytes], Awaitable[int]]
    ) -> None:
        """From now on, send this sandbox's webhooks to `url` through `deliver` (a receiver
        in this process), as an endpoint registered with the provider's defaults (a no-op for
        a sandbox that sends none)."""
        if self.webhook_sender is None:
            return
        outbox = self._outbox()
        outbox.register(self.webhook_sender.endpoint(outbox, url, {}, deliver=deliver))

    async def stop_webhooks(self) -> None:
        """Stop sending webhooks: what is queued is dropped, the deliveries under way are
        cancelled and waited for (at most `sandboxes.kit.webhooks.STOP_WAIT_S`)."""
        if self.webhook_sender is not None:
            await self._outbox().stop()


@asynccontextmanager
async def _lifespan(app: SandboxApp) -> AsyncIterator[None]:
    """A sandbox served on its own (``invoice-gateway sandbox``) stops its webhooks when the
    server stops; mounted in the gateway, the gateway calls `stop_webhooks` itself."""
    yield
    await app.stop_webhooks()


def public_link(request: Request, name: str, **params: Any) -> str:
    """The absolute URL of the route `name`: under the app's public URL once it was exposed,
    else as the request reached it (its host and mount path)."""
    app = request.app
    public = app.public_url if isinstance(app, SandboxApp) else None
    if public is None:
        return str(request.url_for(name, **params))
    return public + str(app.url_path_for(name, **params))


def build_app(
    *,
    state: object,
    endpoints: Iterable[E],
    serve: Callable[[E], Callable[[Request], Awaitable[Response]]],
    failure: Callable[[], Response],
    refuse: Callable[[int], Response],
    control_routes: Sequence[BaseRoute],
    not_found: Callable[[Request, Exception], Awaitable[Response]],
    latency_ms: int = 0,
    seed: int = 0,
    middleware: Sequence[Middleware] = (),
    webhooks: WebhookSender | None = None,
) -> SandboxApp:
    """A sandbox's app over `state` (``app.state.sandbox``): one `api_route` per endpoint,
    answered by ``serve(endpoint)`` and counted and faulted by its `SandboxControls`
    (``app.state.controls``: `refuse` answers an injected error status in the provider's
    shape; `latency_ms` is what ``DELETE /_sandbox/faults`` goes back to; `seed` seeds the
    fault draws), then the ``/_sandbox`` routes, with ``/_sandbox/webhooks`` when the sandbox
    sends webhooks (`webhooks`: how; ``state.webhooks`` is their outbox). An unknown path or
    method is `not_found`."""
    controls = SandboxControls(refuse=refuse, latency_ms=latency_ms, seed=seed)
    routes = [
        api_route(endpoint, serve(endpoint), controls=controls, failure=failure)
        for endpoint in endpoints
    ]
    hooks = webhook_routes(webhooks) if webhooks is not None else []
    app = SandboxApp(
        routes=[*routes, *control_routes, *hooks],
        middleware=list(middleware),
        exception_handlers={404: not_found, 405: not_found},
        lifespan=_lifespan,
    )
    app.state.sandbox = state
    app.state.controls = controls
    app.webhook_sender = webhooks
    return app


#: Builds a sandbox's app: ``(*, api_key, seed, latency_ms) -> SandboxApp``.
AppFactory = Callable[..., SandboxApp]


@dataclass(frozen=True, slots=True)
class Sandbox:
    """One simulator, as the entry-point group ``invoice_gateway.sandboxes`` names it.

    `create_app` builds a fresh app (``api_key``, ``seed``, ``latency_ms`` keywords);
    `api_key` is the published key it accepts unless given another (not a secret);
    `base_url` is what a provider is given as its API's URL when it calls the app in process:
    a made-up host (never resolved) and the API's own path prefix.
    """

    name: str
    create_app: AppFactory
    api_key: str
    base_url: str

    def app(
        self, *, api_key: str | None = None, seed: int = 0, latency_ms: int = 0, **options: str
    ) -> SandboxApp:
        """A fresh app with its seeded data; it accepts `api_key` (default: the public one).
        `options` are the sandbox's own keywords (FlexPrice's ``webhook_secret``, Xendit's
        ``callback_token``); the factory refuses one it does not take (TypeError)."""
        return self.create_app(
            api_key=api_key or self.api_key, seed=seed, latency_ms=latency_ms, **options
        )
