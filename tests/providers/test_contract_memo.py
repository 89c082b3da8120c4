"""Memo, the minimal provider on `providers.adapter`, passes the provider contract on its
in-memory API (behind `HandlerTransport`: no socket), built by its factory exactly as the
gateway builds a provider on a sandbox (an `Endpoint`)."""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator

import pytest

from providers.base import Endpoint, InvoiceProvider
from providers.http import HttpPolicy
from providers.transport import HandlerTransport

from .contract import ProviderContract
from .memo import MemoProvider, factory
from .memo.api import BASE_URL, KEY, MemoApi

#: Tiny backoff waits: a retried call costs no wall-clock time.
POLICY = HttpPolicy(deadline=5.0, attempts=3, wait_initial=0.001, wait_max=0.01, wait_jitter=0)

_APIS: weakref.WeakKeyDictionary[InvoiceProvider, MemoApi] = weakref.WeakKeyDictionary()


class TestMemoContract(ProviderContract):
    @pytest.fixture
    async def provider(self) -> AsyncIterator[InvoiceProvider]:
        api = MemoApi()
        endpoint = Endpoint(base_url=BASE_URL, api_key=KEY, transport=HandlerTransport(api))
        provider = factory({}, endpoint=endpoint, policy=POLICY)
        assert isinstance(provider, MemoProvider)
        _APIS[provider] = api
        yield provider
        await provider.aclose()

    async def upstream_requests(self, provider: InvoiceProvider) -> int:
        return _APIS[provider].requests

    async def reset_upstream_requests(self, provider: InvoiceProvider) -> None:
        _APIS[provider].requests = 0
