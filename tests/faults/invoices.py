"""Invoices to create, and the count that decides: what the sandbox itself holds per key."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from providers.xendit.drafts import external_id_for
from tests.faults.clients import Order, Tally
from tests.faults.stack import Sandbox

__all__ = ["Census", "census", "order_for", "problems"]

_MONEY = {"flexprice": ("USD", "12.50"), "xendit": ("IDR", "15000")}


def order_for(sandbox: Sandbox, key: str, n: int) -> Order:
    """The `n`th order of a run: customers and quantities vary, the key is `key`."""
    customers = sandbox.customer_ids()
    currency, unit = _MONEY[sandbox.name]
    return Order(
        provider=sandbox.name,
        key=key,
        input={
            "customerId": sandbox.customer_gid(customers[n % len(customers)]),
            "currency": currency,
            "idempotencyKey": key,
            "lineItems": [
                {"description": f"fault run {key}", "quantity": str(1 + n % 3), "unitAmount": unit}
            ],
        },
    )


@dataclass
class Census:
    """The invoices a sandbox holds that it did not hold at `baseline`: per client key (for
    Xendit, the `external_id` the key becomes), and `strays`, those with no client key."""

    provider: str
    by_key: dict[str, list[str]] = field(default_factory=dict)
    strays: list[str] = field(default_factory=list)
    #: when each of those invoices was made, by the sandbox's clock
    created: dict[str, str] = field(default_factory=dict)

    def total(self) -> int:
        return sum(map(len, self.by_key.values())) + len(self.strays)


def census(sandbox: Sandbox, *, baseline: set[str], keys: Iterable[str]) -> Census:
    """Read from the sandbox's own store (in this loop: a consistent snapshot)."""
    if sandbox.name == "xendit":
        wanted = {external_id_for(key): key for key in keys}
    else:
        wanted = {key: key for key in keys}
    found = Census(provider=sandbox.name)
    for invoice_id, invoice in list(sandbox.store.invoices.items()):
        if invoice_id in baseline:
            continue
        if sandbox.name == "xendit":
            held, made = invoice.external_id, invoice.created
        else:
            held, made = invoice.idempotency_key, invoice.created_at
        found.created[invoice_id] = made.isoformat(timespec="milliseconds")
        key = wanted.get(held)
        if key is None:
            found.strays.append(invoice_id)
        else:
            found.by_key.setdefault(key, []).append(invoice_id)
    return found


def problems(found: Census, tally: Tally, *, settled: bool) -> list[str]:
    """What is wrong with `found` given what the clients of `found.provider` were told.

    Always: no key held by two invoices, no invoice without a client key, every key a client
    was told succeeded held by exactly the invoice it was given. `settled` (faults off, every
    client done): every attempted key held exactly once.
    """
    wrong: list[str] = []
    mine = {key for key, provider in tally.attempted.items() if provider == found.provider}
    for key, ids in sorted(found.by_key.items()):
        if len(ids) > 1:
            made = ", ".join(f"{i} at {found.created[i]}" for i in ids)
            wrong.append(f"{found.provider}: key {key!r} is held by {len(ids)} invoices: {made}")
    wrong.extend(f"{found.provider}: invoice {i} carries no client key" for i in found.strays)
    for key in sorted(mine & set(tally.succeeded)):
        given = tally.succeeded[key]
        held = found.by_key.get(key, [])
        if len(given) != 1 or set(held) != given:
            wrong.append(
                f"{found.provider}: key {key!r}: clients were given {sorted(given)}, "
                f"the sandbox holds {held}"
            )
    if settled:
        lost = sorted(key for key in mine if not found.by_key.get(key))
        wrong.extend(f"{found.provider}: key {key!r} was never created" for key in lost)
    return wrong
