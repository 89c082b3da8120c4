"""Payment channels: which a currency offers, the method each belongs to, the ``available_*``.

A channel is what ``payment_methods`` names on create and ``payment_channel`` reports after
payment (``BCA``, ``ALFAMART``, ``OVO``, ``QRIS``, ``DD_BPI``, ``KREDIVO``, ``CREDIT_CARD``).
The per-currency sets are the sandbox's model of a typical account's activated channels.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import msgspec

from .encoding import dumps
from .records import Invoice

_Table = Mapping[str, tuple[str, ...]]

_BANKS: _Table = {
    "IDR": ("BCA", "BNI", "BRI", "MANDIRI", "PERMATA", "BSI"),
    "VND": ("VIETCAPITAL", "WOORI", "PV", "MSB"),
}
_RETAIL: _Table = {
    "IDR": ("ALFAMART", "INDOMARET"),
    "PHP": ("7ELEVEN", "CEBUANA", "DP_MLHUILLIER", "DP_PALAWAN", "LBC"),
}
_EWALLETS: _Table = {
    "IDR": ("OVO", "DANA", "LINKAJA", "SHOPEEPAY", "ASTRAPAY"),
    "PHP": ("GCASH", "GRABPAY", "PAYMAYA", "SHOPEEPAY"),
    "VND": ("MOMO", "ZALOPAY", "VIETTELPAY", "APPOTA"),
    "THB": ("TRUEMONEY", "LINEPAY", "SHOPEEPAY"),
    "MYR": ("TOUCHNGO", "GRABPAY", "SHOPEEPAY"),
}
_QR: _Table = {"IDR": ("QRIS",), "PHP": ("QRPH",), "THB": ("PROMPTPAY",)}
_DIRECT_DEBITS: _Table = {
    "IDR": ("DD_BRI", "DD_MANDIRI"),
    "PHP": ("DD_BPI", "DD_UBP", "DD_RCBC", "DD_CHINABANK"),
    "MYR": ("DD_PUBLIC_FPX", "DD_MAYB2U_FPX", "DD_CIMB_FPX"),
}
_PAYLATERS: _Table = {"IDR": ("KREDIVO", "AKULAKU", "ATOME"), "PHP": ("BILLEASE", "CASHALO")}
CREDIT_CARD = "CREDIT_CARD"

#: ``payment_method`` reported for a channel of each group.
_METHOD_BY_GROUP = {
    "banks": "BANK_TRANSFER",
    "retail": "RETAIL_OUTLET",
    "ewallets": "EWALLET",
    "qr": "QR_CODE",
    "direct_debits": "DIRECT_DEBIT",
    "paylaters": "PAYLATER",
}
_GROUPS: dict[str, _Table] = {
    "banks": _BANKS,
    "retail": _RETAIL,
    "ewallets": _EWALLETS,
    "qr": _QR,
    "direct_debits": _DIRECT_DEBITS,
    "paylaters": _PAYLATERS,
}


def channels_for(currency: str) -> list[str]:
    """Every channel the sandbox account offers in ``currency``, cards last."""
    out: list[str] = []
    for table in _GROUPS.values():
        out.extend(table.get(currency, ()))
    out.append(CREDIT_CARD)
    return out


def known_channels() -> frozenset[str]:
    """Every channel of any currency."""
    names = {CREDIT_CARD}
    for table in _GROUPS.values():
        for channels in table.values():
            names.update(channels)
    return frozenset(names)


def method_of(channel: str) -> str:
    """The ``payment_method`` a payment through ``channel`` reports."""
    for group, table in _GROUPS.items():
        if any(channel in channels for channels in table.values()):
            return _METHOD_BY_GROUP[group]
    return "CREDIT_CARD"


def is_bank(channel: str) -> bool:
    return any(channel in channels for channels in _BANKS.values())


def is_retail(channel: str) -> bool:
    return any(channel in channels for channels in _RETAIL.values())


def _offered(inv: Invoice | _Channels, table: _Table) -> list[str]:
    return [c for c in table.get(inv.currency, ()) if c in inv.payment_methods]


def available_json(inv: Invoice, transfer_amount: Decimal) -> dict[str, msgspec.Raw]:
    """`available`, each array already written as JSON (what ``encoding.dumps`` writes): made
    once for each (merchant, currency, channels, amount), which most invoices share. Written
    anew, they were most of the time of a listing's answer."""
    return _available_json(
        inv.merchant_name, inv.currency, tuple(inv.payment_methods), transfer_amount
    )


@functools.lru_cache(maxsize=4096)
def _available_json(
    merchant_name: str, currency: str, payment_methods: tuple[str, ...], amount: Decimal
) -> dict[str, msgspec.Raw]:
    shape = _Channels(
        merchant_name=merchant_name, currency=currency, payment_methods=payment_methods
    )
    return {key: msgspec.Raw(dumps(value)) for key, value in available(shape, amount).items()}


@dataclass(frozen=True)
class _Channels:
    """What `available` reads of an invoice."""

    merchant_name: str
    currency: str
    payment_methods: tuple[str, ...]


def available(
    inv: Invoice | _Channels, transfer_amount: Decimal
) -> dict[str, list[dict[str, object]]]:
    """The six ``available_*`` arrays of an invoice (always present, possibly empty)."""
    holder = inv.merchant_name.upper()
    return {
        "available_banks": [
            {
                "bank_code": code,
                "collection_type": "POOL",
                "transfer_amount": transfer_amount,
                "bank_branch": "Virtual Account",
                "account_holder_name": holder,
                "identity_amount": 0,
            }
            for code in _offered(inv, _BANKS)
        ],
        "available_retail_outlets": [
            {"retail_outlet_name": name, "transfer_amount": transfer_amount}
            for name in _offered(inv, _RETAIL)
        ],
        "available_ewallets": [{"ewallet_type": e} for e in _offered(inv, _EWALLETS)],
        "available_qr_codes": [{"qr_code_type": q} for q in _offered(inv, _QR)],
        "available_direct_debits": [
            {"direct_debit_type": d} for d in _offered(inv, _DIRECT_DEBITS)
        ],
        "available_paylaters": [{"paylater_type": p} for p in _offered(inv, _PAYLATERS)],
    }
