"""What an operator sees of the gateway: the access line and JSON logs, Prometheus metrics,
OpenTelemetry traces, all fed from one `RequestRecord` per request (docs/operations.md).

- `record`: the record, current in a context variable while its request is served;
- `middleware`: `Telemetry`, the outermost ASGI middleware, which makes it and, when the request
  ends, writes its access line, counts it and ends its span;
- `metrics`: the metrics, `/metrics`, and prometheus-client's multiprocess mode;
- `tracing`: spans for requests, provider operations and upstream HTTP attempts;
- `logs`: the logging configuration of `serve`, text or JSON.
"""

from gateway.telemetry.metrics import Metrics
from gateway.telemetry.middleware import Telemetry
from gateway.telemetry.record import (
    OK,
    RequestRecord,
    current_record,
    note_outcome,
    request_id_from,
)
from gateway.telemetry.tracing import Tracing, traced_providers, tracing_from_environment

__all__ = [
    "OK",
    "Metrics",
    "RequestRecord",
    "Telemetry",
    "Tracing",
    "current_record",
    "note_outcome",
    "request_id_from",
    "traced_providers",
    "tracing_from_environment",
]
