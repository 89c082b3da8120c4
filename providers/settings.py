"""Typed settings read from a mapping (the environment, or a dict in tests).

Like Starlette's `Config(environ=...)`: the caller passes the mapping, so tests never see the
developer's shell and nothing reads `os.environ` behind the app factory's back.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, Self

from pydantic import Field, ValidationError
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from providers.http import HttpPolicy

__all__ = ["EnvironSettings", "HttpSettings", "header_value"]

# What an HTTP header can carry as is: printable ASCII without spaces. A newline breaks aiohttp
# and a non-ASCII character cannot be sent, both with errors far from the setting.
_HEADER_CHARACTERS = re.compile(r"[!-~]+")


def header_value(value: str, *, variable: str, error_type: str, alone: str = "value") -> str:
    """`value` without surrounding whitespace (a secret file often ends in a newline), for a
    setting sent in a header (a key, an account id). One that is empty then, or holds a
    character a header cannot carry, is a validation error naming `variable` and never echoing
    the value; use it in a `field_validator` of a settings class with `hide_input_in_errors`.
    """
    value = value.strip()
    if not _HEADER_CHARACTERS.fullmatch(value):
        raise PydanticCustomError(
            error_type,
            f"{variable} must be printable ASCII without whitespace or control characters "
            f"(surrounding whitespace is stripped): set it to the {alone} alone",
        )
    return value


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

    @classmethod
    def variables(cls) -> list[tuple[str, str, str]]:
        """(VARIABLE, default as text, description) of every setting, in field order."""
        prefix = str(cls.model_config.get("env_prefix", ""))
        inherited = {name for base in cls.__mro__[1:] for name in getattr(base, "model_fields", {})}
        # A provider's own settings first (its key, its URL), then the shared HTTP ones.
        names = sorted(cls.model_fields, key=lambda name: name in inherited)
        return [
            (
                f"{prefix}{name}".upper(),
                _shown(cls.model_fields[name].default),
                cls.model_fields[name].description or "",
            )
            for name in names
        ]

    @classmethod
    def problems(cls, error: ValidationError) -> str:
        """What is wrong with the settings, each problem named by its environment variable
        and never showing the value (it may be a secret)."""
        prefix = str(cls.model_config.get("env_prefix", ""))
        found = []
        for detail in error.errors(include_input=False, include_url=False):
            message = detail["msg"].removeprefix("Value error, ")
            if detail["loc"]:
                variable = f"{prefix}{'.'.join(map(str, detail['loc']))}".upper()
                if not message.startswith(variable):
                    message = f"{variable}: {message}"
            found.append(message)
        return "; ".join(found)


def _shown(default: Any) -> str:
    if default is None:
        return "unset"
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, tuple):
        return ",".join(map(str, default)) or "unset"
    if isinstance(default, dt.timedelta):  # as a duration setting is written: 24h, 90m, 45s
        seconds = default.total_seconds()
        for unit, size in (("h", 3600), ("m", 60)):
            if seconds >= size and seconds % size == 0:
                return f"{int(seconds // size)}{unit}"
        return f"{seconds:g}s"
    return str(default)


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
    | `max_in_flight_per_caller`     | half    | of those, the most one caller holds at once   |
    | `queue_timeout`                | 1 s     | wait for a slot before PROVIDER_BUSY          |
    """

    connect_timeout: float = Field(
        default=_POLICY.connect_timeout, gt=0, description="seconds to open a connection"
    )
    read_timeout: float = Field(
        default=_POLICY.read_timeout, gt=0, description="seconds to wait for each read"
    )
    deadline: float = Field(
        default=_POLICY.deadline,
        gt=0,
        description="seconds one call may take in all, retries and a slow body included",
    )
    max_attempts: int = Field(
        default=_POLICY.attempts, ge=1, le=10, description="tries of a retryable call"
    )
    max_response_bytes: int = Field(
        default=_POLICY.max_response_bytes, ge=1024, description="largest answer read"
    )
    retry_budget_ratio: float = Field(
        default=_POLICY.retry_budget_ratio,
        ge=0,
        le=10,
        description="retries may add this share of the calls of the last 10 s ...",
    )
    retry_budget_min_per_second: float = Field(
        default=_POLICY.retry_budget_min_per_second,
        ge=0,
        description="... plus this many retries per second",
    )
    breaker_threshold: int = Field(
        default=_POLICY.breaker_threshold,
        ge=1,
        description="failed calls in a row that open the circuit breaker",
    )
    breaker_reset_seconds: float = Field(
        default=_POLICY.breaker_reset_seconds,
        gt=0,
        description="seconds an open circuit waits before one probe call",
    )
    max_in_flight: int = Field(
        default=_POLICY.max_in_flight,
        ge=1,
        description="calls in flight at once (also the connection pool's size)",
    )
    max_in_flight_per_caller: int | None = Field(
        default=None,
        ge=1,
        description="of those, calls one caller (API key) may have in flight at once; its "
        "further calls wait for its own (default: half of MAX_IN_FLIGHT)",
    )
    queue_timeout: float = Field(
        default=_POLICY.queue_timeout,
        ge=0,
        description="seconds a call waits for a slot before PROVIDER_BUSY",
    )

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
            max_in_flight_per_caller=self.max_in_flight_per_caller,
            queue_timeout=self.queue_timeout,
        )
