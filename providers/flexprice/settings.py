"""FlexPrice settings, read from `FLEXPRICE_*` environment variables.

| Variable                     | Default                          |
|------------------------------|----------------------------------|
| `FLEXPRICE_API_KEY`          | unset: the in-process sandbox    |
| `FLEXPRICE_BASE_URL`         | `https://us.api.flexprice.io/v1` |

and every field of `providers.settings.HttpSettings` as `FLEXPRICE_<FIELD>` (timeouts, deadline,
retries and retry budget, circuit breaker, bulkhead, response size cap).
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from providers.settings import HttpSettings, header_value

__all__ = ["DEFAULT_BASE_URL", "FlexPriceSettings"]

DEFAULT_BASE_URL = "https://us.api.flexprice.io/v1"


class FlexPriceSettings(HttpSettings):
    """How to reach FlexPrice. `api_key` is a `SecretStr`: reprs and logs show `**********`.

    `api_key` loses surrounding whitespace; one that is empty then, or holds a character an
    HTTP header cannot carry (whitespace, control, non-ASCII), is a validation error naming
    FLEXPRICE_API_KEY.
    """

    # A refused value may be the key itself: errors name the field and the rule, not the input.
    model_config = SettingsConfigDict(env_prefix="FLEXPRICE_", hide_input_in_errors=True)

    api_key: SecretStr | None = Field(
        default=None,
        description="FlexPrice API key (default: unset, which runs the built-in sandbox)",
    )
    base_url: str = Field(default=DEFAULT_BASE_URL, description="FlexPrice API base, /v1 included")

    @field_validator("api_key")
    @classmethod
    def _clean_api_key(cls, key: SecretStr | None) -> SecretStr | None:
        if key is None:
            return None
        value = key.get_secret_value()
        return SecretStr(
            header_value(
                value, variable="FLEXPRICE_API_KEY", error_type="api_key_characters", alone="key"
            )
        )
