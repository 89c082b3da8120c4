"""The deterministic seed: 48 customers (with wallets), 24 subscriptions, 432 invoices.

For one seed value the shape never changes: ids, names, currencies, amounts, statuses and
which invoice has which. Only timestamps (and so invoice-number months and due-date overdue
status) move with the clock: they are laid out backwards from ``anchor``. Every invoice
satisfies the domain invariants (``lifecycle.check_invariants``) and its line items sum to
``amount_due``.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from .currency import precision, round_amount
from .records import ZERO, Customer, PlanCharge, Subscription
from .seed_invoices import seed_invoices
from .store import FlexPriceSandbox, make_id

SEED_EPOCH_MS = 1_704_067_200_000  # 2024-01-01: the clock-independent time part of seeded ids
CUSTOMER_COUNT = 48

# country, currency, city, state, postal code, timezone, how many units make one dollar
_PLACES = (
    ("US", "usd", "San Francisco", "CA", "94107", "America/Los_Angeles", "1"),
    ("US", "usd", "New York", "NY", "10001", "America/New_York", "1"),
    ("DE", "eur", "Berlin", "BE", "10115", "Europe/Berlin", "0.9"),
    ("FR", "eur", "Paris", "IDF", "75002", "Europe/Paris", "0.9"),
    ("NL", "eur", "Amsterdam", "NH", "1012 AB", "Europe/Amsterdam", "0.9"),
    ("IN", "inr", "Bengaluru", "KA", "560001", "Asia/Kolkata", "83"),
    ("IN", "inr", "Mumbai", "MH", "400001", "Asia/Kolkata", "83"),
    ("GB", "gbp", "London", "", "EC1A 1BB", "Europe/London", "0.8"),
    ("JP", "jpy", "Tokyo", "Tokyo", "100-0001", "Asia/Tokyo", "150"),
)
_RATE = {place[1]: Decimal(place[6]) for place in _PLACES}
_PREFIXES: tuple[str, ...] = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne")
_PREFIXES += ("Hooli", "Vandelay", "Soylent", "Tyrell", "Cyberdyne", "Wonka", "Aperture")
_PREFIXES += ("Oscorp", "Massive", "Dynamo")
_SUFFIXES = ("Labs", "Corp", "Systems", "Analytics", "Cloud", "Foods", "Logistics", "Studios")
_STREETS = ("Market St", "Main St", "Hauptstrasse", "Rue de Rivoli", "MG Road", "High St")
_PLANS = (("Starter", 49), ("Growth", 149), ("Scale", 499))


class Seeder:
    """Draws the seed from ``sb.rng``; seeded ids get a fixed time part, not the clock's."""

    def __init__(self, sb: FlexPriceSandbox, anchor: datetime) -> None:
        self.sb = sb
        self.rng: random.Random = sb.rng
        self.anchor = anchor
        self.serial = 0
        self.sequences: dict[str, int] = {}

    def new_id(self, prefix: str) -> str:
        self.serial += 1
        return make_id(prefix, SEED_EPOCH_MS + self.serial * 1000, self.rng)

    def money(self, dollars_low: int, dollars_high: int, code: str) -> Decimal:
        """A random amount with the currency's exact precision, scaled to its value."""
        cents = self.rng.randint(dollars_low * 100, dollars_high * 100)
        return round_amount(Decimal(cents) / 100 * _RATE[code], code)

    # -- customers and subscriptions ----------------------------------------------------

    def customers(self) -> list[tuple[Customer, str]]:
        out = []
        start = self.anchor - timedelta(days=500)
        for i in range(CUSTOMER_COUNT):
            country, code, city, state, postal, tz, _ = _PLACES[i % len(_PLACES)]
            name = f"{_PREFIXES[i % 16]} {_SUFFIXES[(i // 16 + i) % 8]}"
            slug = name.lower().replace(" ", "-")
            created = start + timedelta(hours=6 * i, minutes=self.rng.randint(0, 300))
            external = f"partner/{slug}" if i == 7 else f"crm-{1000 + i}"
            customer = Customer(
                id=self.new_id("cust"),
                external_id=external,
                name=name,
                created_at=created,
                updated_at=created,
                email="" if i % 13 == 12 else f"billing@{slug}.example.com",
                contact=f"+1 415 555 {100 + i:04d}" if i % 5 == 0 else "",
                address_line1=f"{self.rng.randint(1, 999)} {self.rng.choice(_STREETS)}",
                address_line2="Suite 200" if i % 4 == 0 else "",
                address_city=city,
                address_state=state,
                address_postal_code=postal,
                address_country=country,
                timezone=tz,
                metadata=(
                    {"segment": "enterprise", "crm_owner": f"owner-{i % 5}"}
                    if i % 3 == 0
                    else {"segment": "smb"}
                    if i % 3 == 1
                    else {}
                ),
            )
            self.sb.customers[customer.id] = customer
            if i % 4 != 3:
                self.sb.wallets[customer.id] = {code: self.money(0, 3000, code)}
            out.append((customer, code))
        return out

    def subscriptions(self, customers: list[tuple[Customer, str]]) -> list[Subscription]:
        out = []
        period_start = (self.anchor - timedelta(days=10)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        for i, (customer, code) in enumerate(customers):
            if i % 2:
                continue
            plan_name, fee = _PLANS[(i // 2) % len(_PLANS)]
            unit = round_amount(Decimal("0.05") * _RATE[code], code)
            if unit == ZERO:  # zero-decimal currencies: at least one minor unit per call
                unit = Decimal(1).scaleb(-precision(code))
            sub = Subscription(
                id=self.new_id("subs"),
                customer_id=customer.id,
                plan_id=self.new_id("plan"),
                plan_name=plan_name,
                currency=code,
                created_at=customer.created_at + timedelta(hours=1),
                start_date=customer.created_at + timedelta(hours=1),
                current_period_start=period_start,
                current_period_end=period_start + timedelta(days=30),
                subscription_status="cancelled" if i in (10, 30) else "active",
                charges=[
                    PlanCharge(
                        price_id=self.new_id("price"),
                        display_name=f"{plan_name} platform fee",
                        price_type="FIXED",
                        unit_amount=round_amount(Decimal(fee) * _RATE[code], code),
                    ),
                    PlanCharge(
                        price_id=self.new_id("price"),
                        display_name="API calls",
                        price_type="USAGE",
                        unit_amount=unit,
                        meter_id=self.new_id("meter"),
                        meter_display_name="API calls",
                    ),
                ],
            )
            self.sb.subscriptions[sub.id] = sub
            out.append(sub)
        return out


def populate(sb: FlexPriceSandbox, *, anchor: datetime) -> None:
    """Fill ``sb`` with the seed for ``sb.seed``, timestamps laid out before ``anchor``."""
    seeder = Seeder(sb, anchor)
    customers = seeder.customers()
    subscriptions = seeder.subscriptions(customers)
    seed_invoices(seeder, customers, subscriptions)
    for customer in sb.customers.values():
        sb.note_stamp(customer.created_at)
    for subscription in sb.subscriptions.values():
        sb.note_stamp(subscription.created_at)
