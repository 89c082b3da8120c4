"""What every Xendit mapping shares: the provider's name, and how a record's text, names,
address and metadata become the domain's (an empty text is None)."""

from __future__ import annotations

import json
from typing import Any, Final

from providers.models import Address

__all__ = ["PROVIDER", "address_of", "joined_name", "metadata_of", "text_of"]

PROVIDER: Final = "xendit"


def metadata_of(metadata: dict[str, Any] | None) -> dict[str, str]:
    """A record's `metadata` as text: strings as they are, any other value as compact JSON with
    sorted keys (`1.5` -> `"1.5"`, `true` -> `"true"`); `null` values are left out."""
    if not metadata:
        return {}
    return {
        str(key): value
        if isinstance(value, str)
        else json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        for key, value in metadata.items()
        if value is not None
    }


def text_of(value: str | None) -> str | None:
    """The text, or None when it is absent or empty."""
    return value or None


def joined_name(*parts: str | None) -> str | None:
    """The parts that are not empty, joined by spaces; None when all are."""
    return " ".join(part for part in parts if part) or None


def address_of(
    *,
    line1: str | None,
    line2: str | None,
    city: str | None,
    state: str | None,
    postal_code: str | None,
    country: str | None,
) -> Address | None:
    """A domain address (empty texts as None); None when every part is empty."""
    fields = (line1, line2, city, state, postal_code, country)
    if not any(fields):
        return None
    line1, line2, city, state, postal_code, country = (text_of(value) for value in fields)
    return Address(
        line1=line1, line2=line2, city=city, state=state, postal_code=postal_code, country=country
    )
