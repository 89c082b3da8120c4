"""The sandbox's in-memory state: accounts, records by id, ids, the clock and expiry.

Everything a test may inspect is a plain ``dict`` keyed by id (see the package docstring).
Records carry the ``user_id`` of the business that owns them; a request sees only the
records of its account (the key's master account, or the ``for-user-id`` sub-account).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sandboxes.kit.store import Clock, Populate, SeededState, as_utc, utc_now

from . import errors
from .records import Account, Customer, Invoice

__all__ = ["MASTER", "SUB_ACCOUNTS", "Clock", "XenditSandbox", "to_millis", "utc_now"]

MASTER_USER_ID = "5f2a8b1c9d3e4f0012a3b4c5"
MASTER = Account(user_id=MASTER_USER_ID, merchant_name="Invoice Gateway Sandbox")
#: xenPlatform sub-accounts of the sandbox key, each with a little seeded data of its own.
SUB_ACCOUNTS = (
    Account(user_id="62a1f0c3b7d94e0017c8e2a1", merchant_name="Toko Sandbox Jakarta"),
    Account(user_id="62b7e4d2a9c15f0019d3b7f2", merchant_name="Manila Sandbox Shop"),
)
_ONE_MS = timedelta(milliseconds=1)


def to_millis(at: datetime) -> datetime:
    """``at`` in UTC, cut to whole milliseconds (Xendit prints three fraction digits)."""
    at = as_utc(at)
    return at.replace(microsecond=at.microsecond - at.microsecond % 1000)


class XenditSandbox(SeededState):
    """The state behind one sandbox app.

    ``invoices`` and ``customers`` map ids to records of every account; ``accounts`` maps
    a ``user_id`` to its :class:`Account` (the master first). ``reset()`` restores the seed
    in place, so references to this object stay valid.
    """

    def __init__(self, *, populate: Populate, seed: int = 0, clock: Clock = utc_now) -> None:
        super().__init__(seed=seed, clock=clock, populate=populate)
        self.accounts: dict[str, Account] = {a.user_id: a for a in (MASTER, *SUB_ACCOUNTS)}
        self.invoices: dict[str, Invoice] = {}
        self.customers: dict[str, Customer] = {}
        #: ``(user_id, idempotency-key)`` -> customer id, for ``POST /customers`` replays.
        self.customer_keys: dict[tuple[str, str], str] = {}
        self._last_created: datetime | None = None
        self.reset()

    def clear(self) -> None:
        self.invoices.clear()
        self.customers.clear()
        self.customer_keys.clear()
        self._last_created = None

    # -- time and ids -----------------------------------------------------------------------

    def now(self) -> datetime:
        """The injected clock's time, aware UTC, in whole milliseconds."""
        return to_millis(self.clock())

    def created_stamp(self, at: datetime | None = None) -> datetime:
        """A creation time strictly after every earlier one: ``created`` is a total order."""
        candidate = to_millis(at) if at is not None else self.now()
        if self._last_created is not None and candidate <= self._last_created:
            candidate = self._last_created + _ONE_MS
        self._last_created = candidate
        return candidate

    def invoice_id(self, at: datetime) -> str:
        """24 hex digits like Xendit's: 4 bytes of epoch seconds, 8 random bytes."""
        return f"{int(at.timestamp()):08x}{self.rng.getrandbits(64):016x}"

    def customer_id(self) -> str:
        """``cust-<uuid4>`` as the Customer API mints them."""
        return f"cust-{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"

    def hex_id(self) -> str:
        """24 random hex digits (payment ids)."""
        return f"{self.rng.getrandbits(96):024x}"

    # -- accounts, lookups, expiry ----------------------------------------------------------

    def account(self, for_user_id: str | None) -> Account:
        """The account a request acts for: master, or the named sub-account (else 403)."""
        if not for_user_id:
            return MASTER
        found = self.accounts.get(for_user_id)
        if found is None:
            raise errors.forbidden_sub_account(for_user_id)
        return found

    def invoice(self, user_id: str, invoice_id: str) -> Invoice:
        """The account's invoice, or 404 ``INVOICE_NOT_FOUND_ERROR``."""
        found = self.invoices.get(invoice_id)
        if found is None or found.user_id != user_id:
            raise errors.invoice_not_found(invoice_id)
        return found

    def customer(self, user_id: str, customer_id: str) -> Customer | None:
        found = self.customers.get(customer_id)
        return found if found is not None and found.user_id == user_id else None

    def customer_by_reference(self, user_id: str, reference_id: str) -> Customer | None:
        for customer in self.customers.values():
            if customer.user_id == user_id and customer.reference_id == reference_id:
                return customer
        return None

    def lapse(self) -> list[Invoice]:
        """Every PENDING invoice whose ``expiry_date`` has passed becomes EXPIRED; returns
        them (their EXPIRED callbacks are the caller's: ``callbacks.send``).

        Runs before each API request, so a client (and the state) never shows a PENDING
        invoice past its expiry; ``updated`` and ``expired_at`` are the expiry time.
        """
        now = self.now()
        lapsed = []
        for inv in self.invoices.values():
            if inv.status == "PENDING" and inv.expiry_date <= now:
                inv.status = "EXPIRED"
                inv.expired_at = inv.expiry_date
                inv.updated = inv.expiry_date
                lapsed.append(inv)
        return lapsed
