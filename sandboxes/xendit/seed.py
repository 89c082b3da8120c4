"""The deterministic seed: customers and invoices for the master account and two sub-accounts.

The master account gets 48 customers and 432 invoices, each sub-account 6 and 24. For one
seed value everything but the timestamps is fixed; times are laid out backwards from
``anchor`` (the clock at reset), so seeded PENDING invoices are payable "now".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .records import Account, Customer
from .seed_invoices import seed_invoices
from .store import MASTER, SUB_ACCOUNTS, XenditSandbox

MASTER_CUSTOMERS = 48
SUB_ACCOUNT_CUSTOMERS = 6


@dataclass(frozen=True)
class Place:
    """Where a customer lives: currency, country and the names and numbers used there."""

    currency: str
    country: str
    city: str
    province: str
    postal_code: str
    phone_prefix: str
    given_names: tuple[str, ...]
    surnames: tuple[str, ...]


PLACES = (
    Place(
        "IDR", "ID", "Jakarta Selatan", "DKI Jakarta", "12190", "+62812",
        ("Budi", "Siti", "Agus", "Dewi", "Rizky", "Putri", "Andi", "Ayu"),
        ("Santoso", "Wijaya", "Pratama", "Lestari", "Saputra", "Hidayat"),
    ),
    Place(
        "IDR", "ID", "Bandung", "Jawa Barat", "40115", "+62813",
        ("Indra", "Maya", "Yusuf", "Rina"), ("Kusuma", "Nugroho", "Halim"),
    ),
    Place(
        "PHP", "PH", "Makati", "Metro Manila", "1226", "+63917",
        ("Juan", "Maria", "Jose", "Andrea", "Miguel", "Patricia"),
        ("Santos", "Reyes", "Cruz", "Bautista", "Garcia"),
    ),
    Place(
        "USD", "US", "San Francisco", "CA", "94107", "+1415",
        ("Emily", "James", "Olivia", "Noah"), ("Smith", "Johnson", "Brown", "Miller"),
    ),
    Place(
        "VND", "VN", "Ho Chi Minh City", "Ho Chi Minh", "700000", "+8490",
        ("Linh", "Minh"), ("Nguyen", "Tran"),
    ),
    Place(
        "THB", "TH", "Bangkok", "Bangkok", "10110", "+6681", ("Somchai", "Niran"), ("Srisuk",),
    ),
    Place(
        "MYR", "MY", "Kuala Lumpur", "Wilayah Persekutuan", "50450", "+6012",
        ("Aisyah", "Hafiz"), ("Rahman", "Tan"),
    ),
)  # fmt: skip
#: How many of every 16 master customers live in each place (IDR, IDR, PHP, USD, VND, THB, MYR).
_PLACE_CYCLE = (0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 5, 6)
_BUSINESSES = ("Warung", "Kopi", "Studio", "Trading", "Digital", "Logistik")


def _customer(
    sb: XenditSandbox, account: Account, place: Place, index: int, created: datetime
) -> Customer:
    rng = sb.rng
    given, surname = rng.choice(place.given_names), rng.choice(place.surnames)
    business = index % 6 == 5
    name = f"{given}.{surname}.{index}".lower()
    customer = Customer(
        id=sb.customer_id(),
        user_id=account.user_id,
        reference_id=f"CUS-{place.country}-{index:05d}",
        created=created,
        updated=created + timedelta(days=rng.randint(0, 20)),
        type="BUSINESS" if business else "INDIVIDUAL",
        email=f"{name}@example.com",
        mobile_number=f"{place.phone_prefix}{rng.randrange(10**7, 10**8)}",
        description=None if index % 3 else f"Seeded {place.country} customer",
        addresses=[
            {
                "category": "HOME",
                "country": place.country,
                "province_state": place.province,
                "city": place.city,
                "postal_code": place.postal_code,
                "street_line1": f"Jl. Sandbox No. {rng.randint(1, 200)}",
                "street_line2": None,
                "is_primary": True,
                "status": "ACTIVE",
            }
        ],
        metadata={"segment": rng.choice(("retail", "smb", "enterprise"))},
    )
    customer.updated = max(customer.updated, created)
    if business:
        customer.business_detail = {
            "business_name": f"{rng.choice(_BUSINESSES)} {surname}",
            "business_type": "CORPORATION",
            "business_domicile": place.country,
        }
    else:
        customer.individual_detail = {
            "given_names": given,
            "surname": surname,
            "nationality": place.country,
        }
    return customer


def _customers(
    sb: XenditSandbox, account: Account, places: list[Place], start: datetime
) -> list[tuple[Customer, Place]]:
    out: list[tuple[Customer, Place]] = []
    for index, place in enumerate(places):
        created = start + timedelta(hours=index * 7, milliseconds=sb.rng.randrange(1000))
        customer = _customer(sb, account, place, index + 1, created)
        sb.customers[customer.id] = customer
        out.append((customer, place))
    return out


def populate(sb: XenditSandbox, *, anchor: datetime) -> None:
    """Fill ``sb`` with the seed for ``sb.rng``'s state, timestamps ending before ``anchor``."""
    start = anchor - timedelta(days=150)
    people = {
        MASTER.user_id: _customers(
            sb,
            MASTER,
            [PLACES[_PLACE_CYCLE[i % len(_PLACE_CYCLE)]] for i in range(MASTER_CUSTOMERS)],
            start,
        )
    }
    for account, place in zip(SUB_ACCOUNTS, (PLACES[0], PLACES[2]), strict=True):
        people[account.user_id] = _customers(sb, account, [place] * SUB_ACCOUNT_CUSTOMERS, start)
    seed_invoices(sb, people, anchor=anchor)
