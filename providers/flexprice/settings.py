"""FlexPrice settings, read from `FLEXPRICE_*` environment variables.

| Variable                     | Default                          |
|------------------------------|----------------------------------|
| `FLEXPRICE_API_KEY`          | unset: the in-process sandbox    |
| `FLEXPRICE_BASE_URL`         | `https://us.api.flexprice.io/v1` |
| `FLEXPRICE_CONNECT_TIMEOUT`  | `HttpPolicy.connect_timeout`     |
| `FLEXPRICE_READ_TIMEOUT`     | `HttpPolicy.read_timeout`        |
| `FLEXPRICE_DEADLINE`         | `HttpPolicy.deadline`            |
| `FLEXPRICE_MAX_ATTEMPTS`     | `HttpPolicy.attempts`            |
"""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import SettingsConfigDict

from providers.http import HttpPolicy
from providers.settings import EnvironSettings

__all__ = ["DEFAULT_BASE_URL", "FlexPriceSettings"]

DEFAULT_BASE_URL = "https://us.api.flexprice.io/v1"

# An HTTP header value the transports send as is: printable ASCII, no spaces. A newline breaks
# aiohttp and a non-ASCII character breaks httpx, both with errors far from the setting.
_KEY_CHARACTERS = re.compile(r"[!-~]+")

# HttpPolicy is a slots dataclass, so its defaults live on an instance, not on the class.
_POLICY = HttpPolicy()


class FlexPriceSettings(EnvironSettings):
    """How to reach FlexPrice. `api_key` is a `SecretStr`: reprs and logs show `**********`.

    `api_key` loses surrounding whitespace; one that is empty then, or holds a character an
    HTTP header cannot carry (whitespace, control, non-ASCII), is a validation error naming
    FLEXPRICE_API_KEY.
    """

    # A refused value may be the key itself: errors name the field and the rule, not the input.
    model_config = SettingsConfigDict(env_prefix="FLEXPRICE_", hide_input_in_errors=True)

    api_key: SecretStr | None = None
    base_url: str = DEFAULT_BASE_URL
    connect_timeout: float = Field(default=_POLICY.connect_timeout, gt=0)
    read_timeout: float = Field(default=_POLICY.read_timeout, gt=0)
    deadline: float = Field(default=_POLICY.deadline, gt=0)
    max_attempts: int = Field(default=_POLICY.attempts, ge=1)

    @field_validator("api_key")
    @classmethod
    def _clean_api_key(cls, key: SecretStr | None) -> SecretStr | None:
        # Surrounding whitespace is stripped (a secret file often ends in a newline); anything
        # else unsendable is refused here, naming the variable, never echoing the value.
        if key is None:
            return None
        value = key.get_secret_value().strip()
        if not _KEY_CHARACTERS.fullmatch(value):
            raise PydanticCustomError(
                "api_key_characters",
                "FLEXPRICE_API_KEY must be printable ASCII without whitespace or control "
                "characters (surrounding whitespace is stripped): set it to the key alone",
            )
        return SecretStr(value)

    def policy(self) -> HttpPolicy:
        """The HTTP policy these settings describe; backoff waits keep `HttpPolicy`'s defaults."""
        return HttpPolicy(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            deadline=self.deadline,
            attempts=self.max_attempts,
        )
