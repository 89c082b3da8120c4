"""The seeded invoices: every status in every main currency, with items, fees and customers.

A fixed list of (currency, status) profiles guarantees coverage; the rest are drawn with
weights. Invoices of all accounts are laid out oldest first, one to five hours apart (so
``created`` is strictly increasing and tie-free), the newest about an hour before the
anchor. Amounts are the sum of the items plus the fees.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from . import channels
from .records import Customer, EmbeddedCustomer, Invoice, InvoiceFee, InvoiceItem
from .store import MASTER, SUB_ACCOUNTS, XenditSandbox, to_millis

if TYPE_CHECKING:
    from .seed import Place

MASTER_INVOICES = 432
SUB_ACCOUNT_INVOICES = 24
_STATUSES = ("PENDING", "PAID", "SETTLED", "EXPIRED")
_STATUS_WEIGHTS = (25, 30, 30, 15)
_CURRENCIES = ("IDR", "PHP", "USD", "VND", "THB", "MYR")
_CURRENCY_WEIGHTS = (50, 25, 15, 4, 3, 3)
_CLIENT_TYPES = ("API_GATEWAY", "DASHBOARD", "INTEGRATION", "RECURRING", "MOBILE")
_CLIENT_WEIGHTS = (70, 15, 8, 5, 2)
#: Item names, and the price unit and range (in units) per currency.
_CATALOG = ("Kaos polos", "Sepatu lari", "Kopi arabika 1kg", "Langganan bulanan", "Ongkos rakit")
_PRICE_STEP = {
    "IDR": (Decimal(1000), 5, 2500),
    "VND": (Decimal(1000), 20, 5000),
    "PHP": (Decimal("0.25"), 200, 40000),
    "USD": (Decimal("0.01"), 500, 99999),
    "THB": (Decimal("0.25"), 100, 20000),
    "MYR": (Decimal("0.05"), 100, 20000),
}
_FEES = ("Shipping", "Admin fee", "Service fee")
_DAY = timedelta(days=1)


def _items(sb: XenditSandbox, code: str) -> tuple[list[InvoiceItem], list[InvoiceFee]]:
    rng = sb.rng
    unit, low, high = _PRICE_STEP[code]
    items = [
        InvoiceItem(
            name=name,
            price=unit * rng.randint(low, high),
            quantity=Decimal(rng.randint(1, 3)),
            category=rng.choice((None, "Apparel", "Food", "Services")),
        )
        for name in rng.sample(_CATALOG, rng.randint(1, 3))
    ]
    fees = [InvoiceFee(rng.choice(_FEES), unit * rng.randint(1, low))] if rng.random() < 0.5 else []
    return items, fees


def _external_id(sb: XenditSandbox, created: datetime, n: int, made: list[str]) -> str:
    style = n % 10
    if style == 7 and made:
        return sb.rng.choice(made)  # external_id is not unique on Xendit: a retried order
    if style in (3, 8):
        return f"INV/{created:%Y/%m}/{n:05d}"
    return f"order-{created:%Y%m%d}-{n:05d}"


def _embedded(customer: Customer) -> EmbeddedCustomer:
    detail = customer.individual_detail or {}
    address = (customer.addresses or [{}])[0]
    return EmbeddedCustomer(
        id=customer.id,
        customer_id=customer.id,
        given_names=str(detail.get("given_names") or customer.business_detail["business_name"]),
        surname=str(detail["surname"]) if detail.get("surname") else None,
        email=customer.email,
        mobile_number=customer.mobile_number,
        addresses=[
            {
                "country": str(address.get("country")),
                "city": str(address.get("city")),
                "state": str(address.get("province_state")),
                "postal_code": str(address.get("postal_code")),
                "street_line1": str(address.get("street_line1")),
            }
        ],
    )


def _settle_times(sb: XenditSandbox, inv: Invoice, status: str, anchor: datetime) -> None:
    """Set the status and the times after ``created`` (all before ``anchor``)."""
    rng = sb.rng
    room = anchor - inv.created
    inv.status = status
    if status == "PENDING":
        inv.expiry_date = anchor + timedelta(days=rng.randint(1, 30), seconds=rng.randrange(3600))
        return
    inv.expiry_date = inv.created + _DAY
    if status == "EXPIRED":
        lapsed = inv.expiry_date < anchor and rng.random() < 0.7
        at = inv.expiry_date if lapsed else inv.created + min(room / 2, _DAY / 2)
        inv.expired_at = inv.updated = at
        return
    inv.paid_at = inv.created + min(room / 3, timedelta(minutes=rng.randint(2, 600)))
    inv.paid_amount = inv.amount
    inv.payment_channel = rng.choice(inv.payment_methods)
    inv.payment_method = channels.method_of(inv.payment_channel)
    inv.bank_code = inv.payment_channel if channels.is_bank(inv.payment_channel) else None
    inv.payment_destination = f"8808{rng.randrange(10**9, 10**10)}"
    inv.payment_id = sb.hex_id()
    inv.updated = inv.paid_at
    if status == "SETTLED":
        inv.settled_at = inv.paid_at + min((anchor - inv.paid_at) / 2, 2 * _DAY)
        inv.updated = inv.settled_at


def _profiles(sb: XenditSandbox) -> list[tuple[str, str, str]]:
    """(user id, currency, status) per invoice, in creation order."""
    rng = sb.rng
    required = [(c, s) for c in _CURRENCIES for s in _STATUSES]
    master = [*required]
    while len(master) < MASTER_INVOICES:
        master.append(
            (
                rng.choices(_CURRENCIES, _CURRENCY_WEIGHTS)[0],
                rng.choices(_STATUSES, _STATUS_WEIGHTS)[0],
            )
        )
    rng.shuffle(master)
    rows = [(MASTER.user_id, c, s) for c, s in master]
    for account, code in zip(SUB_ACCOUNTS, ("IDR", "PHP"), strict=True):
        for n in range(SUB_ACCOUNT_INVOICES):
            rows.append((account.user_id, code, _STATUSES[n % 4]))
    rng.shuffle(rows)
    return rows


def seed_invoices(
    sb: XenditSandbox,
    people: dict[str, list[tuple[Customer, Place]]],
    *,
    anchor: datetime,
) -> None:
    """Create the seeded invoices of every account in ``sb.invoices``."""
    rng = sb.rng
    rows = _profiles(sb)
    gaps = [
        timedelta(minutes=rng.randint(60, 300), milliseconds=rng.randrange(1, 1000)) for _ in rows
    ]
    created = anchor - timedelta(minutes=50) - sum(gaps, timedelta())
    made: list[str] = []
    for n, ((user_id, code, status), gap) in enumerate(zip(rows, gaps, strict=True), start=1):
        created = sb.created_stamp(created + gap)
        account = sb.accounts[user_id]
        items, fees = _items(sb, code)
        offered = channels.channels_for(code)
        if rng.random() < 0.2 and len(offered) > 2:
            picked = set(rng.sample(offered, 3))
            offered = [c for c in offered if c in picked]
        client_type = rng.choices(_CLIENT_TYPES, _CLIENT_WEIGHTS)[0]
        local = [c for c, place in people[user_id] if place.currency == code]
        customer = rng.choice(local) if local and n % 7 else None
        inv = Invoice(
            id=sb.invoice_id(created),
            user_id=user_id,
            external_id=_external_id(sb, created, n, made),
            amount=sum((i.price * i.quantity for i in items), Decimal(0))
            + sum((f.value for f in fees), Decimal(0)),
            currency=code,
            created=created,
            updated=created,
            expiry_date=created + _DAY,
            payment_methods=offered,
            merchant_name=account.merchant_name,
            merchant_profile_picture_url=account.profile_picture_url,
            description=f"Order {n} at {account.merchant_name}",
            payer_email=customer.email if customer else None,
            should_send_email=n % 4 == 0,
            items=items,
            fees=fees or None,
            customer=_embedded(customer) if customer else None,
            client_type=client_type,
            recurring_payment_id=f"rp-{n:06d}" if client_type == "RECURRING" else None,
        )
        made.append(inv.external_id)
        _settle_times(sb, inv, status, anchor)
        for key in ("expiry_date", "updated", "paid_at", "expired_at", "settled_at"):
            value = getattr(inv, key)
            if value is not None:
                setattr(inv, key, to_millis(value))
        sb.invoices[inv.id] = inv
