"""The provider protocol: what the gateway asks of every invoice provider.

A provider hands back domain objects from `providers.models` and raises only the errors in
`providers.errors`. Batch methods keep key order: `len(result) == len(ids)`, `None` where a key is
unknown. An operation a provider lacks raises `UnsupportedOperation` and is left out of its
`capabilities`, so a frontend knows which actions to show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from providers.errors import UnsupportedOperation
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
from providers.observe import UpstreamObserver

if TYPE_CHECKING:
    from providers.http import HttpPolicy
    from providers.transport import Transport

__all__ = [
    "CallCosts",
    "Endpoint",
    "InvoiceProvider",
    "Operation",
    "ProviderBase",
    "ProviderFactory",
]


class Operation(StrEnum):
    """One thing a provider may be able to do; the values are the schema's capability names."""

    GET_INVOICES = "GET_INVOICES"
    LIST_INVOICES = "LIST_INVOICES"
    GET_CUSTOMERS = "GET_CUSTOMERS"
    CREATE_INVOICE = "CREATE_INVOICE"
    UPDATE_INVOICE = "UPDATE_INVOICE"
    FINALIZE_INVOICE = "FINALIZE_INVOICE"
    VOID_INVOICE = "VOID_INVOICE"
    UPDATE_PAYMENT_STATUS = "UPDATE_PAYMENT_STATUS"
    ATTEMPT_PAYMENT = "ATTEMPT_PAYMENT"
    RECALCULATE_INVOICE = "RECALCULATE_INVOICE"
    TRIGGER_COMMUNICATION = "TRIGGER_COMMUNICATION"
    INVOICE_PDF = "INVOICE_PDF"
    PREVIEW_INVOICE = "PREVIEW_INVOICE"
    CUSTOMER_INVOICE_SUMMARY = "CUSTOMER_INVOICE_SUMMARY"


@dataclass(frozen=True, slots=True)
class CallCosts:
    """What a provider's reads cost upstream, as the gateway's cost analysis counts them.

    The defaults assume the worst of an API: no batch call, no customer in an invoice.
    """

    #: Ids one `get_invoices` or `get_customers` call takes (1: one call per id).
    ids_per_call: int = 1
    #: Customers one `list_invoices_of_customers` call covers (1: none, each customer is one
    #: `list_invoices` of its own).
    customers_per_listing: int = 1
    #: What an invoice carries of its customer: "complete" (every field: the customer costs
    #: nothing more), "partial" (`name` and `email`; any other field reads the customer) or
    #: "none" (the customer is read by id).
    embedded_customer: Literal["complete", "partial", "none"] = "none"


@runtime_checkable
class InvoiceProvider(Protocol):
    name: str
    capabilities: frozenset[Operation]
    #: The page size limit of the provider's list and batch calls.
    max_batch_size: int
    #: What its reads cost upstream (for the gateway's cost analysis).
    call_costs: CallCosts

    def describe(self) -> str:
        """One line for the start-up log: where this provider points. Never holds a secret."""

    async def get_invoices(self, ids: Sequence[str]) -> Sequence[Invoice | None]: ...
    async def list_invoices(self, filters: InvoiceFilter, page: PageRequest) -> Page[Invoice]: ...
    async def get_customers(self, ids: Sequence[str]) -> Sequence[Customer | None]: ...
    def listing_calls(self, filters: InvoiceFilter) -> int:
        """The most upstream calls one `list_invoices` page under `filters` makes (retries
        aside): 0 when it can match nothing, more than 1 when the API needs several."""

    async def list_invoices_of_customers(
        self, filters: InvoiceFilter, customer_ids: Sequence[str], first: int, *, count: bool
    ) -> Sequence[Page[Invoice] | None]:
        """The first page of each customer's listing, in as few calls as the API allows.

        Entry i is what `list_invoices(filters with customer_ids=(customer_ids[i],),
        PageRequest(first=first))` returns (its `customer_ids` are ignored), or None where the
        batch cannot tell that page exactly: ask `list_invoices` for that customer. With
        `count` false an entry may carry `total_count` None instead of the count.
        """

    def check_draft(self, draft: InvoiceDraft) -> None:
        """Refuse, before any call, a draft this provider cannot take: `InvalidInput` naming
        each domain field over its limits (what it can store, its amount maxima), or
        `ProviderRejected` naming the domain field it cannot do (a currency, an option). The
        gateway asks it before it claims the create's key; `create_invoice` applies it too."""

    async def create_invoice(self, draft: InvoiceDraft, *, idempotency_key: str) -> Invoice: ...
    async def update_invoice(self, invoice_id: str, update: InvoiceUpdate) -> Invoice: ...
    async def finalize_invoice(self, invoice_id: str) -> Invoice: ...
    async def void_invoice(
        self, invoice_id: str, *, metadata: Mapping[str, str] | None = None
    ) -> Invoice: ...
    async def update_payment_status(
        self, invoice_id: str, update: PaymentStatusUpdate
    ) -> Invoice: ...
    async def attempt_payment(self, invoice_id: str) -> Invoice: ...
    async def recalculate_invoice(
        self, invoice_id: str, *, finalize: bool = True
    ) -> RecalculationResult: ...
    async def trigger_communication(self, invoice_id: str) -> None: ...
    async def get_invoice_pdf_url(self, invoice_id: str) -> str: ...
    async def preview_invoice(self, request: InvoicePreviewRequest) -> Invoice: ...
    async def get_customer_invoice_summary(
        self, customer_id: str
    ) -> Sequence[CustomerInvoiceSummary]: ...
    def read_webhook(
        self, headers: Mapping[str, str], body: bytes, *, received_at: dt.datetime
    ) -> Sequence[WebhookEvent]:
        """Authenticate one delivery of this provider's webhooks and read what it says about
        invoices. `headers` are all the delivery's headers as received, names in any case,
        every value of a repeated header yielded by `items()`: pass Starlette's
        `request.headers` itself, not `dict(request.headers)`, which keeps only the first value
        and so hides a header given twice (refused when the provider checks it). No event for
        a delivery about something else (a customer, a wallet), which is still answered 2xx.
        Raises `WebhookRefused` when it fails authentication (also when no secret is
        configured: deny by default), `WebhookMalformed` when an authenticated body cannot be
        read, `UnsupportedOperation` when the provider sends no webhooks. No call upstream."""

    def upstream_status(self) -> dict[str, object]:
        """What `/readyz` shows of the guards around this provider's calls (circuit breaker,
        bulkhead, retry budget, timeouts): JSON-ready, never a secret."""

    def observe_upstream(self, observer: UpstreamObserver) -> None:
        """Tell `observer` of every HTTP attempt this provider sends (`providers.observe`)."""

    async def check(self) -> None:
        """Raise a `ProviderError` unless the provider answers with our credentials."""

    async def aclose(self) -> None: ...


class ProviderBase:
    """Defaults for the optional operations: each raises `UnsupportedOperation`.

    A provider subclasses this and overrides what its API can do; `capabilities` must list
    exactly the overridden operations (the contract tests check that).
    """

    name: str = "base"
    capabilities: frozenset[Operation] = frozenset()
    max_batch_size: int = 100
    call_costs: CallCosts = CallCosts()
    #: True when the provider itself refuses a second create with the same idempotency key
    #: (FlexPrice's `idempotency_key`), whichever process sends it. False (the default, and
    #: Xendit's case) means only the gateway's key store stands between two processes and two
    #: invoices: `serve --workers N` then needs a shared store (GATEWAY_REDIS_URL).
    deduplicates_creates: bool = False

    def describe(self) -> str:
        """One line for the start-up log; override it to say where the provider points."""
        return f"{self.name}: configured"

    def listing_calls(self, filters: InvoiceFilter) -> int:
        """One call per page, unless the provider says otherwise."""
        return 1

    async def list_invoices_of_customers(
        self, filters: InvoiceFilter, customer_ids: Sequence[str], first: int, *, count: bool
    ) -> Sequence[Page[Invoice] | None]:
        """No batch listing: None for every customer, without a call."""
        return [None] * len(customer_ids)

    def check_draft(self, draft: InvoiceDraft) -> None:
        """No limits beyond the domain's own (`providers.validation`) unless the provider
        declares them."""

    def read_webhook(
        self, headers: Mapping[str, str], body: bytes, *, received_at: dt.datetime
    ) -> Sequence[WebhookEvent]:
        raise UnsupportedOperation(self.name, "webhooks")

    def upstream_status(self) -> dict[str, object]:
        """Nothing to show unless the provider overrides it (see `providers.http.Upstream`)."""
        return {}

    def observe_upstream(self, observer: UpstreamObserver) -> None:
        """Nothing to observe unless the provider overrides it (it makes no HTTP calls)."""

    def _unsupported(self, operation: Operation) -> UnsupportedOperation:
        return UnsupportedOperation(self.name, operation.value)

    async def update_invoice(self, invoice_id: str, update: InvoiceUpdate) -> Invoice:
        raise self._unsupported(Operation.UPDATE_INVOICE)

    async def finalize_invoice(self, invoice_id: str) -> Invoice:
        raise self._unsupported(Operation.FINALIZE_INVOICE)

    async def void_invoice(
        self, invoice_id: str, *, metadata: Mapping[str, str] | None = None
    ) -> Invoice:
        raise self._unsupported(Operation.VOID_INVOICE)

    async def update_payment_status(self, invoice_id: str, update: PaymentStatusUpdate) -> Invoice:
        raise self._unsupported(Operation.UPDATE_PAYMENT_STATUS)

    async def attempt_payment(self, invoice_id: str) -> Invoice:
        raise self._unsupported(Operation.ATTEMPT_PAYMENT)

    async def recalculate_invoice(
        self, invoice_id: str, *, finalize: bool = True
    ) -> RecalculationResult:
        raise self._unsupported(Operation.RECALCULATE_INVOICE)

    async def trigger_communication(self, invoice_id: str) -> None:
        raise self._unsupported(Operation.TRIGGER_COMMUNICATION)

    async def get_invoice_pdf_url(self, invoice_id: str) -> str:
        raise self._unsupported(Operation.INVOICE_PDF)

    async def preview_invoice(self, request: InvoicePreviewRequest) -> Invoice:
        raise self._unsupported(Operation.PREVIEW_INVOICE)

    async def get_customer_invoice_summary(
        self, customer_id: str
    ) -> Sequence[CustomerInvoiceSummary]:
        raise self._unsupported(Operation.CUSTOMER_INVOICE_SUMMARY)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Somewhere else to send a provider's calls than the API its settings name: the gateway
    passes one to build a provider on an in-process sandbox (see `ProviderFactory`).

    `base_url` replaces the settings' URL, `api_key` their credentials, and every request goes
    through `transport` (an `AsgiTransport` on the sandbox's app: no socket).
    """

    base_url: str
    api_key: str
    transport: Transport


class ProviderFactory(Protocol):
    """What the entry point `invoice_gateway.providers` names: builds a provider from settings.

    `environ` is the process environment (or a dict in tests). Without credentials in it, and
    without an `endpoint`, a factory raises `providers.errors.MissingCredentials` naming the
    variable to set: the gateway then wires the provider to the sandbox registered under the
    same name (entry-point group `invoice_gateway.sandboxes`), if there is one, by calling the
    factory again with that sandbox's `endpoint`. A provider never imports a sandbox.
    `policy` overrides the timeouts and retry waits the settings describe (tests use it).
    A factory may also have a `settings` attribute, the `providers.settings.EnvironSettings`
    class it reads, so that `invoice-gateway serve --help` lists its variables.
    """

    name: str

    def __call__(
        self,
        environ: Mapping[str, str],
        *,
        endpoint: Endpoint | None = None,
        policy: HttpPolicy | None = None,
    ) -> InvoiceProvider: ...
