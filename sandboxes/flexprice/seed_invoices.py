"""The seeded invoices: every invoice status, every payment status, five currencies.

A fixed list of (type, invoice status, payment status) profiles guarantees coverage; the
rest are drawn with weights, then all are shuffled and laid out about a day apart, oldest
first, ending just before the anchor (so the last month's due dates lie in the future).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from .billing import charges_for
from .currency import round_amount
from .lifecycle import check_invariants
from .records import ZERO, Customer, Invoice, LineItem, Subscription

if TYPE_CHECKING:
    from .seed import Seeder

INVOICE_COUNT = 432

_ONE_OFF_ITEMS = (
    ("Implementation services", "FIXED"),
    ("Premium support", "FIXED"),
    ("Training workshop", "FIXED"),
    ("Data migration", "FIXED"),
    ("Hardware token", "FIXED"),
    ("Overage: API calls", "USAGE"),
)
_PAYMENT_WEIGHTS = (
    ("SUCCEEDED", 45),
    ("PENDING", 25),
    ("FAILED", 8),
    ("PROCESSING", 4),
    ("INITIATED", 4),
    ("OVERPAID", 4),
    ("REFUNDED", 4),
    ("PARTIALLY_REFUNDED", 4),
    ("VOIDED", 2),
)
_PAID = ("SUCCEEDED", "OVERPAID", "REFUNDED", "PARTIALLY_REFUNDED")


@dataclass(frozen=True)
class _Profile:
    invoice_type: str
    invoice_status: str
    payment_status: str


def _profiles(seeder: Seeder) -> list[_Profile]:
    rng = seeder.rng
    required = [
        _Profile(kind, "FINALIZED", payment)
        for kind in ("ONE_OFF", "SUBSCRIPTION")
        for payment, _ in _PAYMENT_WEIGHTS
    ]
    required += [
        _Profile(kind, "VOIDED", payment)
        for kind in ("ONE_OFF", "SUBSCRIPTION")
        for payment in ("PENDING", "SUCCEEDED", "FAILED")
    ]
    required += [_Profile("ONE_OFF", "DRAFT", "PENDING")] * 2
    required += [_Profile("SUBSCRIPTION", "DRAFT", "PENDING")] * 3
    required += [_Profile("SUBSCRIPTION", "SKIPPED", "PENDING")] * 3
    required += [
        _Profile("CREDIT", "FINALIZED", "SUCCEEDED"),
        _Profile("CREDIT", "FINALIZED", "PENDING"),
        _Profile("CREDIT", "DRAFT", "PENDING"),
    ]
    profiles = list(required)
    statuses = [p for p, _ in _PAYMENT_WEIGHTS]
    weights = [w for _, w in _PAYMENT_WEIGHTS]
    while len(profiles) < INVOICE_COUNT:
        kind = rng.choices(("ONE_OFF", "SUBSCRIPTION", "CREDIT"), (52, 42, 6))[0]
        status = rng.choices(("FINALIZED", "DRAFT", "VOIDED", "SKIPPED"), (72, 10, 12, 6))[0]
        if status == "SKIPPED" and kind != "SUBSCRIPTION":
            status = "FINALIZED"
        payment = "PENDING"
        if status == "FINALIZED":
            payment = rng.choices(statuses, weights)[0]
        elif status == "VOIDED":
            payment = rng.choices(("PENDING", "SUCCEEDED", "FAILED"), (6, 3, 1))[0]
        profiles.append(_Profile(kind, status, payment))
    rng.shuffle(profiles)
    return profiles


def _one_off_lines(seeder: Seeder, inv: Invoice, at: datetime) -> list[LineItem]:
    rng = seeder.rng
    count = 1 if inv.invoice_type == "CREDIT" else rng.randint(1, 3)
    out = []
    for _ in range(count):
        if inv.invoice_type == "CREDIT":
            name, price_type, quantity = "Prepaid credits top-up", "FIXED", Decimal(1)
        else:
            name, price_type = rng.choice(_ONE_OFF_ITEMS)
            quantity = Decimal(rng.randint(1, 10 if price_type == "FIXED" else 5000))
        out.append(
            LineItem(
                id=seeder.new_id("inv_line"),
                invoice_id=inv.id,
                customer_id=inv.customer_id,
                currency=inv.currency,
                amount=seeder.money(20, 2500, inv.currency),
                quantity=quantity,
                created_at=at,
                updated_at=at,
                display_name=name,
                price_type=price_type,
            )
        )
    return out


def _settle(seeder: Seeder, inv: Invoice, profile: _Profile, finalized: datetime | None) -> None:
    """Payment amounts and dates consistent with the profile's payment status."""
    rng, due = seeder.rng, inv.amount_due
    status = profile.payment_status
    inv.payment_status = status
    inv.amount_paid, inv.amount_remaining = ZERO, due
    if status == "PENDING" and profile.invoice_status == "FINALIZED" and rng.random() < 0.15:
        inv.amount_paid = round_amount(due * Decimal("0.4"), inv.currency)
        inv.amount_remaining = due - inv.amount_paid
    if status in _PAID:
        inv.amount_paid, inv.amount_remaining = due, ZERO
        latest = seeder.anchor - timedelta(minutes=1)
        base = finalized or inv.created_at
        inv.paid_at = min(base + timedelta(days=rng.randint(0, 20), hours=1), latest)
    if status == "OVERPAID":
        inv.amount_paid = due + seeder.money(1, 50, inv.currency)
    elif status == "REFUNDED":
        inv.refunded_amount = due
    elif status == "PARTIALLY_REFUNDED":
        inv.refunded_amount = round_amount(due * Decimal("0.3"), inv.currency)


def _invoice(
    seeder: Seeder,
    index: int,
    profile: _Profile,
    customers: list[tuple[Customer, str]],
    subscriptions: list[Subscription],
) -> Invoice:
    rng, anchor = seeder.rng, seeder.anchor
    start = anchor - timedelta(days=415)
    created = start + timedelta(hours=23 * index, minutes=rng.randint(0, 600))
    sub: Subscription | None = None
    if profile.invoice_type == "SUBSCRIPTION":
        sub = rng.choice(subscriptions)
        customer_id, code = sub.customer_id, sub.currency
    else:
        customer, code = rng.choice(customers)
        customer_id = customer.id
        if rng.random() < 0.1:
            code = "usd" if code != "usd" else "eur"
    scope = "subscription_invoice" if sub else "one_off_invoice"
    inv = Invoice(
        id=seeder.new_id("inv"),
        customer_id=customer_id,
        invoice_type=profile.invoice_type,
        currency=code,
        idempotency_key=f"{scope}-{rng.getrandbits(64):016x}",
        created_at=created,
        updated_at=created,
        issue_date=created,
        billing_reason="MANUAL",
    )
    computed = created + timedelta(seconds=1)
    if sub is not None:
        sequence = seeder.sequences.get(sub.id, 0) + 1
        seeder.sequences[sub.id] = sequence
        inv.subscription_id, inv.subscription_customer_id = sub.id, sub.customer_id
        inv.billing_sequence, inv.billing_period = sequence, sub.billing_period
        inv.billing_reason = "SUBSCRIPTION_CREATE" if sequence == 1 else "SUBSCRIPTION_CYCLE"
        inv.period_end = created.replace(hour=0, minute=0, second=0, microsecond=0)
        inv.period_start = inv.period_end - timedelta(days=30)
        inv.line_items = charges_for(
            sub, inv, sequence=sequence, line_id=lambda: seeder.new_id("inv_line"), at=computed
        )
        if profile.invoice_status == "SKIPPED":
            inv.line_items = inv.line_items[-1:]
            inv.line_items[0].quantity = inv.line_items[0].amount = ZERO
    else:
        inv.line_items = _one_off_lines(seeder, inv, computed)
        first = inv.line_items[0].display_name or "Services"
        inv.description = f"{first} - {created:%B %Y}"
        if rng.random() < 0.4:
            inv.metadata = {"order_id": f"ORD-{10000 + index}"}
    inv.subtotal = inv.total = inv.amount_due = sum((li.amount for li in inv.line_items), ZERO)
    inv.last_computed_at = computed
    finalized = None
    if profile.invoice_status == "FINALIZED" or (
        profile.invoice_status == "VOIDED"
        and (profile.payment_status == "SUCCEEDED" or rng.random() < 0.5)
    ):
        finalized = created + timedelta(minutes=5)
        inv.finalized_at = finalized
        inv.invoice_number = seeder.sb.next_invoice_number(finalized)
        if rng.random() < 0.05:
            inv.invoice_pdf_url = f"https://files.example.com/invoices/{inv.id}.pdf"
    if profile.invoice_status != "SKIPPED":
        inv.due_date = (finalized or created) + timedelta(days=30)
        _settle(seeder, inv, profile, finalized)
    inv.invoice_status = profile.invoice_status
    if profile.invoice_status == "VOIDED":
        latest = anchor - timedelta(minutes=1)
        inv.voided_at = min(created + timedelta(days=rng.randint(1, 40)), latest)
    moments = [inv.finalized_at, inv.paid_at, inv.voided_at, computed]
    inv.updated_at = max(m for m in moments if m is not None)
    check_invariants(inv)
    return inv


def seed_invoices(
    seeder: Seeder, customers: list[tuple[Customer, str]], subscriptions: list[Subscription]
) -> None:
    """Create the seeded invoices in creation order (so ``created_at`` strictly increases)."""
    for index, profile in enumerate(_profiles(seeder)):
        inv = _invoice(seeder, index, profile, customers, subscriptions)
        seeder.sb.invoices[inv.id] = inv
        seeder.sb.note_stamp(inv.created_at)
