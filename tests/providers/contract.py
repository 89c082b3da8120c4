"""The contract every invoice provider passes, written once (the fsspec pattern).

A provider's suite subclasses `ProviderContract` in `tests/providers/test_contract_<name>.py`
and supplies three things: the `provider` fixture (a ready provider on its sandbox, closed
afterwards) and the two upstream counters. This module is not collected by itself (its name
does not start with `test_`, nor does the class's with `Test`); each subclass is.

The tests only use what every provider has: seeded invoices on its sandbox, reached through the
protocol in `providers.base`. Ids the sandbox cannot know are `unknown_invoice_id` and
`unknown_customer_id`; override them when a provider checks an id's format before looking.
"""

from __future__ import annotations

import abc
import dataclasses
import datetime as dt
import json
import re
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any

import httpx
import pytest

from gateway.wiring import Wired, load_sandbox, wire
from providers.base import Endpoint, InvoiceProvider, Operation, ProviderBase, ProviderFactory
from providers.errors import (
    MissingCredentials,
    NotFound,
    ProviderAuthError,
    ProviderBadResponse,
    ProviderConnectionLost,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    UnsupportedOperation,
    WebhookRefused,
)
from providers.http import HttpPolicy
from providers.models import (
    Invoice,
    InvoiceDraft,
    InvoiceFilter,
    InvoicePreviewRequest,
    InvoiceStatus,
    InvoiceUpdate,
    LineItemDraft,
    Page,
    PageRequest,
    PaymentStatus,
    PaymentStatusUpdate,
)
from providers.registry import load_factory
from providers.transport import AsgiTransport
from sandboxes.kit.faults import FaultSettings

__all__ = ["OPERATION_CALLS", "POLICY", "ProviderContract", "SandboxContract"]

#: Tiny backoff waits: a retried call costs no wall-clock time; three attempts for a read.
POLICY = HttpPolicy(deadline=5.0, attempts=3, wait_initial=0.001, wait_max=0.01, wait_jitter=0)

#: One call of each operation: (provider, invoice id, customer id) -> awaitable.
Call = Callable[[InvoiceProvider, str, str], Awaitable[object]]

_DRAFT_LINES = (LineItemDraft(description="Contract", quantity=Decimal(1), unit_amount=Decimal(1)),)

OPERATION_CALLS: dict[Operation, Call] = {
    Operation.GET_INVOICES: lambda p, invoice, customer: p.get_invoices([invoice]),
    Operation.LIST_INVOICES: lambda p, invoice, customer: p.list_invoices(
        InvoiceFilter(), PageRequest(first=1)
    ),
    Operation.GET_CUSTOMERS: lambda p, invoice, customer: p.get_customers([customer]),
    Operation.CREATE_INVOICE: lambda p, invoice, customer: p.create_invoice(
        InvoiceDraft(customer_id=customer, currency="USD", line_items=_DRAFT_LINES),
        idempotency_key="contract-unsupported",
    ),
    Operation.UPDATE_INVOICE: lambda p, invoice, customer: p.update_invoice(
        invoice, InvoiceUpdate(metadata={"contract": "yes"})
    ),
    Operation.FINALIZE_INVOICE: lambda p, invoice, customer: p.finalize_invoice(invoice),
    Operation.VOID_INVOICE: lambda p, invoice, customer: p.void_invoice(invoice),
    Operation.UPDATE_PAYMENT_STATUS: lambda p, invoice, customer: p.update_payment_status(
        invoice, PaymentStatusUpdate(status=PaymentStatus.PAID)
    ),
    Operation.ATTEMPT_PAYMENT: lambda p, invoice, customer: p.attempt_payment(invoice),
    Operation.RECALCULATE_INVOICE: lambda p, invoice, customer: p.recalculate_invoice(invoice),
    Operation.TRIGGER_COMMUNICATION: lambda p, invoice, customer: p.trigger_communication(invoice),
    Operation.INVOICE_PDF: lambda p, invoice, customer: p.get_invoice_pdf_url(invoice),
    Operation.PREVIEW_INVOICE: lambda p, invoice, customer: p.preview_invoice(
        InvoicePreviewRequest(subscription_id="sub_contract_unknown")
    ),
    Operation.CUSTOMER_INVOICE_SUMMARY: lambda p, invoice, customer: p.get_customer_invoice_summary(
        customer
    ),
}

#: The operations on one existing invoice: an id the provider does not know is `NotFound`.
ON_ONE_INVOICE = (
    Operation.UPDATE_INVOICE,
    Operation.FINALIZE_INVOICE,
    Operation.VOID_INVOICE,
    Operation.UPDATE_PAYMENT_STATUS,
    Operation.ATTEMPT_PAYMENT,
    Operation.RECALCULATE_INVOICE,
    Operation.TRIGGER_COMMUNICATION,
    Operation.INVOICE_PDF,
)

#: Listings walked page by page: everything, and one status filter most providers split.
WALKED_FILTERS = [
    pytest.param(InvoiceFilter(), id="unfiltered"),
    pytest.param(
        InvoiceFilter(statuses=(InvoiceStatus.DRAFT, InvoiceStatus.OPEN)), id="draft-or-open"
    ),
]
PAGE_SIZE = 10


#: A body every provider would read as an invoice event if it skipped authentication (FlexPrice's
#: envelope and Xendit's callback in one object), and the ways a delivery may be spelled.
WEBHOOK_BODY = json.dumps(
    {
        "event_type": "invoice.update.payment",
        "invoice": {"id": "inv_contract", "payment_status": "SUCCEEDED"},
        "id": "inv_contract",
        "external_id": "contract",
        "user_id": "user_contract",
        "status": "PAID",
        "merchant_name": "Contract",
        "amount": 1,
        "created": "2026-01-01T00:00:00Z",
        "updated": "2026-01-01T00:00:00Z",
        "currency": "USD",
    }
).encode()
WEBHOOK_HEADERS = [
    pytest.param({}, id="no-headers"),
    pytest.param({"x-callback-token": "contract-token"}, id="token"),
    pytest.param({"x-callback-token": ""}, id="empty-token"),
    pytest.param(
        {"svix-id": "msg_contract", "svix-timestamp": "1", "svix-signature": "v1,Y29udHJhY3Q="},
        id="svix",
    ),
    pytest.param({"authorization": "Bearer contract", "x-api-key": "contract"}, id="static"),
]


@dataclasses.dataclass(frozen=True)
class Fault:
    """A fault the kit injects (the `PUT /_sandbox/faults` body) and what a read raises."""

    id: str
    faults: dict[str, object]
    raises: type[ProviderError] | None
    retried: bool
    not_raises: tuple[type[ProviderError], ...] = ()


FAULTS = [
    Fault("latency", {"latency_ms": 5}, None, retried=False),
    Fault("error-503", {"error_rate": 1}, ProviderUnavailable, retried=True,
          not_raises=(ProviderTimeout, ProviderConnectionLost)),
    Fault("error-500", {"error_rate": 1, "status": 500}, ProviderUnavailable, retried=False,
          not_raises=(ProviderTimeout, ProviderConnectionLost)),
    Fault("error-429-retry-after", {"error_rate": 1, "status": 429, "retry_after": 0},
          ProviderRateLimited, retried=True),
    Fault("error-401", {"error_rate": 1, "status": 401}, ProviderAuthError, retried=False),
    Fault("error-400", {"error_rate": 1, "status": 400}, ProviderRejected, retried=False,
          not_raises=(NotFound,)),
    Fault("reset", {"reset_rate": 1}, ProviderConnectionLost, retried=True),
    Fault("malformed", {"malformed_rate": 1}, ProviderBadResponse, retried=False),
    Fault("hang", {"hang": True}, ProviderTimeout, retried=False),
]  # fmt: skip


class ProviderContract(abc.ABC):
    """Tests every provider passes on its sandbox; subclass it, supply the abstract parts."""

    unknown_invoice_id = "inv_contract_unknown"
    unknown_customer_id = "cust_contract_unknown"

    #: Does the sandbox have the kit's fault API (`PUT /_sandbox/faults`)? A subclass whose
    #: upstream has none sets this False: the fault tests skip, saying so.
    has_fault_api = True

    @pytest.fixture
    async def provider(self) -> AsyncIterator[InvoiceProvider]:
        """A ready provider on a fresh sandbox with its seeded data, closed after the test."""
        provider = await self.make_provider(POLICY)
        yield provider
        await provider.aclose()

    @abc.abstractmethod
    async def make_provider(
        self, policy: HttpPolicy, *, api_key: str | None = None
    ) -> InvoiceProvider:
        """The provider on a fresh sandbox, built by its factory with the sandbox's endpoint;
        `api_key` in place of the key the sandbox accepts. The caller closes it."""

    @abc.abstractmethod
    def factory(self) -> ProviderFactory:
        """The provider's factory, as its entry point names it."""

    #: The variable the factory's `MissingCredentials` tells the user to set.
    key_variable: str = ""

    async def wire_without_key(self) -> Wired | None:
        """`gateway.wiring.wire(name, {})`: how the gateway wires the provider with no key, or
        None when the provider's sandbox is not registered through the entry point."""
        return None

    @abc.abstractmethod
    async def upstream_requests(self, provider: InvoiceProvider) -> int:
        """Requests the provider's sandbox has answered since the last reset."""

    @abc.abstractmethod
    async def reset_upstream_requests(self, provider: InvoiceProvider) -> None:
        """Zero the count `upstream_requests` reads."""

    async def set_faults(self, provider: InvoiceProvider, faults: dict[str, object]) -> None:
        """`PUT /_sandbox/faults` on the provider's sandbox (only when `has_fault_api`)."""
        raise NotImplementedError

    async def clear_faults(self, provider: InvoiceProvider) -> None:
        """`DELETE /_sandbox/faults`."""
        raise NotImplementedError

    # -- helpers ---------------------------------------------------------------------------

    async def some_invoices(self, provider: InvoiceProvider, count: int = 4) -> list[Invoice]:
        page = await provider.list_invoices(InvoiceFilter(), PageRequest(first=count))
        if len(page.items) < count:
            pytest.fail(f"the {provider.name} sandbox must seed at least {count} invoices")
        return list(page.items)

    async def walk(
        self, provider: InvoiceProvider, filters: InvoiceFilter
    ) -> tuple[list[Invoice], list[Page[Invoice]]]:
        items: list[Invoice] = []
        pages: list[Page[Invoice]] = []
        after: str | None = None
        while True:
            page = await provider.list_invoices(filters, PageRequest(first=PAGE_SIZE, after=after))
            pages.append(page)
            items.extend(page.items)
            if not page.has_next_page:
                return items, pages
            assert page.end_cursor is not None, "a page with a next page has an end cursor"
            assert len(pages) < 10_000, "the listing does not end"
            after = page.end_cursor

    # -- batch reads -----------------------------------------------------------------------

    async def test_get_invoices_keeps_key_order(self, provider: InvoiceProvider) -> None:
        a, b, c, _ = await self.some_invoices(provider)
        unknown = self.unknown_invoice_id
        keys = [b.id, unknown, a.id, b.id, c.id, unknown]
        await self.reset_upstream_requests(provider)

        result = await provider.get_invoices(keys)

        assert len(result) == len(keys)  # one slot per key
        assert [i.id if i is not None else None for i in result] == [
            b.id, None, a.id, b.id, c.id, None,
        ]  # fmt: skip
        assert result[0] == result[3]  # a repeated key gets the same invoice
        found = {invoice.id: invoice for invoice in result if invoice is not None}
        assert found[a.id].created_at == a.created_at
        assert found[a.id].status == a.status
        # Each distinct key is asked for at most once (a batch call asks for all at once).
        assert await self.upstream_requests(provider) <= len(set(keys))

    async def test_get_customers_keeps_key_order(self, provider: InvoiceProvider) -> None:
        invoices = await self.some_invoices(provider, count=20)
        owners = dict.fromkeys(
            i.customer_id or (i.customer.id if i.customer else None) for i in invoices
        )
        ids = [owner for owner in owners if owner is not None][:2]
        if not ids:
            pytest.skip(f"{provider.name} invoices name no customer to look up")
        unknown = self.unknown_customer_id
        keys = [ids[-1], unknown, ids[0], ids[-1], unknown]
        await self.reset_upstream_requests(provider)

        result = await provider.get_customers(keys)

        assert len(result) == len(keys)
        assert [c.id if c is not None else None for c in result] == [
            ids[-1], None, ids[0], ids[-1], None,
        ]  # fmt: skip
        assert result[0] == result[3]
        assert await self.upstream_requests(provider) <= len(set(keys))

    async def test_empty_batches_make_no_upstream_call(self, provider: InvoiceProvider) -> None:
        await self.reset_upstream_requests(provider)
        assert list(await provider.get_invoices([])) == []
        assert list(await provider.get_customers([])) == []
        assert await self.upstream_requests(provider) == 0

    # -- listing ---------------------------------------------------------------------------

    @pytest.mark.parametrize("filters", WALKED_FILTERS)
    async def test_listing_walks_every_page(
        self, provider: InvoiceProvider, filters: InvoiceFilter
    ) -> None:
        items, pages = await self.walk(provider, filters)

        ids = [item.id for item in items]
        assert len(ids) == len(set(ids)), "an invoice came back on two pages"
        created = [item.created_at for item in items]
        assert created == sorted(created, reverse=True), "not newest first"
        for page in pages:
            assert len(page.items) <= PAGE_SIZE
            assert len(page.item_cursors) == len(page.items)
            if page.items:
                assert page.end_cursor == page.item_cursors[-1]
            if page.total_count is not None:
                assert page.total_count == len(items)
        if filters.statuses:
            assert {item.status for item in items} <= set(filters.statuses)

    @pytest.mark.parametrize("filters", WALKED_FILTERS)
    async def test_item_cursors_resume_right_after_their_item(
        self, provider: InvoiceProvider, filters: InvoiceFilter
    ) -> None:
        items, pages = await self.walk(provider, filters)
        ids = [item.id for item in items]
        position = 0
        for page in pages:
            for index in sorted({0, len(page.items) // 2, len(page.items) - 1}):
                if not page.items:
                    break
                after = position + index + 1
                resumed = await provider.list_invoices(
                    filters, PageRequest(first=PAGE_SIZE, after=page.item_cursors[index])
                )
                got = [item.id for item in resumed.items]
                assert got == ids[after : after + len(got)], (position, index)
                if after < len(ids):
                    assert got, "a cursor before the end resumed with nothing"
            position += len(page.items)

    @pytest.mark.parametrize("filters", WALKED_FILTERS)
    @pytest.mark.parametrize("count", [True, False], ids=["counted", "uncounted"])
    async def test_a_batch_of_first_pages_is_each_customers_own_listing(
        self, provider: InvoiceProvider, filters: InvoiceFilter, count: bool
    ) -> None:
        listed = await provider.list_invoices(InvoiceFilter(), PageRequest(first=60))
        customers = list(dict.fromkeys(i.customer_id for i in listed.items if i.customer_id))[:6]
        assert len(customers) >= 2, "the sandbox must seed invoices of several customers"
        asked = [*customers, "cust_contract_unknown", customers[0]]
        pages = await provider.list_invoices_of_customers(filters, asked, 3, count=count)
        assert len(pages) == len(asked)
        for customer, page in zip(asked, pages, strict=True):
            if page is None:
                continue  # the batch could not tell: the gateway lists this customer alone
            mine = filters.model_copy(update={"customer_ids": (customer,)})
            alone = await provider.list_invoices(mine, PageRequest(first=3))
            assert [i.id for i in page.items] == [i.id for i in alone.items], customer
            assert page.item_cursors == alone.item_cursors
            assert page.end_cursor == alone.end_cursor
            assert page.has_next_page == alone.has_next_page
            assert page.total_count in (
                (alone.total_count,) if count else (alone.total_count, None)
            )

    @pytest.mark.parametrize(
        "filters",
        [
            *WALKED_FILTERS,
            pytest.param(InvoiceFilter(currencies=("USD",)), id="currency"),
            pytest.param(InvoiceFilter(statuses=(InvoiceStatus.UNKNOWN,)), id="unknown"),
        ],
    )
    async def test_listing_calls_bound_what_a_page_costs(
        self, provider: InvoiceProvider, filters: InvoiceFilter
    ) -> None:
        listed = await provider.list_invoices(InvoiceFilter(), PageRequest(first=5))
        customer = next(i.customer_id for i in listed.items if i.customer_id)
        for asked in (filters, filters.model_copy(update={"customer_ids": (customer,)})):
            await self.reset_upstream_requests(provider)
            await provider.list_invoices(asked, PageRequest(first=PAGE_SIZE))
            assert await self.upstream_requests(provider) <= provider.listing_calls(asked)

    # -- writes and capabilities -----------------------------------------------------------

    @pytest.mark.parametrize("operation", ON_ONE_INVOICE)
    async def test_an_unknown_invoice_is_not_found(
        self, provider: InvoiceProvider, operation: Operation
    ) -> None:
        if operation not in provider.capabilities:
            pytest.skip(f"{provider.name} does not support {operation.value}")
        call = OPERATION_CALLS[operation]
        with pytest.raises(NotFound) as caught:
            await call(provider, self.unknown_invoice_id, self.unknown_customer_id)
        assert caught.value.provider == provider.name

    @pytest.mark.parametrize("operation", list(Operation))
    async def test_an_unsupported_operation_makes_no_call(
        self, provider: InvoiceProvider, operation: Operation
    ) -> None:
        if operation in provider.capabilities:
            pytest.skip(f"{provider.name} supports {operation.value}")
        await self.reset_upstream_requests(provider)
        with pytest.raises(UnsupportedOperation) as caught:
            await OPERATION_CALLS[operation](
                provider, self.unknown_invoice_id, self.unknown_customer_id
            )
        assert caught.value.provider == provider.name
        assert operation.value in caught.value.message
        assert await self.upstream_requests(provider) == 0

    @pytest.mark.parametrize("operation", list(Operation))
    async def test_a_supported_operation_is_not_refused(
        self, provider: InvoiceProvider, operation: Operation
    ) -> None:
        """`capabilities` lists what the provider does: each listed operation answers.

        It is called on seeded data the sandbox knows (one invoice of each status and payment
        status among the newest, and their customer): it must return for at least one of them.
        A `ProviderRejected` (the invoice's state forbids it) is that invoice's right, never
        `UnsupportedOperation` nor any other error. Only `PREVIEW_INVOICE`, which needs a
        subscription the contract cannot know, may be rejected on every target.
        """
        if operation not in provider.capabilities:
            pytest.skip(f"{provider.name} does not support {operation.value}")
        await self.check_operation_answers(provider, operation)

    async def check_operation_answers(
        self, provider: InvoiceProvider, operation: Operation
    ) -> None:
        """The body of `test_a_supported_operation_is_not_refused` (the meta-tests call it)."""
        if operation is Operation.LIST_INVOICES:
            targets = [(self.unknown_invoice_id, self.unknown_customer_id)]
        else:
            targets = await self.operation_targets(provider)
        rejected: list[str] = []
        for invoice_id, customer_id in targets:
            try:
                answer = await OPERATION_CALLS[operation](provider, invoice_id, customer_id)
            except UnsupportedOperation:
                pytest.fail(f"{operation.value} is in capabilities but raised UnsupportedOperation")
            except NotFound as exc:
                if operation is not Operation.PREVIEW_INVOICE:
                    pytest.fail(f"{operation.value} did not find seeded {invoice_id}: {exc}")
                rejected.append(f"{invoice_id}: {exc}")
            except ProviderRejected as exc:
                rejected.append(f"{invoice_id}: {exc}")
            except Exception as exc:
                pytest.fail(f"{operation.value} on seeded {invoice_id} raised {exc!r}")
            else:
                self.check_answer(operation, answer, invoice_id, customer_id)
                return
        if operation is Operation.PREVIEW_INVOICE and rejected:
            return  # an unknown subscription: refusing it is the provider's right
        pytest.fail(f"{operation.value} answered no seeded target: {rejected}")

    def check_answer(
        self, operation: Operation, answer: object, invoice_id: str, customer_id: str
    ) -> None:
        """What a read returns for a seeded id: the invoice or customer asked for."""
        if operation is Operation.GET_INVOICES:
            assert isinstance(answer, Sequence)
            assert [i.id if i is not None else None for i in answer] == [invoice_id]
        elif operation is Operation.GET_CUSTOMERS:
            assert isinstance(answer, Sequence)
            assert [c.id if c is not None else None for c in answer] == [customer_id]
        elif operation is Operation.LIST_INVOICES:
            assert isinstance(answer, Page)

    async def operation_targets(self, provider: InvoiceProvider) -> list[tuple[str, str]]:
        """(invoice id, customer id): one seeded invoice per (status, payment status)."""
        listed = await provider.list_invoices(InvoiceFilter(), PageRequest(first=60))
        targets: dict[tuple[object, object], tuple[str, str]] = {}
        for invoice in listed.items:
            owner = invoice.customer_id or (invoice.customer.id if invoice.customer else None)
            if owner is not None:
                targets.setdefault((invoice.status, invoice.payment_status), (invoice.id, owner))
        if not targets:
            pytest.fail(f"the {provider.name} sandbox must seed invoices with customers")
        return list(targets.values())

    # -- webhooks ----------------------------------------------------------------------------

    @pytest.mark.parametrize("headers", WEBHOOK_HEADERS)
    async def test_without_a_webhook_secret_every_delivery_is_refused(
        self, provider: InvoiceProvider, headers: dict[str, str]
    ) -> None:
        """Deny by default: built with no webhook setting (as `provider` is), a provider that
        reads webhooks refuses every delivery, saying which setting is missing; one that does
        not read them says so. Either way nothing is read and nothing is called upstream."""
        await self.reset_upstream_requests(provider)
        reads = type(provider).read_webhook is not ProviderBase.read_webhook
        expected = WebhookRefused if reads else UnsupportedOperation
        with pytest.raises(expected) as caught:
            provider.read_webhook(headers, WEBHOOK_BODY, received_at=dt.datetime.now(dt.UTC))
        assert caught.value.provider == provider.name
        if reads:  # it names the variable to set ("X is not set", "neither X nor Y is set")
            assert re.search(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b.* set\b", caught.value.message)
        assert await self.upstream_requests(provider) == 0

    def test_every_operation_has_a_contract_call(self) -> None:
        assert set(OPERATION_CALLS) == set(Operation)

    # -- describe --------------------------------------------------------------------------

    async def test_describe_is_one_line(self, provider: InvoiceProvider) -> None:
        text = provider.describe()
        assert isinstance(text, str)
        assert text.strip()
        assert "\n" not in text
        assert "\r" not in text

    # -- credentials -----------------------------------------------------------------------

    def test_without_a_key_the_factory_names_the_variable(self) -> None:
        with pytest.raises(MissingCredentials) as caught:
            self.factory()({})
        assert self.key_variable
        assert f"{self.key_variable} is not set" in caught.value.message

    async def test_without_a_key_the_gateway_wires_the_sandbox(self) -> None:
        wired = await self.wire_without_key()
        if wired is None:
            pytest.skip("this provider's sandbox is not registered through the entry point")
        try:
            assert wired.on_sandbox
            assert wired.sandbox_key
            assert wired.sandbox_key in wired.describe()
            page = await wired.provider.list_invoices(InvoiceFilter(), PageRequest(first=2))
            assert len(page.items) == 2  # the seeded data, answered with the published key
        finally:
            await wired.provider.aclose()

    async def test_check_passes_with_the_key_the_sandbox_accepts(
        self, provider: InvoiceProvider
    ) -> None:
        await self.reset_upstream_requests(provider)
        await provider.check()
        assert await self.upstream_requests(provider) >= 1  # it asked, with the key

    @pytest.mark.parametrize("call", ["check", "get_invoices", "list_invoices"])
    async def test_a_wrong_key_is_an_auth_error_asked_once(self, call: str) -> None:
        """`check` (what `/readyz` runs) and the reads: ProviderAuthError, never retried."""
        wrong = "wrong-contract-key-0123456789"
        provider = await self.make_provider(POLICY, api_key=wrong)
        calls: dict[str, Callable[[], Awaitable[object]]] = {
            "check": provider.check,
            "get_invoices": lambda: provider.get_invoices([self.unknown_invoice_id]),
            "list_invoices": lambda: provider.list_invoices(InvoiceFilter(), PageRequest(first=1)),
        }
        try:
            await self.reset_upstream_requests(provider)
            with pytest.raises(ProviderAuthError) as caught:
                await calls[call]()
            assert not isinstance(caught.value, MissingCredentials)
            assert caught.value.provider == provider.name
            assert wrong not in str(caught.value)
            assert wrong not in provider.describe()
            assert await self.upstream_requests(provider) == 1  # a refused key is not retried
        finally:
            await provider.aclose()

    # -- faults of the sandbox's fault API -------------------------------------------------

    @pytest.mark.parametrize("fault", FAULTS, ids=[f.id for f in FAULTS])
    async def test_a_fault_of_the_fault_api(self, fault: Fault) -> None:
        """One read (a batch of one seeded id) under each fault the kit can inject: the error
        the provider raises, and how many upstream requests it made (retried or not)."""
        if not self.has_fault_api:
            pytest.skip("this provider's upstream has no fault API")
        policy = dataclasses.replace(POLICY, deadline=0.5) if fault.faults.get("hang") else POLICY
        provider = await self.make_provider(policy)
        try:
            (seeded, *_) = await self.some_invoices(provider, count=1)
            await self.set_faults(provider, fault.faults)
            await self.reset_upstream_requests(provider)
            try:
                if fault.raises is None:
                    result = await provider.get_invoices([seeded.id])
                    assert [i.id if i else None for i in result] == [seeded.id]
                else:
                    with pytest.raises(fault.raises) as caught:
                        await provider.get_invoices([seeded.id])
                    assert caught.value.provider == provider.name
                    for narrower in fault.not_raises:
                        assert not isinstance(caught.value, narrower), caught.value
                attempts = POLICY.attempts if fault.retried else 1
                assert await self.upstream_requests(provider) == attempts
            finally:
                await self.clear_faults(provider)
            # The fault lifted, the same provider answers again.
            assert (await provider.get_invoices([seeded.id]))[0] is not None
        finally:
            await provider.aclose()

    def test_every_fault_kind_of_the_kit_has_a_contract_case(self) -> None:
        covered = {name for fault in FAULTS for name in fault.faults}
        assert covered == {f.name for f in dataclasses.fields(FaultSettings)}

    # -- creates ---------------------------------------------------------------------------

    async def test_a_create_repeated_with_its_key_makes_one_invoice(
        self, provider: InvoiceProvider
    ) -> None:
        if Operation.CREATE_INVOICE not in provider.capabilities:
            pytest.skip(f"{provider.name} does not create invoices")
        (_, customer), *_ = await self.operation_targets(provider)
        mine = InvoiceFilter(customer_ids=(customer,))
        before, _ = await self.walk(provider, mine)
        draft = InvoiceDraft(customer_id=customer, currency="USD", line_items=_DRAFT_LINES)

        first = await provider.create_invoice(draft, idempotency_key="contract-once-1")
        again = await provider.create_invoice(draft, idempotency_key="contract-once-1")
        other = await provider.create_invoice(draft, idempotency_key="contract-once-2")

        assert again.id == first.id
        assert other.id != first.id
        after, _ = await self.walk(provider, mine)
        added = {i.id for i in after} - {i.id for i in before}
        assert added == {first.id, other.id}  # the repeat stored nothing
        assert len(after) == len(before) + 2
        (stored,) = await provider.get_invoices([first.id])
        assert stored is not None
        assert stored.customer_id == customer
        assert stored.total is not None
        assert stored.total.amount == Decimal(1)

    # -- filters ---------------------------------------------------------------------------

    async def test_filters_list_exactly_the_matching_invoices(
        self, provider: InvoiceProvider
    ) -> None:
        """Each filter walked page by page is the unfiltered walk with the filter applied."""
        everything, _ = await self.walk(provider, InvoiceFilter())
        if len(everything) < 2:
            pytest.fail(f"the {provider.name} sandbox must seed invoices to filter")
        newest, oldest = everything[0], everything[-1]
        middle = everything[len(everything) // 2]
        customers = list(dict.fromkeys(i.customer_id for i in everything if i.customer_id))
        statuses = list(dict.fromkeys(i.status for i in everything))
        cases = [
            InvoiceFilter(statuses=(statuses[0],)),
            InvoiceFilter(statuses=tuple(statuses[:2])),
            InvoiceFilter(payment_statuses=(newest.payment_status,)),
            InvoiceFilter(currencies=(newest.currency,)),
            InvoiceFilter(customer_ids=tuple(customers[:2])),
            InvoiceFilter(created_after=middle.created_at),
            InvoiceFilter(created_before=middle.created_at),
            InvoiceFilter(
                customer_ids=(customers[0],),
                statuses=(statuses[0],),
                created_after=oldest.created_at,
            ),
        ]
        for filters in cases:
            walked, _ = await self.walk(provider, filters)
            expected = [i.id for i in everything if matches(filters, i)]
            assert [i.id for i in walked] == expected, filters


def matches(filters: InvoiceFilter, invoice: Invoice) -> bool:
    """`filters` applied to one invoice, as `InvoiceFilter` defines them: ANDed, the creation
    bounds strict (the schema's `createdAfter`/`createdBefore`)."""
    owner = invoice.customer_id or (invoice.customer.id if invoice.customer else None)
    return (
        (not filters.statuses or invoice.status in filters.statuses)
        and (not filters.payment_statuses or invoice.payment_status in filters.payment_statuses)
        and (not filters.customer_ids or owner in filters.customer_ids)
        and (not filters.currencies or invoice.currency in filters.currencies)
        and (filters.created_after is None or invoice.created_at > filters.created_after)
        and (filters.created_before is None or invoice.created_at < filters.created_before)
    )


#: Each provider's in-process sandbox app, for its control routes.
_SANDBOX_APPS: weakref.WeakKeyDictionary[InvoiceProvider, Any] = weakref.WeakKeyDictionary()


class SandboxContract(ProviderContract):
    """The contract for a provider whose sandbox is registered through the entry point
    `invoice_gateway.sandboxes`: providers built as `gateway.wiring` builds them, counts and
    faults through the sandbox's `/_sandbox` control routes."""

    #: The provider's (and its sandbox's) entry-point name.
    provider_name = ""

    async def make_provider(
        self, policy: HttpPolicy, *, api_key: str | None = None
    ) -> InvoiceProvider:
        entry = load_sandbox(self.provider_name)
        assert entry is not None, f"no sandbox named {self.provider_name!r} is installed"
        app = entry.app()
        endpoint = Endpoint(
            base_url=entry.base_url,
            api_key=api_key or entry.api_key,
            transport=AsgiTransport(app),
        )
        provider = self.factory()({}, endpoint=endpoint, policy=policy)
        _SANDBOX_APPS[provider] = app
        return provider

    def factory(self) -> ProviderFactory:
        return load_factory(self.provider_name)

    async def wire_without_key(self) -> Wired | None:
        return wire(self.provider_name, {}, policy=POLICY)

    async def control(
        self, provider: InvoiceProvider, method: str, path: str, body: object = None
    ) -> Any:
        transport = httpx.ASGITransport(app=_SANDBOX_APPS[provider])
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as c:
            response = await c.request(method, path, json=body)
            response.raise_for_status()
            return response.json()

    async def upstream_requests(self, provider: InvoiceProvider) -> int:
        total: int = (await self.control(provider, "GET", "/_sandbox/stats"))["requests_total"]
        return total

    async def reset_upstream_requests(self, provider: InvoiceProvider) -> None:
        await self.control(provider, "DELETE", "/_sandbox/stats")

    async def set_faults(self, provider: InvoiceProvider, faults: dict[str, object]) -> None:
        await self.control(provider, "PUT", "/_sandbox/faults", faults)

    async def clear_faults(self, provider: InvoiceProvider) -> None:
        await self.control(provider, "DELETE", "/_sandbox/faults")
