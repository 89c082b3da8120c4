"""Typed settings read from a mapping (the environment, or a dict in tests).

Like Starlette's `Config(environ=...)`: the caller passes the mapping, so tests never see the
developer's shell and nothing reads `os.environ` behind the app factory's back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from providers.http import HttpPolicy

__all__ = ["EnvironSettings", "HttpSettings"]

# HttpPolicy is a slots dataclass, so its defaults live on an instance, not on the class.
_POLICY = HttpPolicy()


class EnvironSettings(BaseSettings):
    """Settings whose only source is `from_environ(mapping)`; names are `env_prefix + FIELD`."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Self:
        """Read `PREFIX_FIELD` keys (case-insensitive); an empty value counts as unset."""
        prefix = str(cls.model_config.get("env_prefix", ""))
        upper = {key.upper(): value for key, value in environ.items() if value != ""}
        values: dict[str, Any] = {
            name: upper[f"{prefix}{name}".upper()]
            for name in cls.model_fields
            if f"{prefix}{name}".upper() in upper
        }
        return cls(**values)


class HttpSettings(EnvironSettings):
    """The `HttpPolicy` fields a provider's settings share, read as `PREFIX_FIELD`.

    | Field                          | Default | What                                          |
    |--------------------------------|---------|-----------------------------------------------|
    | `connect_timeout`              | 3 s     | to open a connection                          |
    | `read_timeout`                 | 10 s    | between two reads of an answer                |
    | `deadline`                     | 20 s    | one call, all retries and the whole body      |
    | `max_attempts`                 | 3       | attempts of a retryable call                  |
    | `max_response_bytes`           | 8 MiB   | larger answers are refused                    |
    | `retry_budget_ratio`           | 0.2     | retries per call over the last 10 s ...       |
    | `retry_budget_min_per_second`  | 10      | ... plus this many per second                 |
    | `breaker_threshold`            | 5       | failed calls in a row that open the circuit   |
    | `breaker_reset_seconds`        | 10 s    | open this long, then one probe                |
    | `max_in_flight`                | 64      | concurrent calls (and pooled connections)     |
    | `queue_timeout`                | 1 s     | wait for a slot before PROVIDER_BUSY          |
    """

    connect_timeout: float = Field(default=_POLICY.connect_timeout, gt=0)
    read_timeout: float = Field(default=_POLICY.read_timeout, gt=0)
    deadline: float = Field(default=_POLICY.deadline, gt=0)
    max_attempts: int = Field(default=_POLICY.attempts, ge=1, le=10)
    max_response_bytes: int = Field(default=_POLICY.max_response_bytes, ge=1024)
    retry_budget_ratio: float = Field(default=_POLICY.retry_budget_ratio, ge=0, le=10)
    retry_budget_min_per_second: float = Field(default=_POLICY.retry_budget_min_per_second, ge=0)
    breaker_threshold: int = Field(default=_POLICY.breaker_threshold, ge=1)
    breaker_reset_seconds: float = Field(default=_POLICY.breaker_reset_seconds, gt=0)
    max_in_flight: int = Field(default=_POLICY.max_in_flight, ge=1)
    queue_timeout: float = Field(default=_POLICY.queue_timeout, ge=0)

    def policy(self) -> HttpPolicy:
        """The HTTP policy these settings describe; backoff waits keep `HttpPolicy`'s defaults."""
        return HttpPolicy(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            deadline=self.deadline,
            attempts=self.max_attempts,
            max_response_bytes=self.max_response_bytes,
            retry_budget_ratio=self.retry_budget_ratio,
            retry_budget_min_per_second=self.retry_budget_min_per_second,
            breaker_threshold=self.breaker_threshold,
            breaker_reset_seconds=self.breaker_reset_seconds,
            max_in_flight=self.max_in_flight,
            queue_timeout=self.queue_timeout,
        )
