"""`FlexPriceProvider`: the gateway's invoice protocol on FlexPrice's REST API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Mapping, Sequence

from pydantic import SecretStr

from providers.adapter import AdapterFactory, HttpProvider, run_all
from providers.base import CallCosts, Operation
from providers.errors import Conflict, IdempotencyKeyReused, ProviderBadResponse, ProviderRejected
from providers.flexprice import bodies, limits, webhooks, wire
from providers.flexprice.client import FlexPriceClient
from providers.flexprice.listing import first_pages, read_page
from providers.flexprice.mapping import PROVIDER, to_customer, to_invoice, to_summary
from providers.flexprice.requests import (
    create_differences,
    key_holder_search,
    to_create_request,
    to_payment_status_request,
    to_preview_request,
    to_update_request,
)
from providers.flexprice.search import to_invoice_searches
from providers.flexprice.settings import FlexPriceSettings
from providers.models import (
    Customer,
    CustomerInvoiceSummary,
    Invoice,
    InvoiceDraft,
    InvoiceFilter,
    InvoicePreviewRequest,
    InvoiceUpdate,
    Page,
    PageRequest,
    PaymentStatusUpdate,
    RecalculationResult,
    WebhookEvent,
)
from providers.transport import Transport

__all__ = ["FlexPriceProvider", "factory"]


def _chunks(values: Sequence[str], size: int) -> Generator[tuple[str, ...], None, None]:
    for start in range(0, len(values), size):
        yield tuple(values[start : start + size])


class FlexPriceProvider(HttpProvider[FlexPriceSettings, FlexPriceClient]):
    """FlexPrice, over HTTP: the real service, or whatever speaks its API at `base_url`.

    Built as every `providers.adapter.HttpProvider` is: keyword-only `settings`, `transport`
    and `policy`; `MissingCredentials` without FLEXPRICE_API_KEY.
    """

    name = PROVIDER
    capabilities = frozenset(Operation)
    max_batch_size = 1000  # FlexPrice's search `limit` maximum
    # Searches take 1000 ids, or customers (`customer_id in [...]`); invoices embed the customer.
    call_costs = CallCosts(
        ids_per_call=max_batch_size,
        customers_per_listing=max_batch_size,
        embedded_customer="complete",
    )
    # A second create with a key FlexPrice holds is a 409 `already_exists`, from any process.
    deduplicates_creates = True

    def connect(self, key: SecretStr, transport: Transport | None) -> FlexPriceClient:
        return FlexPriceClient.connect(
            base_url=self.base_url, api_key=key, policy=self._policy, transport=transport
        )

    async def check(self) -> None:
        """One cheap authenticated call; raises `ProviderAuthError` for a refused key."""
        await self.client.search_customers(bodies.CustomerFilter(limit=1))

    # -- reads ------------------------------------------------------------------------------

    async def get_invoices(self, ids: Sequence[str]) -> Sequence[Invoice | None]:
        """One search per chunk of 1000 distinct ids; key order kept, `None` for unknown ids.

        SKIPPED invoices are found too (all four `invoice_status` values are sent).
        """
        found: dict[str, Invoice] = {}
        for chunk in _chunks(list(dict.fromkeys(ids)), self.max_batch_size):
            response = await self.client.search_invoices(
                bodies.InvoiceFilter(
                    invoice_ids=chunk,
                    limit=len(chunk),
                    invoice_status=wire.INVOICE_STATUSES,
                    offset=0,
                )
            )
            wanted = set(chunk)
            for item in response.items or ():
                if item.id in wanted:
                    found[item.id] = to_invoice(item)
        return [found.get(invoice_id) for invoice_id in ids]

    async def get_customers(self, ids: Sequence[str]) -> Sequence[Customer | None]:
        """One search per chunk of 1000 distinct ids; key order kept, `None` for unknown ids."""
        found: dict[str, Customer] = {}
        for chunk in _chunks(list(dict.fromkeys(ids)), self.max_batch_size):
            response = await self.client.search_customers(
                bodies.CustomerFilter(customer_ids=chunk, limit=len(chunk))
            )
            wanted = set(chunk)
            for item in response.items or ():
                if item.id in wanted:
                    found[item.id] = to_customer(item)
        return [found.get(customer_id) for customer_id in ids]

    async def list_invoices(self, filters: InvoiceFilter, page: PageRequest) -> Page[Invoice]:
        """Newest first, as FlexPrice lists. A cursor is the paging engine's token of a
        keyset position per search (`search.parse_positions`).

        SKIPPED invoices (zero-amount subscription drafts FlexPrice itself hides) are never
        listed, with or without a filter; `get_invoices` still finds them by id. So a filtered
        listing is a subset of the unfiltered one, and the listings of single statuses add up
        to it.

        One search with `limit = first` from the position in `after`, unless the status filter
        needs several (see `to_invoice_searches`): then each is asked for `first` invoices from
        its own position, the answers are merged newest first, and a cursor holds one position
        per search. Pages are full unless they are the last, and `total_count` is what the
        listing counted when it began; a filter that can match nothing (EXPIRED, SETTLED) makes no
        call and gives an empty page with `total_count` 0. `first` above 1000 is cut to 1000.
        Raises `ProviderRejected` for a `first` below 1 (field `first`) or a cursor that is not
        ours (field `after`).
        """
        return await read_page(self._search_each, filters, page, limit=self.max_batch_size)

    def listing_calls(self, filters: InvoiceFilter) -> int:
        """One search per part of the status filter (`to_invoice_searches`): 0 to 3."""
        return len(to_invoice_searches(filters))

    async def list_invoices_of_customers(
        self, filters: InvoiceFilter, customer_ids: Sequence[str], first: int, *, count: bool
    ) -> Sequence[Page[Invoice] | None]:
        """The first pages of many customers' listings: one search per status part for up to
        1000 customers (`customer_id in [...]`, `limit` 1000), split per customer here.

        FlexPrice's search has no limit per customer and counts only the whole search, so a
        customer's page is exact only when the search read every match of its part, or (with
        `count` false) when it read more than `first` of that customer's; any other customer
        is None (the caller lists it on its own). Pages are what `list_invoices` gives for the
        customer alone: the same items, cursors, `has_next_page` and `total_count`.
        """
        if first < 1:
            raise ProviderRejected(PROVIDER, "first must be at least 1", field="first")
        first = min(first, self.max_batch_size)
        pages: dict[str, Page[Invoice] | None] = {}
        for chunk in _chunks(list(dict.fromkeys(customer_ids)), self.max_batch_size):
            pages.update(
                await first_pages(
                    self._search_each, filters, chunk, first, count=count, limit=self.max_batch_size
                )
            )
        return [pages[customer_id] for customer_id in customer_ids]

    async def _search_each(
        self, searches: Sequence[bodies.InvoiceFilter]
    ) -> list[wire.ListInvoicesResponse]:
        # Several searches run at once; if one fails the others are cancelled and the first
        # failure is raised as itself (a ProviderError), not as an exception group.
        return await run_all(self.client.search_invoices(s) for s in searches)

    async def get_customer_invoice_summary(
        self, customer_id: str
    ) -> Sequence[CustomerInvoiceSummary]:
        """One summary per currency the customer has invoices in."""
        response = await self.client.get_customer_invoice_summary(customer_id)
        return [to_summary(summary) for summary in response.summaries or ()]

    async def get_invoice_pdf_url(self, invoice_id: str) -> str:
        """A presigned URL of the invoice's PDF."""
        response = await self.client.get_invoice_pdf_url(invoice_id)
        if not response.presigned_url:
            raise ProviderBadResponse(PROVIDER, "flexprice returned no PDF URL")
        return response.presigned_url

    async def preview_invoice(self, request: InvoicePreviewRequest) -> Invoice:
        """The next invoice of a subscription, not stored (its `id` is "")."""
        response = await self.client.preview_invoice(to_preview_request(request))
        return to_invoice(response, preview=True)

    # -- changes ----------------------------------------------------------------------------

    def check_draft(self, draft: InvoiceDraft) -> None:
        """What FlexPrice cannot store or do (`limits.check_draft`): numbers past
        `numeric(20,8)`, payment page options."""
        limits.check_draft(draft)

    async def create_invoice(self, draft: InvoiceDraft, *, idempotency_key: str) -> Invoice:
        """A one-off invoice, which FlexPrice finalizes at once.

        Safe to repeat with the same key. A 409 `already_exists` means an earlier attempt with
        this key succeeded: that invoice is returned when it is what `draft` asks for, else
        `IdempotencyKeyReused` names what differs (`requests.create_differences`); the
        `Conflict` is raised if it is not found.
        """
        self.check_draft(draft)
        request = to_create_request(draft, idempotency_key=idempotency_key)
        try:
            created = await self.client.create_invoice(request)
        except Conflict as exc:
            if exc.provider_code != "already_exists":
                raise
            existing = await self._find_by_idempotency_key(idempotency_key)
            if existing is None:
                raise
            if differs := create_differences(request, existing):
                raise IdempotencyKeyReused(
                    PROVIDER, differs, status=exc.status, provider_code=exc.provider_code
                ) from exc
            return to_invoice(existing)
        return to_invoice(created)

    async def _find_by_idempotency_key(self, key: str) -> wire.InvoiceResponse | None:
        response = await self.client.search_invoices(key_holder_search(key))
        # FlexPrice drops a DSL condition it cannot read and widens the search, so
        # the key is checked here rather than trusted.
        for item in response.items or ():
            if item.idempotency_key == key:
                return item
        return None

    async def update_invoice(self, invoice_id: str, update: InvoiceUpdate) -> Invoice:
        """Allowed on DRAFT and FINALIZED invoices; `metadata` replaces the whole map."""
        response = await self.client.update_invoice(invoice_id, to_update_request(update))
        return to_invoice(response)

    async def finalize_invoice(self, invoice_id: str) -> Invoice:
        """Finalize a draft (a SKIPPED invoice stays as it is); returns the invoice re-read."""
        await self.client.finalize_invoice(invoice_id)
        return await self._reread(invoice_id)

    async def void_invoice(
        self, invoice_id: str, *, metadata: Mapping[str, str] | None = None
    ) -> Invoice:
        """Void; `metadata` is merged into the invoice's. Returns the invoice re-read."""
        await self.client.void_invoice(invoice_id, metadata=metadata)
        return await self._reread(invoice_id)

    async def update_payment_status(self, invoice_id: str, update: PaymentStatusUpdate) -> Invoice:
        """UNPAID, PAID, OVERPAID or FAILED; any other target, or an amount FlexPrice cannot
        store (`InvalidInput`, field `amount`), is rejected before any call."""
        limits.check_amount(update.amount, field="amount")
        request = to_payment_status_request(update)
        return to_invoice(await self.client.update_payment_status(invoice_id, request))

    async def attempt_payment(self, invoice_id: str) -> Invoice:
        """Pay from the customer's wallets; returns the invoice re-read."""
        await self.client.attempt_payment(invoice_id)
        return await self._reread(invoice_id)

    async def recalculate_invoice(
        self, invoice_id: str, *, finalize: bool = True
    ) -> RecalculationResult:
        """A voided invoice gets a replacement built asynchronously (`message` says so, the
        invoice is the voided one re-read); any other is recalculated in place (a draft
        subscription invoice, finalized afterwards unless `finalize` is false)."""
        current = await self.client.get_invoice(invoice_id)
        if current.invoice_status == "VOIDED":
            started = await self.client.recalculate_invoice(invoice_id)
            return RecalculationResult(
                invoice=await self._reread(invoice_id), message=started.message
            )
        updated = await self.client.recalculate_invoice_v2(invoice_id, finalize=finalize)
        return RecalculationResult(invoice=to_invoice(updated))

    async def trigger_communication(self, invoice_id: str) -> None:
        """Fire FlexPrice's `invoice.communication.triggered` webhook for the invoice."""
        await self.client.trigger_comms(invoice_id)

    def read_webhook(
        self, headers: Mapping[str, str], body: bytes, *, received_at: dt.datetime
    ) -> Sequence[WebhookEvent]:
        """A Svix-signed delivery verified with FLEXPRICE_WEBHOOK_SECRET, or a native one
        carrying FLEXPRICE_WEBHOOK_HEADER; refused when neither is set (`webhooks`)."""
        settings = self.settings
        return webhooks.read_delivery(
            settings.webhook_secret, settings.webhook_header, headers, body, received_at=received_at
        )

    async def _reread(self, invoice_id: str) -> Invoice:
        # These operations answer only {"message"}; the state they left is read back.
        return to_invoice(await self.client.get_invoice(invoice_id))


factory = AdapterFactory(name=PROVIDER, settings=FlexPriceSettings, provider=FlexPriceProvider)
