"""The ASGI app: /graphql (HTTP, WebSocket, SSE), /webhooks/<provider>, /healthz, /readyz,
GraphiQL's files at /_graphiql, the in-process sandboxes.

`create_app` builds everything long-lived (settings, providers and their HTTP clients) once; the
lifespan closes the providers. Nothing here reads `os.environ`: the caller passes the mapping.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import ASGIApp
from yarl import URL

from gateway.auth import KeyGate
from gateway.callers import parse_api_keys
from gateway.conventions import http_conventions
from gateway.events import Events, WebhookReceiver
from gateway.graphiql import graphiql_routes
from gateway.guard import RequestGuard
from gateway.logs import limit_error_logs, limit_query_logs
from gateway.readiness import Readiness, healthz
from gateway.settings import GatewaySettings
from gateway.shutdown import Drain, drain_on_sigterm
from gateway.stores import event_log, idempotency_store
from gateway.telemetry import Metrics, Telemetry, tracing_from_environment
from gateway.telemetry.access import AccessLog
from gateway.telemetry.exposition import metrics_route, sampling
from gateway.view import GatewayGraphQL
from gateway.wiring import Deliver, SendsWebhooks, Wired, wire_all, wired
from providers.base import InvoiceProvider
from providers.observe import Observers, UpstreamObserver
from providers.transport import AsgiTransport
from providers.transport.exchange import Request as TransportRequest
from providers.transport.exchange import Timeouts

if TYPE_CHECKING:  # imported only when tracing is on (gateway.telemetry.tracing_from_environment)
    from gateway.telemetry.tracing import Tracing

__all__ = [
    "create_app",
    "create_app_from_environment",
    "event_log",
    "in_process_delivery",
    "providers_from_environment",
]

logger = logging.getLogger("gateway.events")


def in_process_delivery(app: ASGIApp) -> Deliver:
    """How an in-process sandbox posts a webhook to `app`'s receiver: an ASGI call, no socket.
    The status is what the receiver answered (500 for an exception, which the sandbox retries
    as it would a real failure)."""
    transport = AsgiTransport(app)
    timeouts = Timeouts(connect=5.0, read=30.0)

    async def deliver(url: str, headers: Sequence[tuple[str, str]], body: bytes) -> int:
        request = TransportRequest(
            method="POST",
            url=URL(url),
            headers={name.lower(): value for name, value in headers},
            content=body,
        )
        try:
            response = await transport.send(request, timeouts=timeouts, max_bytes=65_536)
        except Exception:
            logger.exception("an in-process webhook delivery to %s failed", url)
            return 500
        return response.status_code

    return deliver


def create_app(
    *,
    settings: GatewaySettings,
    providers: Mapping[str, InvoiceProvider | Wired],
    tracing: Tracing | None = None,
) -> Starlette:
    """The gateway over `providers` (a bare provider calls its configured API; a `Wired` one
    may run on a sandbox in this process, served at /sandbox/<name>). The app's lifespan
    closes them on shutdown. With `tracing`, each request, provider operation and upstream call
    is a span (`gateway.telemetry.tracing`).

    Raises ValueError when GATEWAY_API_KEYS cannot be read (naming the entry, never a key)."""
    wiring = wired(providers)
    sandboxes = frozenset(name for name, entry in wiring.items() if entry.on_sandbox)
    clients = {name: entry.provider for name, entry in wiring.items()}
    limit_query_logs(per_second=settings.log_refused_per_second)
    limit_error_logs(
        provider_failures_per_second=settings.log_provider_failures_per_second,
        bugs_per_second=settings.log_bugs_per_second,
    )
    keys = parse_api_keys(settings.api_keys.get_secret_value() if settings.api_keys else None)
    graphiql = settings.graphiql
    if graphiql is None:
        graphiql = sandboxes == frozenset(wiring)
    store = idempotency_store(settings)
    metrics = Metrics()
    access_log = AccessLog(json=settings.log_format == "json") if settings.access_log else None
    observer: UpstreamObserver = metrics if tracing is None else Observers(metrics, tracing)
    for client in clients.values():
        client.observe_upstream(observer)
    events = Events(
        event_log(settings),
        clients,
        max_per_caller=settings.max_subscriptions_per_caller,
        heartbeat_seconds=settings.heartbeat_seconds,
    )
    graphql = GatewayGraphQL(
        providers=clients if tracing is None else tracing.wrap(clients),
        sandboxes=sandboxes,
        settings=settings,
        keys_required=bool(keys),
        idempotency=store,
        events=events,
        graphql_ide="graphiql" if graphiql else None,
        subscription_protocols=("graphql-transport-ws",),
        allowed_origins=settings.cors_origins,
    )

    drain = Drain()
    readiness = Readiness(wiring, store, drain, cache_seconds=settings.readiness_cache_seconds)

    senders: list[tuple[str, SendsWebhooks]] = []
    for name, entry in wiring.items():
        if entry.receives_webhooks and isinstance(entry.sandbox, SendsWebhooks):
            senders.append((name, entry.sandbox))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            with (
                drain_on_sigterm(drain, drain_seconds=settings.shutdown_drain_seconds),
                sampling(metrics, clients, settings),
            ):
                yield
        finally:
            if access_log is not None:
                access_log.flush()
            if tracing is not None:
                tracing.shutdown()
            await asyncio.gather(*(sandbox.stop_webhooks() for _, sandbox in senders))
            await readiness.close()
            await events.aclose()
            await asyncio.gather(
                *(p.aclose() for p in clients.values()), store.aclose(), graphql.persisted.aclose()
            )

    routes: list[BaseRoute] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readiness.respond, methods=["GET"]),
        *metrics_route(metrics, clients, settings),
        Route(
            "/webhooks/{provider}",
            WebhookReceiver(
                clients, events.log, max_body_bytes=settings.webhook_max_body_bytes
            ).handle,
            methods=["POST"],
        ),
    ]
    if graphiql:
        routes += graphiql_routes()
    for name, entry in wiring.items():
        if entry.sandbox is not None:
            # The in-process sandbox's API and files, on the gateway's own port: its PDF links
            # work in a browser, and a newcomer can look at /sandbox/<name>/_sandbox/stats.
            routes.append(Mount(f"/sandbox/{name}", app=entry.sandbox))
            if settings.public_url:
                entry.sandbox.expose(f"{settings.public_url.rstrip('/')}/sandbox/{name}")
    middleware = [
        # Outermost: every request has its record (request id, access line, metrics, span).
        Middleware(Telemetry, metrics=metrics, tracing=tracing, access_log=access_log),
        # Then CORS outside the key check: a browser's preflight (which carries no key) is answered
        # there and never reaches the app; its other requests get their CORS headers, a 401
        # included. Then compression, and no-store on /graphql (gateway.conventions).
        *http_conventions(settings, cors_origins=settings.cors_origins),
        # Around every route, sandboxes and GraphiQL included: no key, no entry (gateway.auth).
        Middleware(KeyGate, keys=keys),
        Middleware(RequestGuard, max_body_bytes=settings.max_body_bytes, path="/graphql"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.providers = clients
    app.state.wiring = wiring
    app.state.settings = settings
    app.state.documents = graphql.documents
    app.state.drain = drain
    app.state.idempotency = store
    app.state.events = events
    app.state.metrics = metrics
    # The in-process sandboxes send their webhooks to this app's own receivers (their
    # provider was built to authenticate them: `gateway.wiring.on_sandbox`).
    deliver = in_process_delivery(app)
    for name, sandbox in senders:
        sandbox.send_webhooks_to(f"http://gateway.internal/webhooks/{name}", deliver)
    return app


def providers_from_environment(
    settings: GatewaySettings, environ: Mapping[str, str]
) -> dict[str, Wired]:
    """The enabled providers. Raises ValueError when some are configured for real and others
    would quietly run on their sandbox beside them, unless GATEWAY_PROVIDERS chose them all:
    real invoices next to made-up ones is never what an operator meant."""
    providers = wire_all(settings.providers, environ)
    chosen = any(key.upper() == "GATEWAY_PROVIDERS" and value for key, value in environ.items())
    real = [name for name, entry in providers.items() if not entry.on_sandbox]
    sandboxed = [name for name, entry in providers.items() if entry.on_sandbox]
    if real and not settings.api_keys and not settings.allow_anonymous:
        raise ValueError(
            f"{', '.join(real)} is a real provider and no GATEWAY_API_KEYS are set: anyone "
            "could read and change its invoices. Set GATEWAY_API_KEYS (NAME:SCOPE:KEY,...), or "
            "GATEWAY_ALLOW_ANONYMOUS=true if something in front of the gateway checks callers"
        )
    if real and sandboxed and not chosen:
        raise ValueError(
            f"{', '.join(real)} is configured for real, but {', '.join(sandboxed)} has no "
            "credentials and would run on its sandbox beside it: set its credentials, or "
            f"choose the providers, e.g. GATEWAY_PROVIDERS={','.join(real)}"
        )
    return providers


def create_app_from_environment(environ: Mapping[str, str] | None = None) -> Starlette:
    """Settings and providers from the environment; what `invoice-gateway serve` runs (each
    worker of `--workers N` builds its app here)."""
    environ = os.environ if environ is None else environ
    settings = GatewaySettings.from_environ(environ)
    app = create_app(
        settings=settings,
        providers=providers_from_environment(settings, environ),
        tracing=tracing_from_environment(environ),
    )
    prepare_collector(settings)
    return app


def prepare_collector(settings: GatewaySettings) -> None:
    """Set the cyclic collector up for serving; call once the app is built, before serving.

    Everything built so far (modules, the schema, Babel's data, pydantic's validators: ~87,000
    objects) is moved out of its reach: they live as long as the process, yet every full
    collection walked them all (62-80 ms every 6-7 listing requests, bench/README.md). And its
    youngest generation is collected every `gc_young_threshold` allocations rather than 700: a
    request's objects are freed by reference counting (no request leaves a cycle), so a pass
    finds little but the requests in flight, and at 700 a 50-invoice listing paid about one
    pass (0.1-0.3 ms) each."""
    gc.collect()
    gc.freeze()
    if settings.gc_young_threshold:
        _, middle, oldest = gc.get_threshold()
        gc.set_threshold(settings.gc_young_threshold, middle, oldest)
