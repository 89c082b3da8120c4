"""FlexPrice settings, read from `FLEXPRICE_*` environment variables.

| Variable                     | Default                          |
|------------------------------|----------------------------------|
| `FLEXPRICE_API_KEY`          | unset: the in-process sandbox    |
| `FLEXPRICE_BASE_URL`         | `https://us.api.flexprice.io/v1` |
| `FLEXPRICE_WEBHOOK_SECRET`   | unset: no Svix delivery accepted |
| `FLEXPRICE_WEBHOOK_HEADER`   | unset: no native delivery accepted |

and every field of `providers.settings.HttpSettings` as `FLEXPRICE_<FIELD>` (timeouts, deadline,
retries and retry budget, circuit breaker, bulkhead, response size cap).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Final

from pydantic import Field, SecretStr, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import SettingsConfigDict

from providers.settings import HttpSettings, header_value

__all__ = ["DEFAULT_BASE_URL", "FlexPriceSettings", "signing_key", "static_header"]

DEFAULT_BASE_URL = "https://us.api.flexprice.io/v1"

#: The least a signing secret decodes to: 128 bits (Svix's own secrets are 192).
MIN_SIGNING_KEY_BYTES: Final = 16
#: The least a native delivery's static header value holds: it is the whole check.
MIN_HEADER_SECRET_CHARACTERS: Final = 16
_SVIX_PREFIX: Final = "whsec_"
_BASE64: Final = re.compile(r"[A-Za-z0-9+/]+={0,2}")
#: An HTTP field name (RFC 9110 `token`).
_FIELD_NAME: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE: Final = re.compile(r"[!-~]([ -~]*[!-~])?")
#: Names a static header cannot take: the signed mode's own headers, and headers any HTTP
#: client sends with values anyone knows (`Content-Type: application/json` would let every
#: JSON POST in).
_TAKEN_PREFIXES: Final = ("svix-", "webhook-")
_PUBLIC_HEADERS: Final = frozenset(
    {
        "accept",
        "accept-encoding",
        "connection",
        "content-encoding",
        "content-length",
        "content-type",
        "expect",
        "host",
        "keep-alive",
        "te",
        "transfer-encoding",
        "upgrade",
        "user-agent",
    }
)


def signing_key(secret: str) -> bytes:
    """The HMAC key of a Svix endpoint signing secret (`whsec_` and base64; the prefix is
    optional, as in Svix's library). Raises `ValueError` naming the rule, never the value."""
    encoded = secret.removeprefix(_SVIX_PREFIX)
    if not _BASE64.fullmatch(encoded):
        raise ValueError("must be whsec_ followed by base64")
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError("must be whsec_ followed by base64") from exc
    if len(key) < MIN_SIGNING_KEY_BYTES:
        raise ValueError(f"must decode to at least {MIN_SIGNING_KEY_BYTES} bytes")
    return key


def static_header(setting: str) -> tuple[str, str]:
    """`Name: value` as (lower-case name, value). Raises `ValueError` naming the rule, never
    the value."""
    name, colon, value = setting.partition(":")
    name, value = name.strip(), value.strip()
    if not colon or not _FIELD_NAME.fullmatch(name):
        raise ValueError("must be `Name: value`, Name an HTTP header name")
    name = name.lower()
    if name.startswith(_TAKEN_PREFIXES) or name in _PUBLIC_HEADERS:
        raise ValueError(
            "must name a header of its own (not Content-Type, Host, User-Agent or another "
            "that every client sends, nor a svix- or webhook- header)"
        )
    if not _FIELD_VALUE.fullmatch(value):
        raise ValueError("must have a value of printable ASCII after `Name:`")
    if len(value) < MIN_HEADER_SECRET_CHARACTERS:
        raise ValueError(f"must have a value of at least {MIN_HEADER_SECRET_CHARACTERS} characters")
    return name, value


class FlexPriceSettings(HttpSettings):
    """How to reach FlexPrice. `api_key` is a `SecretStr`: reprs and logs show `**********`.

    `api_key` loses surrounding whitespace; one that is empty then, or holds a character an
    HTTP header cannot carry (whitespace, control, non-ASCII), is a validation error naming
    FLEXPRICE_API_KEY. So does `webhook_secret`, which must also be a Svix signing secret
    (`signing_key`). `webhook_header` is `Name: value` (`static_header`: kept as the lower-case
    name, `: ` and the value); both are secrets, and their errors never show them.
    """

    # A refused value may be the key itself: errors name the field and the rule, not the input.
    model_config = SettingsConfigDict(env_prefix="FLEXPRICE_", hide_input_in_errors=True)

    api_key: SecretStr | None = Field(
        default=None,
        description="FlexPrice API key (default: unset, which runs the built-in sandbox)",
    )
    base_url: str = Field(default=DEFAULT_BASE_URL, description="FlexPrice API base, /v1 included")
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="the Svix endpoint signing secret (whsec_...) FlexPrice Cloud signs webhooks "
        "with (default: unset, signed deliveries are refused)",
    )
    webhook_header: SecretStr | None = Field(
        default=None,
        description="self-hosted FlexPrice: the static header its native (unsigned) webhooks "
        "carry, as `Name: value` (default: unset, native deliveries are refused)",
    )

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

    @field_validator("webhook_secret")
    @classmethod
    def _clean_webhook_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is None:
            return None
        variable = "FLEXPRICE_WEBHOOK_SECRET"
        value = header_value(
            secret.get_secret_value(),
            variable=variable,
            error_type="webhook_secret_characters",
            alone="secret",
        )
        try:
            signing_key(value)
        except ValueError as exc:
            raise PydanticCustomError("webhook_secret", f"{variable} {exc}") from None
        return SecretStr(value)

    @field_validator("webhook_header")
    @classmethod
    def _clean_webhook_header(cls, header: SecretStr | None) -> SecretStr | None:
        if header is None:
            return None
        try:
            name, value = static_header(header.get_secret_value())
        except ValueError as exc:
            raise PydanticCustomError("webhook_header", f"FLEXPRICE_WEBHOOK_HEADER {exc}") from None
        return SecretStr(f"{name}: {value}")
