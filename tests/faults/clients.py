"""Clients that create invoices through the gateway and retry, as a careful client would.

A client sends `createInvoice` with its idempotency key and, on anything but an answer (a
transport failure, an HTTP error, a GraphQL error such as PROVIDER_UNAVAILABLE or a circuit
breaker's fast refusal), sends the very same request again after a short jittered backoff,
until it gets the invoice, gets a user error (a refusal: retrying cannot help), or runs out of
attempts or time. Everything it saw is counted in a `Tally`.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["CREATE", "Backoff", "Order", "Tally", "create_until_done"]

CREATE = """mutation Create($input: CreateInvoiceInput!) {
  createInvoice(input: $input) {
    invoice { id provider providerId }
    userErrors { code message field }
  }
}"""

#: Codes that say the gateway itself failed: never expected, whatever a provider does.
BUG_CODES = frozenset({"INTERNAL_SERVER_ERROR"})


@dataclass(frozen=True)
class Order:
    """One invoice to create: its provider, key and the mutation's `input`."""

    provider: str
    key: str
    input: dict[str, Any]


@dataclass(frozen=True)
class Backoff:
    """Waits between attempts (`first` doubling up to `most`, plus up to `jitter` of it) and
    the bounds of one order's retries: `attempts` sends, and no new send after `give_up_at`
    (the loop's clock)."""

    give_up_at: float
    attempts: int = 500
    first: float = 0.01
    most: float = 0.25
    jitter: float = 0.5

    def wait(self, failures: int, rng: random.Random) -> float:
        base = min(self.most, self.first * 2.0 ** min(failures, 16))
        return base * (1.0 + self.jitter * rng.random())


@dataclass
class Tally:
    """What the clients saw. `codes` counts failed attempts by cause: a GraphQL error code,
    `HTTP <status>`, or `transport:<exception>`."""

    requests: int = 0
    retries: int = 0
    codes: Counter[str] = field(default_factory=Counter)
    http_5xx: list[str] = field(default_factory=list)
    unmasked: list[dict[str, Any]] = field(default_factory=list)
    refused: list[tuple[str, Any]] = field(default_factory=list)
    #: key -> provider, for every key sent at least once
    attempted: dict[str, str] = field(default_factory=dict)
    #: key -> the provider invoice ids clients were given for it
    succeeded: dict[str, set[str]] = field(default_factory=dict)
    gave_up: list[str] = field(default_factory=list)

    def failures(self) -> int:
        return sum(self.codes.values())


def _errors_of(tally: Tally, errors: list[dict[str, Any]]) -> None:
    for error in errors:
        code = (error.get("extensions") or {}).get("code")
        tally.codes[str(code)] += 1
        # Masked means coded, and a code that is not the gateway's own failure.
        if not code or code in BUG_CODES:
            tally.unmasked.append(error)


async def _attempt(http: httpx.AsyncClient, order: Order, tally: Tally) -> str | bool | None:
    """One send: the invoice's provider id, False for a refusal, None to retry."""
    tally.requests += 1
    try:
        response = await http.post(
            "/graphql", json={"query": CREATE, "variables": {"input": order.input}}
        )
    except httpx.TransportError as exc:
        tally.codes[f"transport:{type(exc).__name__}"] += 1
        return None
    if response.status_code >= 500:
        tally.http_5xx.append(f"{response.status_code} {response.text[:200]}")
        tally.codes[f"HTTP {response.status_code}"] += 1
        return None
    if response.status_code != 200:
        tally.codes[f"HTTP {response.status_code}"] += 1
        tally.refused.append((order.key, response.text[:500]))
        return False
    body = response.json()
    if body.get("errors"):
        _errors_of(tally, body["errors"])
        return None
    payload = body["data"]["createInvoice"]
    if payload["userErrors"]:
        tally.refused.append((order.key, payload["userErrors"]))
        return False
    invoice = payload["invoice"]
    assert invoice["provider"] == order.provider, invoice
    provider_id: str = invoice["providerId"]
    return provider_id


async def create_until_done(
    http: httpx.AsyncClient, order: Order, tally: Tally, *, backoff: Backoff, rng: random.Random
) -> str | None:
    """Send `order` until it succeeds (its provider invoice id), is refused, or `backoff`'s
    bounds are reached (None; the key is then in `tally.gave_up`)."""
    loop = asyncio.get_running_loop()
    tally.attempted[order.key] = order.provider
    for sent in range(backoff.attempts):
        if sent:
            tally.retries += 1
        outcome = await _attempt(http, order, tally)
        if isinstance(outcome, str):
            tally.succeeded.setdefault(order.key, set()).add(outcome)
            return outcome
        if outcome is False:
            return None
        if loop.time() >= backoff.give_up_at:
            break
        await asyncio.sleep(backoff.wait(sent, rng))
    tally.gave_up.append(order.key)
    return None
