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

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from providers.http import HttpPolicy
from providers.settings import EnvironSettings

__all__ = ["DEFAULT_BASE_URL", "FlexPriceSettings"]

DEFAULT_BASE_URL = "https://us.api.flexprice.io/v1"

# HttpPolicy is a slots dataclass, so its defaults live on an instance, not on the class.
_POLICY = HttpPolicy()


class FlexPriceSettings(EnvironSettings):
    """How to reach FlexPrice. `api_key` is a `SecretStr`: reprs and logs show `**********`."""

    model_config = SettingsConfigDict(env_prefix="FLEXPRICE_")

    api_key: SecretStr | None = None
    base_url: str = DEFAULT_BASE_URL
    connect_timeout: float = Field(default=_POLICY.connect_timeout, gt=0)
    read_timeout: float = Field(default=_POLICY.read_timeout, gt=0)
    deadline: float = Field(default=_POLICY.deadline, gt=0)
    max_attempts: int = Field(default=_POLICY.attempts, ge=1)

    def policy(self) -> HttpPolicy:
        """The HTTP policy these settings describe; backoff waits keep `HttpPolicy`'s defaults."""
        return HttpPolicy(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            deadline=self.deadline,
            attempts=self.max_attempts,
        )
