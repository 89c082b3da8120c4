"""Xendit passes the provider contract on its in-process sandbox."""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.wiring import on_sandbox
from providers.base import InvoiceProvider
from providers.http import HttpPolicy
from providers.xendit import XenditProvider

from .contract import ProviderContract

#: Tiny backoff waits: a retried call costs no wall-clock time.
POLICY = HttpPolicy(deadline=5.0, attempts=3, wait_initial=0.001, wait_max=0.01, wait_jitter=0)


#: Each provider's in-process sandbox app, for its stats.
_SANDBOXES: weakref.WeakKeyDictionary[InvoiceProvider, Any] = weakref.WeakKeyDictionary()


async def _control(provider: InvoiceProvider, method: str, path: str) -> Any:
    transport = httpx.ASGITransport(app=_SANDBOXES[provider])
    async with httpx.AsyncClient(transport=transport, base_url="http://xendit.sandbox") as c:
        response = await c.request(method, path)
        response.raise_for_status()
        return response.json()


class TestXenditContract(ProviderContract):
    unknown_customer_id = "cust-00000000-0000-4000-8000-000000000000"

    @pytest.fixture
    async def provider(self) -> AsyncIterator[InvoiceProvider]:
        wired = on_sandbox("xendit", policy=POLICY)
        assert isinstance(wired.provider, XenditProvider)
        _SANDBOXES[wired.provider] = wired.sandbox
        yield wired.provider
        await wired.provider.aclose()

    async def upstream_requests(self, provider: InvoiceProvider) -> int:
        total: int = (await _control(provider, "GET", "/_sandbox/stats"))["requests_total"]
        return total

    async def reset_upstream_requests(self, provider: InvoiceProvider) -> None:
        await _control(provider, "DELETE", "/_sandbox/stats")
