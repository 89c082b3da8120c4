"""The gateway's settings for operating it: logs, and (below) metrics, tracing, persisted
documents and HTTP conventions. `GatewaySettings` inherits them (and reads them as GATEWAY_*);
they live here to keep each module readable.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import Field, field_validator

from providers.settings import EnvironSettings

__all__ = ["LOG_LEVELS", "LogLevel", "OperatingSettings"]

LogLevel = Literal["critical", "error", "warning", "info", "debug", "trace"]
#: uvicorn's log levels, from the quietest.
LOG_LEVELS: tuple[str, ...] = get_args(LogLevel)


class OperatingSettings(EnvironSettings):
    # -- logs --------------------------------------------------------------------------------
    log_level: LogLevel = Field(default="info", description="uvicorn's and the gateway's level")
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="text, or json: one JSON object a line, each with the request's id, "
        "operation, caller and duration",
    )
    access_log: bool = Field(
        default=True,
        description="one line per request on stdout (at most 0.5 s late) with its status, "
        "operation, outcome, duration, caller and request id",
    )
    log_refused_per_second: int = Field(
        default=10, ge=0, description="log lines about refused operations a second (0: all)"
    )
    log_provider_failures_per_second: int = Field(
        default=10,
        ge=0,
        description="log lines about failed provider calls and their retries a second (0: all)",
    )
    log_bugs_per_second: int = Field(
        default=5, ge=0, description="masked bugs logged with their traceback a second (0: all)"
    )

    # -- metrics and tracing ------------------------------------------------------------------
    # Tracing reads the standard OTEL_* variables (on when OTEL_EXPORTER_OTLP_ENDPOINT is set).
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="serve the Prometheus metrics on this port, without keys, instead of at "
        "/metrics behind them (default: unset, /metrics on the API's port)",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        min_length=1,
        description="address the metrics port binds (0.0.0.0 for a Prometheus on another host)",
    )

    # -- persisted documents ------------------------------------------------------------------

    # -- HTTP conventions ---------------------------------------------------------------------
    compression: bool = Field(
        default=True,
        description="compress answers with the coding the client accepts (Accept-Encoding: "
        "zstd, br or gzip); never a subscription's stream",
    )
    compression_min_bytes: int = Field(
        default=1024,
        ge=0,
        description="answers shorter than this many bytes are sent as they are (compressing "
        "a small answer costs more than it saves)",
    )

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value
