"""Creating a Xendit invoice from an `InvoiceDraft`.

`to_create_request` builds the body with pure functions (the caller passes the clock and the
customer record it read); `create_once` sends it so that a retry never bills twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import math
import re
from decimal import Decimal
from typing import Final

import stamina

from providers.errors import (
    IdempotencyKeyReused,
    ProviderBadResponse,
    ProviderConnectionLost,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from providers.http import HttpPolicy
from providers.models import Invoice, InvoiceDraft
from providers.records import utc
from providers.xendit import wire
from providers.xendit.client import XenditClient
from providers.xendit.fields import PROVIDER, metadata_of
from providers.xendit.mapping import to_invoice
from providers.xendit.unanswered import UnansweredCreates

__all__ = [
    "EXPIRY_SLACK",
    "INVOICE_CURRENCIES",
    "MAX_INVOICE_DURATION",
    "MAX_METADATA_KEYS",
    "WHOLE_CURRENCIES",
    "check_draft",
    "create_differences",
    "create_once",
    "external_id_for",
    "find_created",
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

#: How far an invoice's expiry may be from the one a repeat asks for and still be the same:
#: Xendit computes it from its own clock at the create, so it is never exactly the due date.
EXPIRY_SLACK: Final = dt.timedelta(seconds=60)

#: The draft's field that a create refusal of Xendit's is about, by its `error_code`. Xendit's
#: per-currency amount maximum is one: its documentation gives no figures, so that limit is
#: Xendit's own answer, named here rather than checked before the call.
_REFUSED_FIELDS: Final = {
    "MAXIMUM_TRANSFER_AMOUNT_ERROR": "line_items",
    "UNSUPPORTED_CURRENCY": "currency",
    "UNAVAILABLE_PAYMENT_METHOD_ERROR": "payment_page.payment_methods",
    "MISMATCH_CURRENCY_ERROR": "payment_page.payment_methods",
}

#: A create that failed with one of these may have been stored all the same.
_UNKNOWN_OUTCOME = (ProviderUnavailable, ProviderBadResponse, ProviderRateLimited)

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


def _named(exc: ProviderRejected) -> ProviderRejected:
    """`exc`, a refusal of a create, naming the draft's field it is about when its code says."""
    field = _REFUSED_FIELDS.get(exc.provider_code or "")
    if field is None or exc.field is not None or type(exc) is not ProviderRejected:
        return exc
    return ProviderRejected(
        PROVIDER, exc.message, status=exc.status, provider_code=exc.provider_code, field=field
    )


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


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _lines(
    lines: list[wire.InvoiceItem] | tuple[wire.InvoiceItemRequest, ...] | None,
) -> list[tuple[str, Decimal | None, Decimal | None]]:
    return sorted(
        ((line.name or "", line.quantity, line.price) for line in lines or ()),
        key=lambda line: (line[0], str(line[1]), str(line[2])),
    )


def _expiry_differs(found: wire.Invoice, draft: InvoiceDraft) -> bool:
    page = draft.payment_page
    expiry, created = utc(found.expiry_date), utc(found.created)
    if page is not None and page.duration is not None:
        if expiry is None or created is None:
            return True
        return abs(expiry - created - page.duration) > EXPIRY_SLACK
    if draft.due_at is not None:
        return expiry is None or abs(expiry - draft.due_at) > EXPIRY_SLACK
    return False  # Xendit's default duration: the account's, not the gateway's to know


def create_differences(
    request: wire.CreateInvoiceRequest, found: wire.Invoice, *, draft: InvoiceDraft
) -> list[str]:
    """The draft's fields (as the domain names them) in which `found`, the invoice Xendit holds
    under `request.external_id`, differs from what `request` (made from `draft`) asks for:
    everything a create sends that Xendit keeps. Empty when `found` is what it would make.

    Items are compared as a set of lines (name, quantity, price), with the amount. The expiry
    Xendit computed at the create is compared with `draft.due_at` (or, for a payment page
    `duration`, with that duration) within `EXPIRY_SLACK`; with neither it is Xendit's default,
    not compared. `payment_methods` are not kept in a form to compare, so they are not.
    """
    differs: list[str] = []
    kept_customer = found.customer.id if found.customer else None
    sent_customer = request.customer.id if request.customer else None
    if (kept_customer or None) != (sent_customer or None):
        differs.append("customer_id")
    if (found.currency or "").upper() != request.currency.upper():
        differs.append("currency")
    if _lines(found.items) != _lines(request.items or ()) or found.amount != request.amount:
        differs.append("line_items")
    if _expiry_differs(found, draft):
        differs.append("due_at")
    if (found.description or None) != (request.description or None):
        differs.append("description")
    if metadata_of(found.metadata) != dict(request.metadata or {}):
        differs.append("metadata")
    raw = found.raw
    if (
        (found.payer_email or None) != (request.payer_email or None)
        or _text(raw.get("success_redirect_url")) != (request.success_redirect_url or None)
        or _text(raw.get("failure_redirect_url")) != (request.failure_redirect_url or None)
    ):
        differs.append("payment_page")
    return differs


async def create_once(
    client: XenditClient,
    request: wire.CreateInvoiceRequest,
    *,
    policy: HttpPolicy,
    unanswered: UnansweredCreates,
    draft: InvoiceDraft | None = None,
) -> Invoice:
    """The invoice holding `request.external_id`: found, or created by this call.

    Every attempt first looks the id up (`GET /v2/invoices?external_id=`) and creates only
    when no invoice holds it, so the POST is never sent blindly twice. A create whose outcome
    is unknown (timeout, connection lost, 5xx, 429, unreadable answer) is retried that way, up
    to `policy.attempts` with the policy's backoff, each call within the policy's deadline; the
    last failure is raised. Any other error (a 4xx) is raised at once.

    A create that timed out, lost its connection once sent, got a 504, or was cancelled while
    in flight (the caller's own deadline for the whole create came), may still be carried out
    by Xendit after a look-up found nothing. So its id goes into `unanswered` for one more
    `policy.deadline`: until then, here and in later calls, attempts only look it up, and
    `ProviderTimeout` is raised while it does not appear. Xendit making that create later
    still is the one way left to two invoices with one id; so is a create with the same id
    from another process: Xendit offers no lock (the gateway's shared key store is that lock).

    With `draft` (what `request` was made from), an invoice found under the id that differs
    from it (`create_differences`) raises `IdempotencyKeyReused` naming what differs.
    """
    external_id = request.external_id
    async for attempt in stamina.retry_context(
        on=_UNKNOWN_OUTCOME,
        attempts=policy.attempts,
        # Each call has the policy's deadline and `attempts` bounds their number; the whole is
        # bounded by the caller (the gateway's deadline for one create), which cancels it.
        timeout=None,
        wait_initial=policy.wait_initial,
        wait_max=policy.wait_max,
        wait_jitter=policy.wait_jitter,
    ):
        with attempt:
            existing = await _find_holder(client, external_id)
            if existing is not None:
                unanswered.settle(external_id)
                if draft is not None and (
                    differs := create_differences(request, existing, draft=draft)
                ):
                    raise IdempotencyKeyReused(PROVIDER, differs)
                return to_invoice(existing)
            if unanswered.pending(external_id):
                raise ProviderTimeout(
                    PROVIDER,
                    "xendit has not answered an earlier create with this idempotency key and "
                    "may still make that invoice: retry with the same key in a few seconds",
                )
            try:
                return to_invoice(await client.create_invoice(request))
            except ProviderUnavailable as exc:
                if isinstance(exc, ProviderTimeout | ProviderConnectionLost) or exc.status == 504:
                    unanswered.mark(external_id, seconds=policy.deadline)
                raise
            except asyncio.CancelledError:
                # The caller stopped waiting (the gateway's deadline for the whole create, or
                # its client went away) with the create sent: Xendit may still make it.
                unanswered.mark(external_id, seconds=policy.deadline)
                raise
            except ProviderRejected as exc:
                named = _named(exc)
                if named is exc:
                    raise
                raise named from exc
    raise AssertionError("stamina ends with a result or the last error")  # pragma: no cover


async def find_created(client: XenditClient, external_id: str) -> Invoice | None:
    """The oldest invoice whose `external_id` is exactly `external_id`, or None.

    `external_id` is not unique on Xendit's side: the oldest holder is the one the first
    attempt created. The id is compared here rather than trusting the filter.
    """
    found = await _find_holder(client, external_id)
    return None if found is None else to_invoice(found)


async def _find_holder(client: XenditClient, external_id: str) -> wire.Invoice | None:
    found = await client.list_invoices({"external_id": external_id})
    holders = [
        (to_invoice(invoice), invoice) for invoice in found if invoice.external_id == external_id
    ]
    if not holders:
        return None
    return min(holders, key=lambda pair: (pair[0].created_at, pair[0].id))[1]
