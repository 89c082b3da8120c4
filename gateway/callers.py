"""Who may call: API keys from GATEWAY_API_KEYS, each with a scope.

A key arrives as `Authorization: Bearer KEY` or `X-API-Key: KEY`. It is compared with every
configured key in constant time, and never logged or echoed. `read` keys may query; `write` keys
may also mutate.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import StrEnum

from starlette.datastructures import Headers

__all__ = ["Caller", "Scope", "parse_api_keys"]


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True, slots=True)
class Caller:
    name: str
    scope: Scope

    def __repr__(self) -> str:
        return f"Caller(name={self.name!r}, scope={self.scope.value!r})"


@dataclass(frozen=True, slots=True)
class _Key:
    caller: Caller
    secret: bytes

    def __repr__(self) -> str:
        return f"_Key({self.caller!r})"


class Keys:
    """The configured keys; `identify` answers who a request's key belongs to."""

    def __init__(self, keys: tuple[_Key, ...]) -> None:
        self._keys = keys

    def __bool__(self) -> bool:
        return bool(self._keys)

    def __repr__(self) -> str:
        return f"Keys({[key.caller for key in self._keys]!r})"

    def identify(self, headers: Headers) -> Caller | None:
        given = _presented(headers)
        if given is None:
            return None
        found = None
        for key in self._keys:  # every key is compared, so timing says nothing of which one
            if hmac.compare_digest(key.secret, given):
                found = key.caller
        return found


def _presented(headers: Headers) -> bytes | None:
    authorization = headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip().encode()
    key = headers.get("x-api-key", "").strip()
    return key.encode() if key else None


def parse_api_keys(value: str | None) -> Keys:
    """GATEWAY_API_KEYS as `Keys`. Raises ValueError naming the entry (by position and name,
    never by key) that is not NAME:SCOPE:KEY."""
    if not value or not value.strip():
        return Keys(())
    keys: list[_Key] = []
    names: set[str] = set()
    for n, entry in enumerate(part.strip() for part in value.split(",")):
        name, scope, secret = [*entry.split(":", 2), "", ""][:3]
        # An entry without a colon may be a bare key: only a NAME before a colon is shown.
        shown = name if name and ":" in entry else ""
        where = f"GATEWAY_API_KEYS entry {n + 1}" + (f" ({shown})" if shown else "")
        if not name or not secret or scope not in ("read", "write"):
            raise ValueError(f"{where} must be NAME:SCOPE:KEY with SCOPE read or write")
        if len(secret) < 16:
            raise ValueError(f"{where}: the key must be at least 16 characters")
        if name in names:
            raise ValueError(f"{where}: the name {name} is used twice")
        names.add(name)
        keys.append(_Key(Caller(name, Scope(scope)), secret.encode()))
    return Keys(tuple(keys))
