"""`XenditProvider`: the gateway's invoice protocol on Xendit's Invoice API v2 and Customer API."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from pydantic import SecretStr

from providers.adapter import AdapterFactory, HttpProvider
from providers.base import CallCosts, Operation
from providers.errors import NotFound, ProviderRejected
from providers.http import HttpPolicy
from providers.models import (
    Customer,
    Invoice,
    InvoiceDraft,
    InvoiceFilter,
    Page,
    PageRequest,
    WebhookEvent,
)
from providers.transport import Transport
from providers.xendit import wire
from providers.xendit.client import XenditClient
from providers.xendit.creation import create_once
from providers.xendit.customers import to_customer
from providers.xendit.drafts import check_draft, to_create_request
from providers.xendit.fields import PROVIDER
from providers.xendit.listing import (
    MAX_LIMIT,
    MAX_SCANNED_PAGES,
    last_invoice_of,
    list_params,
    read_page,
    xendit_statuses,
)
from providers.xendit.mapping import to_invoice
from providers.xendit.settings import XenditSettings
from providers.xendit.unanswered import UnansweredCreates
from providers.xendit.webhooks import read_callback

__all__ = ["XenditProvider", "factory"]

#: What a listing position (the id of the last invoice read) can be: Xendit's ids are 24 hex
#: digits; this is looser, and refuses what cannot be an id before it reaches a query string.
_INVOICE_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(slots=True)
class _KeyLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class XenditProvider(HttpProvider[XenditSettings, XenditClient]):
    """Xendit, over HTTP: the real service, or whatever speaks its API at `base_url`.

    Built as every `providers.adapter.HttpProvider` is: keyword-only `settings`, `transport`
    and `policy`; `MissingCredentials` without XENDIT_SECRET_KEY. Ids are read one call each
    (`fan_out`), `XENDIT_MAX_CONCURRENCY` at once.
    """

    name = PROVIDER
    capabilities = frozenset(
        {
            Operation.GET_INVOICES,
            Operation.LIST_INVOICES,
            Operation.GET_CUSTOMERS,
            Operation.CREATE_INVOICE,
            Operation.VOID_INVOICE,
        }
    )
    max_batch_size = MAX_LIMIT
    # No batch read, no batch listing; an invoice carries a copy of its customer (name, email).
    call_costs = CallCosts(ids_per_call=1, customers_per_listing=1, embedded_customer="partial")

    key_setting = "secret_key"

    def __init__(
        self,
        *,
        settings: XenditSettings,
        transport: Transport | None = None,
        policy: HttpPolicy | None = None,
    ) -> None:
        super().__init__(settings=settings, transport=transport, policy=policy)
        self._creating: dict[str, _KeyLock] = {}
        self._unanswered = UnansweredCreates()

    def connect(self, key: SecretStr, transport: Transport | None) -> XenditClient:
        return XenditClient.connect(
            base_url=self.base_url,
            secret_key=key,
            policy=self._policy,
            for_user_id=self.settings.for_user_id,
            transport=transport,
        )

    def concurrency(self) -> int:
        """`XENDIT_MAX_CONCURRENCY`: Xendit has no batch read, so ids are fetched one by one."""
        return self.settings.max_concurrency

    def describe_more(self) -> str:
        account = self.settings.for_user_id
        return f", sub-account {account}" if account else ""

    async def check(self) -> None:
        """One cheap authenticated call; raises `ProviderAuthError` for a refused key."""
        await self.client.list_invoices({"limit": "1"})

    # -- reads ------------------------------------------------------------------------------

    async def get_invoices(self, ids: Sequence[str]) -> Sequence[Invoice | None]:
        """`GET /v2/invoices/{id}` per distinct id, at most `max_concurrency` at once.

        Key order kept, repeated keys share one call, `None` for an unknown id, no call for no
        ids. Any failure but a 404 is raised (the gateway puts it in this provider's slots).
        """

        async def fetch(invoice_id: str) -> Invoice:
            return to_invoice(await self.client.get_invoice(invoice_id))

        return await self.fan_out(ids, fetch)

    async def get_customers(self, ids: Sequence[str]) -> Sequence[Customer | None]:
        """`GET /customers/{id}` per distinct id, exactly as `get_invoices` does."""

        async def fetch(customer_id: str) -> Customer:
            return to_customer(await self.client.get_customer(customer_id))

        return await self.fan_out(ids, fetch)

    def listing_calls(self, filters: InvoiceFilter) -> int:
        """None when no Xendit status can match; up to `MAX_SCANNED_PAGES` when customers or
        currencies are filtered here, on the pages read; else one."""
        if xendit_statuses(filters) == ():
            return 0
        return MAX_SCANNED_PAGES if filters.customer_ids or filters.currencies else 1

    async def list_invoices(self, filters: InvoiceFilter, page: PageRequest) -> Page[Invoice]:
        """Newest first, as Xendit lists; a cursor names the last invoice read (its id and time).

        `first` above 100 (Xendit's maximum) is cut to 100. Statuses and creation times are
        filtered by Xendit (`statuses`, `created_after/before`: see `listing.STATUS_FILTER`; a
        status filter no Xendit status can meet, DRAFT, VOID or UNKNOWN alone, makes no call
        and gives an empty page with `total_count` 0). Xendit cannot filter currencies or
        customers: those are applied here on each page read, reading on until `first` match,
        the listing ends, or 10 upstream pages were read (then a short page with
        `has_next_page` true; see `listing.read_page`). `total_count` is otherwise None.
        Raises `ProviderRejected` for a `first` below 1 (field `first`) or a position that
        cannot be a Xendit invoice id (field `after`).
        """
        if page.first < 1:
            raise ProviderRejected(PROVIDER, "first must be at least 1", field="first")
        if page.after is not None:
            last_invoice_of(page.after)  # refused before any call
        statuses = xendit_statuses(filters)
        if statuses == ():
            return Page[Invoice](
                items=(), item_cursors=(), end_cursor=None, has_next_page=False, total_count=0
            )

        async def fetch(limit: int, last_invoice: str | None) -> list[wire.Invoice]:
            params = list_params(filters, statuses=statuses, limit=limit, last_invoice=last_invoice)
            return await self.client.list_invoices(params)

        first = min(page.first, MAX_LIMIT)
        return await read_page(fetch, filters, first=first, after=page.after)

    # -- webhooks ---------------------------------------------------------------------------

    def read_webhook(
        self, headers: Mapping[str, str], body: bytes, *, received_at: dt.datetime
    ) -> Sequence[WebhookEvent]:
        """An invoice callback (`webhooks.read_callback`): refused unless its
        `x-callback-token` is XENDIT_CALLBACK_TOKEN, and always when that is not set."""
        return read_callback(self.settings.callback_token, headers, body, received_at=received_at)

    # -- changes ----------------------------------------------------------------------------

    def check_draft(self, draft: InvoiceDraft) -> None:
        """What Xendit cannot take (`drafts.check_draft`): a currency it has no invoices in,
        a fraction of IDR or VND, an expiry past one year, more than 50 metadata keys."""
        check_draft(draft, now=dt.datetime.now(dt.UTC))

    async def create_invoice(self, draft: InvoiceDraft, *, idempotency_key: str) -> Invoice:
        """An open (PENDING) invoice for `draft`, safe to repeat with the same key.

        Xendit's Invoice API takes no idempotency key, so the key becomes the invoice's
        `external_id` (`drafts.external_id_for`) and `creation.create_once` looks it up before
        each attempt: a retry, or a later call with the same key, returns the invoice an earlier
        attempt stored instead of billing twice. Creates with one key in this process run one
        after the other. A create Xendit did not answer in time may still be made: for one more
        deadline its key is only looked up, and `ProviderTimeout` raised until it appears.
        An invoice found under the key that another input made (other items, amount, due date,
        description, metadata, customer, currency, payer) is `IdempotencyKeyReused`.

        The customer is read first (`GET /customers/{id}`) and embedded in the invoice.
        Raises, before any call, what `check_draft` raises; then `ProviderRejected` with field
        `customer_id` when Xendit has no such customer.
        """
        now = dt.datetime.now(dt.UTC)
        check_draft(draft, now=now)
        customer = await self._customer_for(draft.customer_id)
        request = to_create_request(
            draft,
            idempotency_key=idempotency_key,
            customer=customer,
            now=now,
        )
        # Xendit cannot lock a key, but this process can: a second create with the same key
        # waits for the first and then finds its invoice instead of making another.
        held = self._creating.setdefault(request.external_id, _KeyLock())
        held.users += 1
        try:
            async with held.lock:
                return await create_once(
                    self.client,
                    request,
                    policy=self._policy,
                    unanswered=self._unanswered,
                    draft=draft,
                )
        finally:
            held.users -= 1
            if held.users == 0:
                del self._creating[request.external_id]

    async def _customer_for(self, customer_id: str) -> wire.Customer:
        try:
            return await self.client.get_customer(customer_id)
        except NotFound as exc:
            raise ProviderRejected(
                PROVIDER,
                f"xendit has no customer {customer_id!r}: use the id of a Xendit customer",
                field="customer_id",
                status=exc.status,
                provider_code=exc.provider_code,
            ) from exc

    async def void_invoice(
        self, invoice_id: str, *, metadata: Mapping[str, str] | None = None
    ) -> Invoice:
        """Expire the invoice (`POST /invoices/{id}/expire!`, Xendit's only cancel): it reads
        EXPIRED from then on, never VOID. Returns the invoice as `expire!` answers it.

        Raises `ProviderRejected` (field `metadata`) before any call when `metadata` holds
        anything (Xendit cannot store it on an expiry), `NotFound` for an unknown id, and
        `ProviderRejected` (not `NotFound`) with Xendit's message when Xendit refuses an
        invoice that exists (PAID or SETTLED), whatever status Xendit refuses it with.
        """
        if metadata:
            raise ProviderRejected(
                PROVIDER,
                "xendit cannot store metadata when it expires an invoice: leave metadata out",
                field="metadata",
            )
        try:
            return to_invoice(await self.client.expire_invoice(invoice_id))
        except NotFound as exc:
            # Xendit answers a paid invoice's `expire!` as if it were missing ("no pending
            # invoice with that id"): one read tells a refusal from a truly unknown id.
            current = await self.get_invoices([invoice_id])
            if current[0] is None:
                raise
            raise ProviderRejected(
                PROVIDER,
                exc.message,
                status=exc.status,
                provider_code=exc.provider_code,
            ) from exc


factory = AdapterFactory(name=PROVIDER, settings=XenditSettings, provider=XenditProvider)
