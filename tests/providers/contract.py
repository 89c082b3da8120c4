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
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal

import pytest

from providers.base import InvoiceProvider, Operation
from providers.errors import NotFound, ProviderRejected, UnsupportedOperation
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

__all__ = ["OPERATION_CALLS", "ProviderContract"]

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


class ProviderContract(abc.ABC):
    """Tests every provider passes on its sandbox; subclass it, supply the abstract parts."""

    unknown_invoice_id = "inv_contract_unknown"
    unknown_customer_id = "cust_contract_unknown"

    @pytest.fixture
    async def provider(self) -> InvoiceProvider:
        """A ready provider on a fresh sandbox with its seeded data, closed after the test.

        Abstract: a subclass overrides this fixture (usually an async generator).
        """
        raise NotImplementedError("a ProviderContract subclass defines the `provider` fixture")

    @abc.abstractmethod
    async def upstream_requests(self, provider: InvoiceProvider) -> int:
        """Requests the provider's sandbox has answered since the last reset."""

    @abc.abstractmethod
    async def reset_upstream_requests(self, provider: InvoiceProvider) -> None:
        """Zero the count `upstream_requests` reads."""

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

    def test_every_operation_has_a_contract_call(self) -> None:
        assert set(OPERATION_CALLS) == set(Operation)

    # -- describe --------------------------------------------------------------------------

    async def test_describe_is_one_line(self, provider: InvoiceProvider) -> None:
        text = provider.describe()
        assert isinstance(text, str)
        assert text.strip()
        assert "\n" not in text
        assert "\r" not in text
