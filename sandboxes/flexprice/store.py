"""The sandbox's in-memory state: records by id, wallets, ids, clock and invoice numbers.

Everything a test may inspect is a plain ``dict`` keyed by id (see the package docstring).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from ulid import ULID

from sandboxes.kit.store import Clock, Populate, SeededState, utc_now

from . import errors
from .records import Customer, Invoice, Subscription

__all__ = ["EVENTS_KEPT", "Clock", "FlexPriceSandbox", "make_id", "utc_now"]

EVENTS_KEPT = 1000


def make_id(prefix: str, millis: int, rng: random.Random) -> str:
    """``<prefix>_<ULID>`` from a millisecond timestamp and 80 bits drawn from ``rng``."""
    raw = millis.to_bytes(6, "big") + rng.randbytes(10)
    return f"{prefix}_{ULID.from_bytes(raw)}"


class FlexPriceSandbox(SeededState):
    """The state behind one sandbox app.

    ``customers``, ``invoices`` and ``subscriptions`` map ids to records; ``wallets`` maps a
    customer id to ``{currency: balance}``; ``events`` lists the last `EVENTS_KEPT` webhook
    events fired (``webhooks.emit``; what went to which endpoint is in ``webhooks``, the
    outbox). ``reset()`` restores the seeded data in place, so
    references to this object stay valid.
    """

    def __init__(self, *, populate: Populate, seed: int = 0, clock: Clock = utc_now) -> None:
        super().__init__(seed=seed, clock=clock, populate=populate)
        self.customers: dict[str, Customer] = {}
        self.invoices: dict[str, Invoice] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.wallets: dict[str, dict[str, Decimal]] = {}
        #: Webhook events the real service would deliver, oldest first: (event_type, invoice id).
        self.events: list[tuple[str, str]] = []
        self._last_stamp: datetime | None = None
        self._invoice_numbers: dict[str, int] = {}
        self.reset()

    def clear(self) -> None:
        self.customers.clear()
        self.invoices.clear()
        self.subscriptions.clear()
        self.wallets.clear()
        self.events.clear()
        self._invoice_numbers.clear()
        self._last_stamp = None

    def stamp(self, at: datetime | None = None) -> datetime:
        """A creation time strictly after every earlier one, so ``created_at`` is a total order."""
        candidate = at if at is not None else self.now()
        if self._last_stamp is not None and candidate <= self._last_stamp:
            candidate = self._last_stamp + timedelta(microseconds=1)
        self._last_stamp = candidate
        return candidate

    def note_stamp(self, at: datetime) -> None:
        """Record a creation time made elsewhere (the seed), so later stamps come after it."""
        if self._last_stamp is None or at > self._last_stamp:
            self._last_stamp = at

    def new_id(self, prefix: str, at: datetime | None = None) -> str:
        """A fresh ``<prefix>_<ULID>`` whose time part is ``at`` (default: now)."""
        moment = at if at is not None else self.now()
        return make_id(prefix, int(moment.timestamp() * 1000), self.rng)

    def next_invoice_number(self, at: datetime) -> str:
        """``INV-YYYYMM-NNNNN``: a five-digit sequence that restarts every month."""
        month = at.strftime("%Y%m")
        sequence = self._invoice_numbers.get(month, 0) + 1
        self._invoice_numbers[month] = sequence
        return f"INV-{month}-{sequence:05d}"

    # -- lookups -------------------------------------------------------------------------

    def invoice(self, invoice_id: str) -> Invoice:
        """The invoice, or 404 ``not_found`` as the repository answers."""
        found = self.invoices.get(invoice_id)
        if found is None or found.status != "published":
            raise errors.not_found(
                f"Invoice with ID {invoice_id} was not found",
                details={"invoice_id": invoice_id},
            )
        return found

    def customer(self, customer_id: str) -> Customer:
        """The customer, or 404 ``not_found``."""
        found = self.customers.get(customer_id)
        if found is None or found.status != "published":
            raise errors.not_found(
                f"Customer with ID {customer_id} was not found",
                details={"customer_id": customer_id},
            )
        return found

    def customer_by_external_id(self, external_id: str) -> Customer | None:
        """The published customer with that ``external_id``, if any."""
        for customer in self.customers.values():
            if customer.external_id == external_id and customer.status == "published":
                return customer
        return None

    def subscription(self, subscription_id: str) -> Subscription:
        """The subscription, or 404 ``not_found``."""
        found = self.subscriptions.get(subscription_id)
        if found is None:
            raise errors.not_found(
                f"Subscription with ID {subscription_id} was not found",
                details={"subscription_id": subscription_id},
            )
        return found

    # -- wallets -------------------------------------------------------------------------

    def wallet_balance(self, customer_id: str, currency: str) -> Decimal:
        """The customer's prepaid balance in ``currency`` (0 without a wallet)."""
        return self.wallets.get(customer_id, {}).get(currency, Decimal(0))

    def adjust_wallet(self, customer_id: str, currency: str, delta: Decimal) -> None:
        """Add ``delta`` to the wallet, creating it when missing (void credits do)."""
        balances = self.wallets.setdefault(customer_id, {})
        balances[currency] = balances.get(currency, Decimal(0)) + delta
