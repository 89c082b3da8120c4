"""JSON bodies: `exact_json` writes money as exact numbers (never through a float),
`decode_json` reads an answer or says it is not JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from providers.errors import ProviderBadResponse
from providers.transport import Response

__all__ = ["decode_json", "exact_json"]


def exact_json(value: object) -> bytes:
    """Compact JSON in which every `Decimal` is written as its own digits: a JSON number that
    never passes through a float (for APIs that take money as numbers). Floats are refused."""
    out: list[str] = []
    _write(value, out)
    return "".join(out).encode()


def _write(value: object, out: list[str]) -> None:
    if value is None or isinstance(value, bool | str):
        out.append(json.dumps(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite number")
        out.append(format(value, "f"))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, Mapping):
        out.append("{")
        for n, (key, item) in enumerate(value.items()):
            out.append(("," if n else "") + json.dumps(str(key)) + ":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for n, item in enumerate(value):
            if n:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"{type(value).__name__} is not written as exact JSON")


def decode_json(provider: str, response: Response) -> Any:
    """The JSON body, or `ProviderBadResponse` when it is not JSON."""
    try:
        return json.loads(response.content)
    except ValueError as exc:
        raise ProviderBadResponse(
            provider,
            f"{provider} answered HTTP {response.status_code} with a body that is not JSON",
        ) from exc
