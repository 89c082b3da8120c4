"""Memo, the minimal provider on `providers.adapter`, passes the provider contract on its
in-memory API (behind `HandlerTransport`: no socket), built by its factory exactly as the
gateway builds a provider on a sandbox (an `Endpoint`).

Memo's API has no fault API (`has_fault_api = False`: the fault cases skip, saying so), and its
sandbox is registered through the entry point only in `test_adapter.py`, which checks that
`gateway.wiring.wire` falls back to it without a key."""

from __future__ import annotations

import weakref

from providers.base import Endpoint, InvoiceProvider, ProviderFactory
from providers.http import HttpPolicy
from providers.transport import HandlerTransport

from .contract import ProviderContract
from .memo import MemoProvider, factory
from .memo.api import BASE_URL, KEY, MemoApi

_APIS: weakref.WeakKeyDictionary[InvoiceProvider, MemoApi] = weakref.WeakKeyDictionary()


class TestMemoContract(ProviderContract):
    has_fault_api = False
    key_variable = "MEMO_API_KEY"

    async def make_provider(
        self, policy: HttpPolicy, *, api_key: str | None = None
    ) -> InvoiceProvider:
        api = MemoApi()
        endpoint = Endpoint(
            base_url=BASE_URL, api_key=api_key or KEY, transport=HandlerTransport(api)
        )
        provider = factory({}, endpoint=endpoint, policy=policy)
        assert isinstance(provider, MemoProvider)
        _APIS[provider] = api
        return provider

    def factory(self) -> ProviderFactory:
        return factory

    async def upstream_requests(self, provider: InvoiceProvider) -> int:
        return _APIS[provider].requests

    async def reset_upstream_requests(self, provider: InvoiceProvider) -> None:
        _APIS[provider].requests = 0
