"""Xendit settings, read from `XENDIT_*` environment variables.

| Variable                  | Default                                   |
|---------------------------|-------------------------------------------|
| `XENDIT_SECRET_KEY`       | unset: the in-process sandbox             |
| `XENDIT_BASE_URL`         | `https://api.xendit.co`                   |
| `XENDIT_FOR_USER_ID`      | unset: the account that owns the key      |
| `XENDIT_MAX_CONCURRENCY`  | `8` requests in flight per provider       |
| `XENDIT_CALLBACK_TOKEN`   | unset: every callback is refused          |

and every field of `providers.settings.HttpSettings` as `XENDIT_<FIELD>` (timeouts, deadline,
retries and retry budget, circuit breaker, bulkhead, response size cap).
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from providers.settings import HttpSettings, header_value

__all__ = ["DEFAULT_BASE_URL", "XenditSettings"]

DEFAULT_BASE_URL = "https://api.xendit.co"


class XenditSettings(HttpSettings):
    """How to reach Xendit. `secret_key` is a `SecretStr`: reprs and logs show `**********`.

    `secret_key` and `for_user_id` lose surrounding whitespace; one that is empty then, or holds
    a character an HTTP header cannot carry, is a validation error naming the variable.
    `callback_token`, the token Xendit's invoice callbacks carry in `x-callback-token`, is
    cleaned the same way. `max_concurrency` bounds the requests one provider has in flight for
    a fan-out (Xendit has no batch read).
    """

    # A refused value may be the key itself: errors name the field and the rule, not the input.
    model_config = SettingsConfigDict(env_prefix="XENDIT_", hide_input_in_errors=True)

    secret_key: SecretStr | None = Field(
        default=None,
        description="Xendit secret API key (default: unset, which runs the built-in sandbox)",
    )
    base_url: str = Field(default=DEFAULT_BASE_URL, description="Xendit API host")
    for_user_id: str | None = Field(
        default=None,
        description="a xenPlatform sub-account, sent as for-user-id (default: unset, the "
        "key's own account)",
    )
    max_concurrency: int = Field(
        default=8, ge=1, description="one-by-one look-ups in flight at once (no batch call)"
    )
    callback_token: SecretStr | None = Field(
        default=None,
        description="the callback verification token of the Xendit dashboard, which invoice "
        "callbacks carry in x-callback-token (default: unset, every callback is refused)",
    )

    @field_validator("secret_key")
    @classmethod
    def _clean_secret_key(cls, key: SecretStr | None) -> SecretStr | None:
        if key is None:
            return None
        value = key.get_secret_value()
        return SecretStr(
            header_value(value, variable="XENDIT_SECRET_KEY", error_type="secret_key_characters")
        )

    @field_validator("callback_token")
    @classmethod
    def _clean_callback_token(cls, token: SecretStr | None) -> SecretStr | None:
        if token is None:
            return None
        value = token.get_secret_value()
        return SecretStr(
            header_value(
                value,
                variable="XENDIT_CALLBACK_TOKEN",
                error_type="callback_token_characters",
                alone="token",
            )
        )

    @field_validator("for_user_id")
    @classmethod
    def _clean_for_user_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return header_value(
            value, variable="XENDIT_FOR_USER_ID", error_type="for_user_id_characters"
        )
