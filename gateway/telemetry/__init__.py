"""What an operator sees of the gateway: the access line and JSON logs, Prometheus metrics,
OpenTelemetry traces, all fed from one `RequestRecord` per request (docs/operations.md).

- `record`: the record, current in a context variable while its request is served;
- `middleware`: `Telemetry`, the outermost ASGI middleware, which makes it and, when the request
  ends, writes its access line, counts it and ends its span;
- `metrics`: the metrics, `/metrics`, and prometheus-client's multiprocess mode;
- `tracing`: spans for requests, provider operations and upstream HTTP attempts;
- `logs`: the logging configuration of `serve`, text or JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from gateway.telemetry.metrics import Metrics
from gateway.telemetry.middleware import Telemetry
from gateway.telemetry.record import (
    OK,
    RequestRecord,
    current_record,
    note_outcome,
    request_id_from,
)

if TYPE_CHECKING:
    from gateway.telemetry.tracing import Tracing

__all__ = [
    "OK",
    "Metrics",
    "RequestRecord",
    "Telemetry",
    "current_record",
    "note_outcome",
    "request_id_from",
    "tracing_from_environment",
]


def tracing_from_environment(environ: Mapping[str, str]) -> Tracing | None:
    """Tracing exported over OTLP (HTTP, protobuf) when `environ` names an endpoint
    (`OTEL_EXPORTER_OTLP_ENDPOINT` or `..._TRACES_ENDPOINT`) and OTEL_SDK_DISABLED is not
    true, else None. The SDK reads the other OTEL_* variables itself. OpenTelemetry is
    imported only here, when tracing is on."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    endpoints = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if not any(environ.get(name) for name in endpoints):
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from gateway.telemetry.tracing import Tracing

    return Tracing(BatchSpanProcessor(OTLPSpanExporter()))
