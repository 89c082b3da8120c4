"""A draft as Xendit's create request: what Xendit cannot take, refused before any call
(`check_draft`), and the body made from the rest with pure functions (`to_create_request`: the
caller passes the clock and the customer record it read), under an `external_id` its
idempotency key always gives the same (`external_id_for`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from decimal import Decimal
from typing import Final

from providers.errors import ProviderRejected
from providers.models import InvoiceDraft
from providers.xendit import wire
from providers.xendit.fields import PROVIDER

__all__ = [
    "INVOICE_CURRENCIES",
    "MAX_INVOICE_DURATION",
    "MAX_METADATA_KEYS",
    "WHOLE_CURRENCIES",
    "check_draft",
    "external_id_for",
    "to_create_request",
    "to_customer_object",
]

#: Currencies Xendit takes in whole units only: IDR decimals are truncated by Xendit, and
#: VND has no minor unit. An amount with a fraction is refused rather than silently cut.
WHOLE_CURRENCIES: Final = frozenset({"IDR", "VND"})
#: Xendit's `InvoiceCurrency`: an invoice in any other is refused (`UNSUPPORTED_CURRENCY`).
INVOICE_CURRENCIES: Final = frozenset({"IDR", "USD", "THB", "VND", "PHP", "MYR"})
#: The longest expiry Xendit allows is one year, in seconds (https://docs.xendit.co/xeninvoice/faq).
MAX_INVOICE_DURATION: Final = 365 * 24 * 60 * 60
#: `metadata` holds at most 50 properties.
MAX_METADATA_KEYS: Final = 50

# A key of these characters is used as is (readable in Xendit's dashboard); any other is hashed.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,200}")


def external_id_for(idempotency_key: str) -> str:
    """The `external_id` a create with this key uses: the same key, the same id, always.

    `gw-<key>` when the key is 1-200 of `A-Z a-z 0-9 _ . : -`, else `gwh-<sha256 of the key>`
    (64 hex digits). The prefixes differ, so two keys never share an id.
    """
    if _PLAIN_KEY.fullmatch(idempotency_key):
        return f"gw-{idempotency_key}"
    return f"gwh-{hashlib.sha256(idempotency_key.encode()).hexdigest()}"


def to_customer_object(customer: wire.Customer) -> wire.CustomerObjectRequest:
    """A Customer API record as the `customer` embedded in an invoice, linked by its `id`."""
    person = customer.individual_detail
    business = customer.business_detail
    given = person.given_names if person and person.given_names else None
    if given is None and business is not None:
        given = business.business_name
    addresses = tuple(
        wire.AddressObjectRequest(
            country=address.country,
            street_line1=address.street_line1,
            street_line2=address.street_line2,
            city=address.city,
            state=address.province_state,
            postal_code=address.postal_code,
        )
        for address in customer.addresses or ()
    )
    return wire.CustomerObjectRequest(
        id=customer.id or "",
        given_names=given,
        surname=person.surname if person else None,
        email=customer.email,
        mobile_number=customer.mobile_number,
        phone_number=customer.phone_number,
        addresses=addresses or None,
    )


def _refuse(message: str, field: str) -> ProviderRejected:
    return ProviderRejected(PROVIDER, message, field=field)


def _whole(value: Decimal, *, currency: str, what: str, field: str) -> None:
    if currency in WHOLE_CURRENCIES and value != value.to_integral_value():
        raise _refuse(
            f"xendit takes {currency} amounts in whole units only, and {what} is {value}: "
            "use whole amounts",
            field,
        )


def _bounded(seconds: float, *, field: str, what: str) -> int:
    # Whole seconds, rounded up: the invoice stays payable until at least then.
    whole = math.ceil(seconds)
    if whole < 1:
        raise _refuse(f"{what} must be in the future: xendit invoices expire then", field)
    if whole > MAX_INVOICE_DURATION:
        raise _refuse(f"xendit invoices expire within one year: shorten {what}", field)
    return whole


def _invoice_duration(draft: InvoiceDraft, now: dt.datetime) -> int | None:
    # The payment page's own duration wins over the due date (the schema says so).
    page = draft.payment_page
    if page is not None and page.duration is not None:
        return _bounded(
            page.duration.total_seconds(),
            field="payment_page.duration",
            what="the payment page duration",
        )
    if draft.due_at is not None:
        return _bounded((draft.due_at - now).total_seconds(), field="due_at", what="the due date")
    return None


def check_draft(draft: InvoiceDraft, *, now: dt.datetime) -> None:
    """What Xendit cannot take, refused before any call with `ProviderRejected` naming the
    domain field: a currency not in `INVOICE_CURRENCIES` (`currency`); a fraction in a
    whole-unit currency, IDR or VND (`line_items.N.unit_amount`, or `line_items` for the
    total); an expiry (`due_at`, or `payment_page.duration`) not in the future or more than a
    year away; more than `MAX_METADATA_KEYS` metadata keys (`metadata`).

    Xendit also refuses an amount over its maximum for the currency
    (`MAXIMUM_TRANSFER_AMOUNT_ERROR`); its documentation gives no figures, so that refusal is
    Xendit's own answer (a `ProviderRejected` after the call), not checked here."""
    currency = draft.currency.upper()
    if currency not in INVOICE_CURRENCIES:
        raise _refuse(
            f"xendit invoices take {', '.join(sorted(INVOICE_CURRENCIES))}, not {currency}",
            "currency",
        )
    for n, line in enumerate(draft.line_items):
        _whole(
            line.unit_amount,
            currency=currency,
            what="a line's unit amount",
            field=f"line_items.{n}.unit_amount",
        )
    _whole(draft.subtotal, currency=currency, what="the invoice total", field="line_items")
    if len(draft.metadata) > MAX_METADATA_KEYS:
        raise _refuse(f"xendit keeps at most {MAX_METADATA_KEYS} metadata keys", "metadata")
    _invoice_duration(draft, now)


def to_create_request(
    draft: InvoiceDraft,
    *,
    idempotency_key: str,
    customer: wire.Customer | None,
    now: dt.datetime,
) -> wire.CreateInvoiceRequest:
    """The create body for `draft`.

    - `external_id` from `external_id_for(idempotency_key)`;
    - `amount` the exact sum of the lines; `items` one per line (`name`, `quantity`, `price`);
    - `invoice_duration` (whole seconds, rounded up) from `payment_page.duration`, else from
      `now` to `due_at`; neither: Xendit's default;
    - `payer_email`, redirect URLs and `payment_methods` from `payment_page`;
    - `customer` the record read for `draft.customer_id`, embedded (so the invoice names it);
    - `currency` upper-case; `description` and `metadata` as given.

    Raises what `check_draft` raises.
    """
    check_draft(draft, now=now)
    currency = draft.currency.upper()
    page = draft.payment_page
    items = tuple(
        wire.InvoiceItemRequest(
            name=line.description, quantity=line.quantity, price=line.unit_amount
        )
        for line in draft.line_items
    )
    return wire.CreateInvoiceRequest(
        external_id=external_id_for(idempotency_key),
        amount=draft.subtotal,
        currency=currency,
        description=draft.description,
        invoice_duration=_invoice_duration(draft, now),
        payer_email=page.payer_email if page else None,
        success_redirect_url=page.success_redirect_url if page else None,
        failure_redirect_url=page.failure_redirect_url if page else None,
        payment_methods=page.payment_methods or None if page else None,
        items=items or None,
        customer=to_customer_object(customer) if customer is not None else None,
        metadata=dict(draft.metadata) or None,
    )
