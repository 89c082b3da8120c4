"""The interface every key store has (`IdempotencyStore`, `Claim`), what it raises, and what both
stores share: when a wait for a held key gives up (`give_up_at`), and where a store is, without
its password (`redacted_url`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

__all__ = [
    "Claim",
    "ClaimPending",
    "IdempotencyStore",
    "KeyReused",
    "StoreUnavailable",
    "give_up_at",
    "redacted_url",
]


class KeyReused(Exception):
    """The key was used for a create with another input."""


class StoreUnavailable(Exception):
    """The shared store could not be asked: no key was claimed, so nothing may be created."""


class ClaimPending(Exception):
    """Another request still holds the key after the wait: the client should retry later."""


@dataclass(slots=True)
class Claim:
    """What `claim` found: `done` holds the id of the remembered invoice; otherwise the caller
    owns the key and must `complete` or `abandon` it."""

    done: str | None = None


class IdempotencyStore(Protocol):
    #: True when every process that shares the store sees the same keys.
    shared: bool

    async def claim(
        self, caller: str, key: str, fingerprint: str, *, until: float | None = None
    ) -> Claim:
        """Own `key`, or wait for its owner and get the id of the invoice it made. Raises
        `KeyReused` when `key` was claimed with another `fingerprint`, `StoreUnavailable` when
        the store cannot be asked, `ClaimPending` when the owner did not finish in time: within
        the store's `wait`, and never past `until` (the event loop's clock), the moment the
        request's create must be over. A shared store also stops renewing the claim it gives
        at `until`, so it lapses at most one lease later whatever becomes of the request."""

    async def complete(self, caller: str, key: str, invoice_id: str) -> None:
        """Remember the invoice of a key this request owns. Never raises for the store: the
        invoice exists, and the provider's own record answers a repeat the store lost."""

    async def abandon(self, caller: str, key: str, *, in_doubt: bool = False) -> None:
        """Free a key this request owns (its create failed). `in_doubt`: the provider may still
        carry the create out (it timed out), so a shared store keeps others from creating with
        the key until the claim lapses. Never raises for the store."""

    async def status(self) -> dict[str, object]:
        """What `/readyz` shows of the store: JSON-ready, never a secret."""

    async def aclose(self) -> None: ...


def give_up_at(now: float, wait: float, until: float | None) -> float:
    """When a repeat stops waiting: after `wait`, and never past `until`."""
    return now + wait if until is None else min(now + wait, until)


def redacted_url(url: str) -> str:
    """`url` without its user name and password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    where = f"{host}:{parts.port}" if parts.port else host
    return f"{parts.scheme}://{where}{parts.path}"
