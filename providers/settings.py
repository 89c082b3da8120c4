"""Typed settings read from a mapping (the environment, or a dict in tests).

Like Starlette's `Config(environ=...)`: the caller passes the mapping, so tests never see the
developer's shell and nothing reads `os.environ` behind the app factory's back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

__all__ = ["EnvironSettings"]


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
