"""`MemoProvider`: the minimal provider on the adapter base, its settings and its factory."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from providers.adapter import AdapterFactory, HttpProvider
from providers.base import Operation
from providers.client import ApiKeyAuth
from providers.errors import ProviderRejected
from providers.models import Customer, Invoice, InvoiceDraft, InvoiceFilter, Page, PageRequest
from providers.settings import HttpSettings
from providers.transport import Transport

from .client import MemoClient, parse_error
from .mapping import PROVIDER, list_params, to_create_request, to_customer, to_invoice


class MemoSettings(HttpSettings):
    model_config = SettingsConfigDict(env_prefix="MEMO_", hide_input_in_errors=True)

    api_key: SecretStr | None = Field(default=None, description="Memo API key")
    base_url: str = Field(default="https://api.memo.example", description="Memo API base")


class MemoProvider(HttpProvider[MemoSettings, MemoClient]):
    name = PROVIDER
    capabilities = frozenset(
        {Operation.GET_INVOICES, Operation.LIST_INVOICES, Operation.GET_CUSTOMERS,
         Operation.CREATE_INVOICE}
    )  # fmt: skip

    def connect(self, key: SecretStr, transport: Transport | None) -> MemoClient:
        return MemoClient.open(
            base_url=self.base_url,
            auth=ApiKeyAuth(key, header="x-memo-key"),
            policy=self._policy,
            parse_error=parse_error,
            transport=transport,
        )

    async def check(self) -> None:
        await self.client.list_invoices({"limit": "1"})

    async def get_invoices(self, ids: Sequence[str]) -> Sequence[Invoice | None]:
        async def fetch(invoice_id: str) -> Invoice:
            return to_invoice(await self.client.get_invoice(invoice_id))

        return await self.fan_out(ids, fetch)

    async def get_customers(self, ids: Sequence[str]) -> Sequence[Customer | None]:
        async def fetch(customer_id: str) -> Customer:
            return to_customer(await self.client.get_customer(customer_id))

        return await self.fan_out(ids, fetch)

    def listing_calls(self, filters: InvoiceFilter) -> int:
        return 0 if list_params(filters) is None else 1

    async def list_invoices(self, filters: InvoiceFilter, page: PageRequest) -> Page[Invoice]:
        if page.first < 1:
            raise ProviderRejected(PROVIDER, "first must be at least 1", field="first")
        params = list_params(filters)
        if params is None:
            return Page(items=(), item_cursors=(), end_cursor=None, has_next_page=False,
                        total_count=0)  # fmt: skip
        params["limit"] = str(min(page.first, self.max_batch_size))
        if page.after is not None:
            params["after"] = page.after
        answer = await self.client.list_invoices(params)
        cursors = answer.cursors or []
        return Page(
            items=[to_invoice(record) for record in answer.data or ()],
            item_cursors=cursors,
            end_cursor=cursors[-1] if cursors else page.after,
            has_next_page=bool(answer.has_more),
            total_count=answer.total,
        )

    async def create_invoice(self, draft: InvoiceDraft, *, idempotency_key: str) -> Invoice:
        request = to_create_request(draft, idempotency_key=idempotency_key)
        return to_invoice(await self.client.create_invoice(request))


factory = AdapterFactory(name=PROVIDER, settings=MemoSettings, provider=MemoProvider)
