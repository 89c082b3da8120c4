"""OpenTelemetry traces: off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is
set, and then read from the standard `OTEL_*` variables by the SDK itself (service name,
resource attributes, sampler, exporter headers and protocol: OTLP over HTTP/protobuf).

The span tree of one request:

- `query ListInvoices` (server): one per HTTP request, from the `Telemetry` middleware, a child
  of the caller's `traceparent` when it sends one;
  - `flexprice list_invoices` (internal): one per provider operation a resolver (or a loader's
    batch: `gateway.batch_size` says how many ids it asked for) calls (`traced_providers`);
    - `POST /invoices/search` (client): one per HTTP attempt, retries included; its
      `traceparent` goes to the provider with the request's `x-request-id`.

When tracing is off nothing here runs, nor is it imported (nor OpenTelemetry: 5 MB of memory):
the providers are not wrapped and no observer is added (`telemetry.tracing_from_environment`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from contextvars import Token
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from starlette.types import Scope

from gateway.telemetry.record import RequestRecord
from providers.base import InvoiceProvider

__all__ = ["RequestSpan", "Tracing", "traced_providers"]

#: The request's span and the token that makes it current until it ends.
RequestSpan = tuple[Span, Token[otel_context.Context]]


def _version() -> str:
    try:
        return version("invoice-gateway")
    except PackageNotFoundError:  # pragma: no cover - a source tree never installed
        return "0+unknown"


class Tracing:
    """A tracer provider of the gateway's own (the global one is left alone), its spans sent to
    `processor`."""

    def __init__(self, processor: SpanProcessor) -> None:
        # Resource.create reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
        resource = Resource.create({"service.name": "invoice-gateway"}).merge(
            Resource.create({"service.version": _version()})
        )
        self.provider = TracerProvider(resource=resource)
        self.provider.add_span_processor(processor)
        self.tracer = self.provider.get_tracer("invoice-gateway", _version())

    def wrap(self, providers: Mapping[str, InvoiceProvider]) -> dict[str, InvoiceProvider]:
        """`providers`, each operation of which is one span (`traced_providers`)."""
        return traced_providers(providers, self)

    def shutdown(self) -> None:
        """Send what is buffered and stop."""
        self.provider.shutdown()

    # -- the request's span -------------------------------------------------------------------

    def start_request(self, scope: Scope, record: RequestRecord) -> RequestSpan:
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        parent = propagate.extract(carrier)
        span = self.tracer.start_span(
            _span_name(record.method, record.path),
            context=parent,
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": record.method,
                "url.path": record.path,
                "gateway.request_id": record.request_id,
            },
        )
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        return span, token

    def end_request(
        self, handle: RequestSpan, record: RequestRecord, failed: BaseException | None
    ) -> None:
        span, token = handle
        try:
            if record.operation_type is not None:
                span.update_name(record.operation_label() or record.operation_type)
                span.set_attribute("graphql.operation.type", record.operation_type)
                if record.operation:
                    span.set_attribute("graphql.operation.name", record.operation)
            span.set_attribute("http.response.status_code", record.status)
            if record.outcome is not None:
                span.set_attribute("gateway.outcome", record.outcome)
            if record.caller is not None:
                span.set_attribute("gateway.caller", record.caller)
            if failed is not None:
                span.record_exception(failed)
                span.set_status(Status(StatusCode.ERROR, type(failed).__name__))
            elif record.status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            span.end()
        finally:
            otel_context.detach(token)

    # -- upstream HTTP attempts: `providers.observe.UpstreamObserver` ---------------------------

    def started(self, provider: str, method: str, route: str, headers: dict[str, str]) -> object:
        span = self.tracer.start_span(
            f"{method} {route}",
            kind=SpanKind.CLIENT,
            attributes={
                "http.request.method": method,
                "url.template": route,
                "gateway.provider": provider,
            },
        )
        propagate.inject(headers, context=trace.set_span_in_context(span))
        return span

    def finished(self, attempt: object, status: int | None, failure: str | None) -> None:
        assert isinstance(attempt, Span)
        if status is not None:
            attempt.set_attribute("http.response.status_code", status)
            if status >= 500:
                attempt.set_status(Status(StatusCode.ERROR))
        else:
            attempt.set_attribute("error.type", failure or "error")
            attempt.set_status(Status(StatusCode.ERROR, failure))
        attempt.end()


#: The gateway's own paths, which name a request's span (as OpenTelemetry's HTTP conventions
#: name it by its route); any other path a client asks for is in `url.path` alone, so that span
#: names, which tracing backends index, stay as few as the routes.
_ROUTES = frozenset({"/graphql", "/healthz", "/readyz", "/metrics"})
_WEBHOOKS = "/webhooks/"


def _span_name(method: str, path: str) -> str:
    if path in _ROUTES:
        return f"{method} {path}"
    if path.startswith(_WEBHOOKS) and "/" not in path[len(_WEBHOOKS) :]:
        return f"{method} {_WEBHOOKS}{{provider}}"
    return method


def traced_providers(
    providers: Mapping[str, InvoiceProvider], tracing: Tracing
) -> dict[str, InvoiceProvider]:
    """`providers`, each operation of which (a coroutine method) is one span."""
    traced = {name: _TracedProvider(provider, tracing) for name, provider in providers.items()}
    return traced  # type: ignore[return-value]


class _TracedProvider:
    """A provider whose coroutine methods each run in a span named `<provider> <method>`; every
    other attribute is the provider's own."""

    def __init__(self, provider: InvoiceProvider, tracing: Tracing) -> None:
        self._provider = provider
        self._tracing = tracing
        self._wrapped: dict[str, Callable[..., Any]] = {}

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._provider, name)
        if name.startswith("_") or not inspect.iscoroutinefunction(value):
            return value
        wrapped = self._wrapped.get(name)
        if wrapped is None:
            wrapped = self._wrapped[name] = self._trace(name, value)
        return wrapped

    def __repr__(self) -> str:
        return repr(self._provider)

    def _trace(self, operation: str, method: Callable[..., Any]) -> Callable[..., Any]:
        tracer = self._tracing.tracer
        provider = self._provider.name

        @functools.wraps(method)
        async def traced(*args: Any, **kwargs: Any) -> Any:
            attributes: dict[str, str | int] = {
                "gateway.provider": provider,
                "gateway.provider.operation": operation,
            }
            if args and isinstance(args[0], list | tuple):
                attributes["gateway.batch_size"] = len(args[0])
            with tracer.start_as_current_span(f"{provider} {operation}", attributes=attributes):
                return await method(*args, **kwargs)

        return traced
