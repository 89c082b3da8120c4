"""What a sandbox is to the outside: a `SandboxApp` (a Starlette app that knows the URL it is
served at) and a `Sandbox`, the entry point naming how to build one, the key it accepts by
default and the URL a provider calls it at in process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request

__all__ = ["AppFactory", "Sandbox", "SandboxApp", "public_link"]


class SandboxApp(Starlette):
    """A sandbox's Starlette app. `expose(url)` tells it where browsers reach it (the gateway
    mounts an in-process sandbox at ``<public URL>/sandbox/<name>``): the links it hands out
    (`public_link`) point there from then on, whoever asked, in process or over HTTP."""

    public_url: str | None = None

    def expose(self, url: str) -> None:
        self.public_url = url.rstrip("/")


def public_link(request: Request, name: str, **params: Any) -> str:
    """The absolute URL of the route `name`: under the app's public URL once it was exposed,
    else as the request reached it (its host and mount path)."""
    app = request.app
    public = app.public_url if isinstance(app, SandboxApp) else None
    if public is None:
        return str(request.url_for(name, **params))
    return public + str(app.url_path_for(name, **params))


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

    def app(self, *, api_key: str | None = None, seed: int = 0, latency_ms: int = 0) -> SandboxApp:
        """A fresh app with its seeded data; it accepts `api_key` (default: the public one)."""
        return self.create_app(api_key=api_key or self.api_key, seed=seed, latency_ms=latency_ms)
