"""The types of the gateway's settings that need more than pydantic's own reading: each an
`Annotated` type whose validator refuses a bad value with a message naming the variable and
the rule (never echoing a value that may hold a secret)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError
from pydantic import AfterValidator, BeforeValidator, SecretStr

__all__ = ["LocaleName", "Origins", "ProviderNames", "PublicUrl", "RedisUrl", "Retention"]

#: A duration: a number of seconds, or a number with a unit (s, m, h, d).
_DURATION = re.compile(r"([0-9]{1,9}(?:\.[0-9]{1,6})?)\s*([smhd]?)")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _known_locale(value: str) -> str:
    # Refused at start-up, not at the first Money.formatted of a request.
    try:
        Locale.parse(value.strip())
    except (ValueError, UnknownLocaleError):
        raise ValueError(
            f"{value!r} is not a locale Babel knows: use a CLDR name such as en_US or de_DE"
        ) from None
    return value.strip()


def _absolute_http_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise ValueError(
            "GATEWAY_PUBLIC_URL must be an absolute http(s) URL such as https://billing.example.com"
        )
    return value.strip().rstrip("/")


def _redis_scheme(value: SecretStr | None) -> SecretStr | None:
    if value is None:
        return None
    text = value.get_secret_value().strip()
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("redis", "rediss", "unix") or not (parts.netloc or parts.path):
        # The value is never echoed: it may hold a password.
        raise ValueError(
            "GATEWAY_REDIS_URL must be a redis://HOST:PORT/DB, rediss:// or unix:// URL"
        )
    return SecretStr(text)


def _duration(value: Any) -> Any:
    if isinstance(value, str):
        match = _DURATION.fullmatch(value.strip().lower())
        if match is None:
            raise ValueError(
                "GATEWAY_EVENT_RETENTION must be seconds or a number with s, m, h or d, "
                "such as 24h or 90m"
            )
        return dt.timedelta(seconds=float(match[1]) * _UNITS[match[2] or "s"])
    return value


def _retention_bounds(value: dt.timedelta) -> dt.timedelta:
    if not dt.timedelta(seconds=1) <= value <= dt.timedelta(days=365):
        raise ValueError("GATEWAY_EVENT_RETENTION must be between 1 second and 365 days")
    return value


def _origins(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())
    return value


def _provider_names(value: Any) -> Any:
    if isinstance(value, str):
        names = tuple(part.strip().lower() for part in value.split(",") if part.strip())
        if not names:
            raise ValueError("GATEWAY_PROVIDERS names no provider")
        return names
    return value


LocaleName = Annotated[str, AfterValidator(_known_locale)]
PublicUrl = Annotated[str | None, AfterValidator(_absolute_http_url)]
RedisUrl = Annotated[SecretStr | None, AfterValidator(_redis_scheme)]
Retention = Annotated[dt.timedelta, BeforeValidator(_duration), AfterValidator(_retention_bounds)]
Origins = Annotated[tuple[str, ...], BeforeValidator(_origins)]
ProviderNames = Annotated[tuple[str, ...], BeforeValidator(_provider_names)]
