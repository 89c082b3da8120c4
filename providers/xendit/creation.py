"""Sending a Xendit create so that a retry never bills twice (`create_once`), and telling
whether the invoice found under a create's `external_id` is the one it asks for
(`create_differences`). The request itself is `drafts.py`'s.
"""

from __future__ import annotations

import asyncio
import datetime as dt
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

__all__ = ["EXPIRY_SLACK", "create_differences", "create_once", "find_created"]

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


def _named(exc: ProviderRejected) -> ProviderRejected:
    """`exc`, a refusal of a create, naming the draft's field it is about when its code says."""
    field = _REFUSED_FIELDS.get(exc.provider_code or "")
    if field is None or exc.field is not None or type(exc) is not ProviderRejected:
        return exc
    return ProviderRejected(
        PROVIDER, exc.message, status=exc.status, provider_code=exc.provider_code, field=field
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
