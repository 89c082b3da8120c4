"""The contract catches a provider that breaks it: its checks run against deliberately broken
Memo providers and must fail (a check that cannot fail is no check)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from providers.adapter import AdapterFactory
from providers.base import Endpoint, Operation
from providers.errors import ProviderBadResponse
from providers.http import HttpPolicy
from providers.models import Invoice, InvoiceDraft, InvoiceFilter, Page, PageRequest
from providers.transport import HandlerTransport

from . import test_contract_memo as memo_contract
from .memo import MemoProvider, factory
from .memo.api import BASE_URL, KEY, MemoApi
from .memo.provider import MemoSettings

#: The contract's checks, called directly on a provider the test builds.
CONTRACT = memo_contract.TestMemoContract()

POLICY = HttpPolicy(deadline=5.0, attempts=1, wait_initial=0.001, wait_max=0.01, wait_jitter=0)


class RaisesRuntimeError(MemoProvider):
    async def get_invoices(self, ids: Sequence[str]) -> Sequence[Invoice | None]:
        raise RuntimeError("broken on purpose")


class RaisesProviderError(MemoProvider):
    """Fails as a provider error would: the check that passed on any `ProviderError` missed it."""

    async def get_invoices(self, ids: Sequence[str]) -> Sequence[Invoice | None]:
        raise ProviderBadResponse(self.name, "broken on purpose")

    async def create_invoice(self, draft: InvoiceDraft, *, idempotency_key: str) -> Invoice:
        raise ProviderBadResponse(self.name, "broken on purpose")


async def broken_memo(kind: type[MemoProvider]) -> MemoProvider:
    endpoint = Endpoint(base_url=BASE_URL, api_key=KEY, transport=HandlerTransport(MemoApi()))
    make = AdapterFactory(name="memo", settings=MemoSettings, provider=kind)
    provider = make({}, endpoint=endpoint, policy=POLICY)
    assert isinstance(provider, kind)
    return provider


@pytest.mark.parametrize(
    ("kind", "operation"),
    [
        (RaisesRuntimeError, Operation.GET_INVOICES),
        (RaisesProviderError, Operation.GET_INVOICES),
        (RaisesProviderError, Operation.CREATE_INVOICE),
    ],
)
async def test_an_operation_that_always_raises_fails_the_contract(
    kind: type[MemoProvider], operation: Operation
) -> None:
    broken = await broken_memo(kind)
    try:
        with pytest.raises(pytest.fail.Exception):
            await memo_contract.TestMemoContract().test_a_supported_operation_is_not_refused(
                broken, operation
            )
    finally:
        await broken.aclose()


async def test_the_sound_provider_passes_the_same_check() -> None:
    """The meta-test's counterpart: the check passes the unbroken Memo, so what fails above is
    the breakage."""
    endpoint = Endpoint(base_url=BASE_URL, api_key=KEY, transport=HandlerTransport(MemoApi()))
    provider = factory({}, endpoint=endpoint, policy=POLICY)
    try:
        for operation in (Operation.GET_INVOICES, Operation.CREATE_INVOICE):
            await memo_contract.TestMemoContract().test_a_supported_operation_is_not_refused(
                provider, operation
            )
    finally:
        await provider.aclose()


class CreatesTwice(MemoProvider):
    """Forgets the idempotency key: each create is a new invoice."""

    calls = 0

    async def create_invoice(self, draft: InvoiceDraft, *, idempotency_key: str) -> Invoice:
        self.calls += 1
        return await super().create_invoice(
            draft, idempotency_key=f"{idempotency_key}-{self.calls}"
        )


class FilterIgnoresCurrency(MemoProvider):
    """Lists every currency whatever the filter asks."""

    async def list_invoices(self, filters: InvoiceFilter, page: PageRequest) -> Page[Invoice]:
        return await super().list_invoices(filters.model_copy(update={"currencies": ()}), page)


async def test_a_create_that_forgets_its_key_fails_the_contract() -> None:
    broken = await broken_memo(CreatesTwice)
    try:
        with pytest.raises(AssertionError):
            await CONTRACT.test_a_create_repeated_with_its_key_makes_one_invoice(broken)
    finally:
        await broken.aclose()


async def test_a_filter_the_provider_drops_fails_the_contract() -> None:
    broken = await broken_memo(FilterIgnoresCurrency)
    try:
        with pytest.raises(AssertionError):
            await CONTRACT.test_filters_list_exactly_the_matching_invoices(broken)
    finally:
        await broken.aclose()
