"""The gateway's own settings, from `GATEWAY_*` environment variables.

Provider settings (`FLEXPRICE_*`, ...) belong to each provider package.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from gateway.callers import parse_api_keys
from providers.settings import EnvironSettings

__all__ = ["GatewaySettings"]


class GatewaySettings(EnvironSettings):
    # hide_input_in_errors: an error about GATEWAY_API_KEYS must never print the keys.
    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_", frozen=True, extra="ignore", hide_input_in_errors=True
    )

    #: Enabled providers, in the order `providers` lists them.
    providers: tuple[str, ...] = ("flexprice", "xendit")
    #: Serve GraphiQL at /graphql; unset means on when every provider is a sandbox.
    graphiql: bool | None = None
    #: Answer introspection queries (tools that generate typed clients need it).
    introspection: bool = True
    #: Locale of `Money.formatted` (a Babel/CLDR locale name such as en_US or de_DE).
    locale: str = "en_US"
    #: `first` when a connection is asked without one, and the largest `first` accepted.
    default_page_size: int = Field(default=20, ge=1)
    max_page_size: int = Field(default=100, ge=1, le=1000)
    log_level: str = "info"
    #: Where clients reach this gateway (e.g. https://billing.example.com). In-process sandboxes
    #: are served below it at /sandbox/<name>, and the links they hand out (PDFs) point there.
    #: `serve` sets it from --host and --port when unset.
    public_url: str | None = None
    #: Callers: comma-separated NAME:SCOPE:KEY, SCOPE read or write (write implies read).
    api_keys: SecretStr | None = None
    #: Serve without keys even though a real provider is configured.
    allow_anonymous: bool = False
    #: Browser origins allowed by CORS (and for WebSocket connections), comma-separated.
    cors_origins: tuple[str, ...] = ()
    #: What one request may cost (0 turns a limit off).
    max_depth: int = Field(default=10, ge=0)
    max_aliases: int = Field(default=30, ge=0)
    max_tokens: int = Field(default=1000, ge=0)
    max_root_fields: int = Field(default=30, ge=0)
    max_body_bytes: int = Field(default=1_000_000, ge=1)
    #: How long a createInvoice idempotency key is remembered after its create succeeded.
    idempotency_ttl_seconds: float = Field(default=86_400, gt=0)
    #: On SIGTERM, /readyz answers 503 for this long before the server stops accepting.
    shutdown_drain_seconds: float = Field(default=5, ge=0)
    #: Then requests in flight get this long to finish (keep it above the providers' deadline).
    shutdown_grace_seconds: float = Field(default=30, ge=0)

    @field_validator("public_url")
    @classmethod
    def _absolute_http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError(
                "GATEWAY_PUBLIC_URL must be an absolute http(s) URL such as "
                "https://billing.example.com"
            )
        return value.strip().rstrip("/")

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

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())
        return value

    @field_validator("providers", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            names = tuple(part.strip().lower() for part in value.split(",") if part.strip())
            if not names:
                raise ValueError("GATEWAY_PROVIDERS names no provider")
            return names
        return value

    #: Log records about refused operations let through a second, per process (0: all).
    log_refused_per_second: int = Field(default=10, ge=0)
