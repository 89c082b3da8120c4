"""What every provider's webhook reader shares: the headers of a delivery read so that no
spelling skips a check, secrets compared in constant time, bodies decoded by msgspec into
Structs with errors that name the field and the rule, and delivery keys.

- `DeliveryHeaders`: names matched case-insensitively (ASCII only: a non-ASCII name is never
  one of ours); a header given twice (two items of a multi-valued mapping such as Starlette's
  `Headers`, or two spellings of one name in a dict) is refused, as is an empty one.
- `same_secret`: `hmac.compare_digest` over UTF-8 bytes, so a value with any character is
  compared (a `str` with a non-ASCII character would make `compare_digest` raise).
- `decode`: one msgspec call; a body that is not JSON, is nested too deeply (msgspec raises
  `RecursionError`), or is not the Struct is `WebhookMalformed` naming the field
  (`invoice.id: is required`), never echoing a value (no Struct here has enums or literals).
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
import re
from collections.abc import Mapping
from typing import Final, TypeVar

import msgspec

from providers.errors import WebhookMalformed, WebhookRefused
from providers.records import utc

__all__ = [
    "DeliveryHeaders",
    "UnknownValues",
    "decode",
    "delivery_key",
    "parse_time",
    "same_secret",
    "when",
]

T = TypeVar("T")

_UPPER: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _folded(name: str) -> str | None:
    """`name` in lower case (ASCII letters only), or None for a name that is not ASCII."""
    return name.translate(_UPPER) if name.isascii() else None


class DeliveryHeaders:
    """The headers of one delivery, by lower-case name, every value kept."""

    __slots__ = ("_provider", "_values")

    def __init__(self, provider: str, headers: Mapping[str, str]) -> None:
        self._provider = provider
        self._values: dict[str, list[str]] = {}
        # `items()` of a multi-valued mapping yields each value of a repeated header.
        for name, value in headers.items():
            folded = _folded(name)
            if folded is not None:
                self._values.setdefault(folded, []).append(value)

    def present(self, name: str) -> bool:
        """Whether `name` (lower case) was sent at all, even empty."""
        return name in self._values

    def one(self, name: str) -> str:
        """The one value of `name` (lower case), without surrounding whitespace; raises
        `WebhookRefused` when it is missing, empty or given more than once."""
        values = self._values.get(name)
        if not values:
            raise WebhookRefused(self._provider, f"the {name} header is missing")
        if len(values) > 1:
            raise WebhookRefused(self._provider, f"the {name} header is given more than once")
        value = values[0].strip()
        if not value:
            raise WebhookRefused(self._provider, f"the {name} header is empty")
        return value


def same_secret(given: str, expected: str) -> bool:
    """Whether `given` is `expected`, in time that does not depend on where they differ."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


# -- bodies -----------------------------------------------------------------------------------

_AT: Final = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_MISSING: Final = re.compile(r"Object missing required field `(?P<field>[^`]+)`")
_EXPECTED: Final = re.compile(r"Expected `(?P<want>[\w |]+)`, got `(?P<got>\w+)`")
_TOO_SHORT: Final = re.compile(r"Expected `\w+` of length >= 1")
_KINDS: Final = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "decimal": "a number",
    "bool": "true or false",
    "null": "null",
    "object": "an object",
    "array": "an array",
    "datetime": "an ISO 8601 time",
}


def _path(text: str | None) -> list[str]:
    # msgspec writes `$.invoice.items[2].id`; the domain writes `invoice.items.2.id`.
    if not text:
        return []
    return [step for step in re.split(r"[.\[\]]", text) if step]


def _malformed(provider: str, at: tuple[str, ...], error: msgspec.ValidationError) -> Exception:
    found = _AT.match(str(error))
    message = found["message"] if found else str(error)
    steps = [*at, *_path(found["path"] if found else None)]
    if missing := _MISSING.fullmatch(message):
        steps.append(missing["field"])
        rule = "is required"
    elif expected := _EXPECTED.fullmatch(message):
        want = " or ".join(_KINDS.get(kind, kind) for kind in expected["want"].split(" | "))
        rule = f"must be {want}, not {_KINDS.get(expected['got'], expected['got'])}"
    elif _TOO_SHORT.fullmatch(message):
        rule = "must not be empty"
    elif message.startswith("Invalid RFC3339"):
        rule = "must be an ISO 8601 time"
    elif message.startswith("Invalid decimal"):
        rule = "must be a number"
    else:
        rule = message[:1].lower() + message[1:]
    field = ".".join(steps) or "body"
    return WebhookMalformed(provider, f"{field}: {rule}", field=field)


def decode(
    decoder: msgspec.json.Decoder[T], data: bytes, *, provider: str, at: tuple[str, ...] = ()
) -> T:
    """`data` as the decoder's type; `WebhookMalformed` naming the field (under `at`, the path
    of `data` in the body) and the rule when it is not."""
    field = ".".join(at) or "body"
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise _malformed(provider, at, exc) from exc
    except msgspec.DecodeError as exc:
        rule = "must be UTF-8" if "UTF-8" in str(exc) else "must be JSON"
        raise WebhookMalformed(provider, f"{field}: {rule}", field=field) from exc
    except RecursionError as exc:
        raise WebhookMalformed(provider, f"{field}: is nested too deeply", field=field) from exc


# -- what an event says -----------------------------------------------------------------------


def delivery_key(*parts: str) -> str:
    """A key made of several texts, unambiguous whatever they hold: a JSON array."""
    return json.dumps(list(parts), ensure_ascii=False, separators=(",", ":"))


def parse_time(text: str | None) -> dt.datetime | None:
    """An ISO 8601 time as aware UTC (one without an offset is UTC); None when absent or not
    one."""
    if not text:
        return None
    try:
        return utc(dt.datetime.fromisoformat(text))
    except ValueError:
        return None


def when(*candidates: dt.datetime | None, received_at: dt.datetime) -> dt.datetime:
    """The first of `candidates` that is known, else the delivery's time; aware UTC."""
    for candidate in candidates:
        if candidate is not None:
            return utc(candidate) or candidate
    return utc(received_at) or received_at


class UnknownValues:
    """A value a table does not know, logged once (at most `limit` values: a misbehaving
    provider must not grow the set without bound), as the status tables do."""

    def __init__(self, logger: logging.Logger, what: str, *, limit: int = 256) -> None:
        self._logger = logger
        self._what = what
        self._limit = limit
        self._seen: set[str] = set()

    def report(self, value: str, *, mapped_to: str) -> None:
        if value in self._seen or len(self._seen) >= self._limit:
            return
        self._seen.add(value)
        self._logger.warning("unknown %s %r: read as %s", self._what, value[:64], mapped_to)
