"""The gateway's own settings, from `GATEWAY_*` environment variables.

Provider settings (`FLEXPRICE_*`, ...) belong to each provider package.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from gateway.callers import parse_api_keys
from gateway.documents import DEFAULT_CACHE_BYTES
from gateway.operating_settings import LOG_LEVELS, LogLevel, OperatingSettings
from gateway.setting_types import (
    LocaleName,
    Origins,
    ProviderNames,
    PublicUrl,
    RedisUrl,
    Retention,
)

__all__ = ["LOG_LEVELS", "GatewaySettings", "LogLevel"]


class GatewaySettings(OperatingSettings):
    # hide_input_in_errors: an error about GATEWAY_API_KEYS must never print the keys.
    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_", frozen=True, extra="ignore", hide_input_in_errors=True
    )

    providers: ProviderNames = Field(
        default=("flexprice", "xendit"),
        description="providers to enable, comma-separated, in the order `providers` lists them",
    )
    graphiql: bool | None = Field(
        default=None,
        description="serve GraphiQL at /graphql (default: on when every provider is a sandbox)",
    )
    introspection: bool = Field(
        default=True, description="answer introspection (tools generate typed clients from it)"
    )
    locale: LocaleName = Field(
        default="en_US", description="locale of Money.formatted, a CLDR name such as de_DE"
    )
    default_page_size: int = Field(
        default=20, ge=1, description="`first` of a connection asked without one"
    )
    max_page_size: int = Field(
        default=100, ge=1, le=1000, description="the largest `first` (and customers(ids:)) taken"
    )
    gc_young_threshold: int = Field(
        default=10_000,
        ge=0,
        le=10_000_000,
        description="allocations between two passes of the collector over its youngest "
        "objects, in `serve` (Python's default is 700: a 50-invoice listing made one pass a "
        "request); 0 keeps Python's",
    )
    public_url: PublicUrl = Field(
        default=None,
        description="where clients reach the gateway; in-process sandboxes are served below it "
        "at /sandbox/<name> (default: http://HOST:PORT of serve)",
    )
    api_keys: SecretStr | None = Field(
        default=None,
        description="callers, comma-separated NAME:SCOPE:KEY, SCOPE read or write (default: "
        "unset, and no key is asked for)",
    )
    allow_anonymous: bool = Field(
        default=False, description="serve without keys even though a real provider is configured"
    )
    cors_origins: Origins = Field(
        default=(), description="browser origins allowed to call (CORS, WebSocket), comma-separated"
    )
    max_depth: int = Field(default=10, ge=0, description="deepest selection (0: no limit)")
    max_aliases: int = Field(default=30, ge=0, description="aliases per operation (0: no limit)")
    max_tokens: int = Field(default=1000, ge=0, description="tokens per document (0: no limit)")
    max_root_fields: int = Field(
        default=30, ge=0, description="root fields per operation (0: no limit)"
    )
    max_body_bytes: int = Field(
        default=1_000_000, ge=1, description="largest request body (and WebSocket message)"
    )
    max_header_bytes: int = Field(
        default=16_384,
        ge=1024,
        description="largest request line and headers together; more is answered 431",
    )
    headers_timeout_seconds: float = Field(
        default=10,
        gt=0,
        description="time a client has to send a request's headers, from its first byte; then "
        "408 and the connection is closed",
    )
    request_timeout_seconds: float = Field(
        default=30,
        gt=0,
        description="time a client has to send a whole request, body included, from its first "
        "byte; then 408 and the connection is closed",
    )
    max_connections: int = Field(
        default=500,
        ge=1,
        description="open connections per process; when one more arrives, the one waiting "
        "longest without a request in progress is closed for it, and only when none is, it "
        "gets 503",
    )
    document_cache_bytes: int = Field(
        default=DEFAULT_CACHE_BYTES,
        ge=0,
        description="memory the cache of parsed and validated queries may hold, estimated; a "
        "query over a sixteenth of it is never kept (0: no cache)",
    )
    max_cost: int = Field(
        default=150,
        ge=0,
        description="upstream calls an operation may make by the static estimate, checked before "
        "it runs (QUERY_TOO_COSTLY; 0: no limit)",
    )
    max_upstream_calls: int = Field(
        default=300,
        ge=0,
        description="upstream requests one operation may send while it runs, retries included; "
        "later ones fail with TOO_MANY_UPSTREAM_CALLS (0: no limit)",
    )
    idempotency_ttl_seconds: float = Field(
        default=86_400, gt=0, description="how long a createInvoice idempotency key is remembered"
    )
    redis_url: RedisUrl = Field(
        default=None,
        description="Redis that holds createInvoice idempotency keys for every process and host, "
        "redis://[:PASSWORD@]HOST:PORT/DB (rediss:// for TLS) (default: unset, and each process "
        "keeps its own keys in memory)",
    )
    idempotency_lease_seconds: float = Field(
        default=20,
        ge=0.1,
        description="with GATEWAY_REDIS_URL: a create's claim on its key lapses this long after "
        "its process stops renewing it (it died, or the create timed out and may still be "
        "made), and another may take the key over",
    )
    idempotency_wait_seconds: float = Field(
        default=30,
        gt=0,
        description="how long a repeat waits for the create holding its key before answering "
        "IDEMPOTENCY_KEY_IN_PROGRESS (never past its own GATEWAY_CREATE_DEADLINE_SECONDS)",
    )
    create_deadline_seconds: float = Field(
        default=30,
        gt=0,
        allow_inf_nan=False,
        description="how long one createInvoice may take in all: the wait for a create holding "
        "its key, then every provider call and retry; then PROVIDER_TIMEOUT (or "
        "IDEMPOTENCY_KEY_IN_PROGRESS while waiting), and a retry with the same key is safe",
    )
    allow_process_local_idempotency: bool = Field(
        default=False,
        description="let serve --workers N>1 start without GATEWAY_REDIS_URL although a provider "
        "(Xendit) cannot refuse a second create with one key: accepts duplicate invoices",
    )
    event_retention: Retention = Field(
        default=dt.timedelta(hours=24),
        description="how long provider events are kept for subscribers that resume with "
        "`after`, and deliveries remembered to drop a provider's retries: seconds, or a number "
        "with s, m, h or d (24h)",
    )
    webhook_max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="largest webhook body /webhooks/* reads (413 above)"
    )
    max_subscriptions_per_connection: int = Field(
        default=10,
        ge=1,
        description="subscriptions one WebSocket connection may have open at once "
        "(TOO_MANY_SUBSCRIPTIONS above)",
    )
    max_subscriptions_per_caller: int = Field(
        default=100,
        ge=1,
        description="subscriptions one API key (or all anonymous callers together) may have "
        "open at once in one process (TOO_MANY_SUBSCRIPTIONS above)",
    )
    heartbeat_seconds: float = Field(
        default=15,
        gt=0,
        le=3600,
        description="how often an open subscription is sent a heartbeat (a graphql-transport-ws "
        "ping, an SSE comment), so proxies keep it open and dead clients are found",
    )
    shutdown_drain_seconds: float = Field(
        default=5, ge=0, description="on SIGTERM, /readyz answers 503 this long before stopping"
    )
    shutdown_grace_seconds: float = Field(
        default=30, ge=0, description="then requests in flight get this long to finish"
    )
    readiness_cache_seconds: float = Field(
        default=2,
        ge=0,
        description="how long /readyz reuses its providers' checks (concurrent probes always "
        "share the one in flight)",
    )

    @model_validator(mode="after")
    def _default_within_max(self) -> GatewaySettings:
        if self.default_page_size > self.max_page_size:
            raise ValueError(
                f"GATEWAY_DEFAULT_PAGE_SIZE ({self.default_page_size}) must not exceed "
                f"GATEWAY_MAX_PAGE_SIZE ({self.max_page_size})"
            )
        return self

    @field_validator("api_keys")
    @classmethod
    def _readable_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_api_keys(value.get_secret_value())  # raises ValueError naming the entry
        return value

    def server_options(self) -> dict[str, Any]:
        """What `GatewayConfig` takes for the limits above (`gateway.protocol`)."""
        return {
            "max_header_bytes": self.max_header_bytes,
            "headers_timeout": self.headers_timeout_seconds,
            "request_timeout": self.request_timeout_seconds,
            "max_connections": self.max_connections,
            "ws_max_size": self.max_body_bytes,
        }
