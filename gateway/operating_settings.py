"""The gateway's settings for operating it: logs, and (below) metrics, tracing, persisted
documents and HTTP conventions. `GatewaySettings` inherits them (and reads them as GATEWAY_*);
they live here to keep each module readable.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import Field, field_validator, model_validator

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
    apq: bool = Field(
        default=True,
        description="automatic persisted queries (Apollo's persisted-queries link): a query "
        "sent once with its sha256 runs later from its hash alone (false: a hash is answered "
        "PERSISTED_QUERY_NOT_SUPPORTED, and the link sends the query in full)",
    )
    apq_cache_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=0,
        description="memory the persisted queries registered in this process may hold (their "
        "text), least recently used out first; a query over a sixteenth of it is run but never "
        "kept (without GATEWAY_REDIS_URL)",
    )
    apq_ttl_seconds: int = Field(
        default=7 * 24 * 3600,
        ge=1,
        description="how long a persisted query registered in Redis is kept after its last "
        "registration (with GATEWAY_REDIS_URL)",
    )
    trusted_documents: str | None = Field(
        default=None,
        description="a manifest of trusted documents by id (a path): Apollo's persisted query "
        "manifest or an {id: document} map (GraphQL Codegen, Relay, Hive); a request names one "
        "by documentId (default: unset)",
    )
    trusted_documents_only: bool = Field(
        default=False,
        description="run only the documents of GATEWAY_TRUSTED_DOCUMENTS: any other query, and "
        "registering a persisted query, is refused (TRUSTED_DOCUMENT_REQUIRED)",
    )

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

    @model_validator(mode="after")
    def _only_with_a_manifest(self) -> OperatingSettings:
        if self.trusted_documents_only and not self.trusted_documents:
            raise ValueError(
                "GATEWAY_TRUSTED_DOCUMENTS_ONLY=true needs GATEWAY_TRUSTED_DOCUMENTS, the "
                "manifest of the documents it allows"
            )
        return self

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value
