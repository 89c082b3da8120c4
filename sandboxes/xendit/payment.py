"""Invoice state transitions: ``expire!``, and the sandbox's stand-ins for a real payment.

PENDING -> PAID (``pay``) -> SETTLED (``settle``); PENDING -> EXPIRED (``expire`` or its
``expiry_date``, see ``XenditSandbox.lapse``). Nothing leaves PAID but settlement, nothing
leaves SETTLED or EXPIRED.
"""

from __future__ import annotations

from . import channels, errors
from .records import Invoice
from .store import XenditSandbox

PAYMENT_METHODS = (
    "POOL",
    "CALLBACK_VIRTUAL_ACCOUNT",
    "CREDIT_CARD",
    "RETAIL_OUTLET",
    "QR_CODE",
    "QRIS",
    "EWALLET",
    "DIRECT_DEBIT",
    "BANK_TRANSFER",
    "PAYLATER",
    "CRYPTOCURRENCY",
)


def expire(sb: XenditSandbox, inv: Invoice) -> bool:
    """``expire!``: PENDING becomes EXPIRED now (True); EXPIRED stays as it is (False:
    idempotent).

    A PAID or SETTLED invoice is refused with 404 ``INVOICE_NOT_FOUND_ERROR`` (no pending
    invoice with that id exists to expire) and left unchanged.
    """
    if inv.status == "EXPIRED":
        return False
    if inv.status != "PENDING":
        raise errors.APIError(
            404,
            "INVOICE_NOT_FOUND_ERROR",
            f"Could not find a pending invoice {inv.id} to expire: it is already {inv.status}",
        )
    now = sb.now()
    inv.status = "EXPIRED"
    inv.expired_at = now
    inv.updated = now
    return True


def _destination(sb: XenditSandbox, channel: str) -> str:
    digits = f"{sb.rng.getrandbits(40):013d}"[:10]
    if channels.is_bank(channel):
        return f"8808{digits}"
    if channels.is_retail(channel):
        return f"TEST{digits[:6]}"
    return f"{channel}-{digits}"


def pay(sb: XenditSandbox, inv: Invoice, *, channel: str | None, method: str | None) -> None:
    """Pay the whole amount now through ``channel`` (default: the first offered one).

    Refused (400) unless PENDING, or when the channel is not offered by the invoice
    (``UNAVAILABLE_PAYMENT_METHOD_ERROR``) or the method is not a Xendit payment method.
    """
    if inv.status == "EXPIRED":
        raise errors.bad_request("INVOICE_EXPIRED_ERROR", f"Invoice {inv.id} has expired")
    if inv.status != "PENDING":
        raise errors.bad_request(
            "INVOICE_ALREADY_PAID_ERROR", f"Invoice {inv.id} is already {inv.status}"
        )
    chosen = channel or inv.payment_methods[0]
    if chosen not in inv.payment_methods:
        raise errors.bad_request(
            "UNAVAILABLE_PAYMENT_METHOD_ERROR", f"Invoice {inv.id} does not offer {chosen}"
        )
    if method is not None and method not in PAYMENT_METHODS:
        raise errors.validation(f'"payment_method" must be one of {PAYMENT_METHODS}')
    now = sb.now()
    inv.status = "PAID"
    inv.paid_at = now
    inv.paid_amount = inv.amount
    inv.payment_channel = chosen
    inv.payment_method = method or channels.method_of(chosen)
    inv.bank_code = chosen if channels.is_bank(chosen) else None
    inv.payment_destination = _destination(sb, chosen)
    inv.payment_id = sb.hex_id()
    inv.updated = now


def settle(sb: XenditSandbox, inv: Invoice) -> None:
    """PAID becomes SETTLED now; anything else is refused (400 ``INVOICE_NOT_PAID_ERROR``)."""
    if inv.status != "PAID":
        raise errors.bad_request(
            "INVOICE_NOT_PAID_ERROR", f"Invoice {inv.id} is {inv.status}, not PAID"
        )
    now = sb.now()
    inv.status = "SETTLED"
    inv.settled_at = now
    inv.updated = now
