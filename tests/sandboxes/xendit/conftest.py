"""Fixtures for the Xendit sandbox tests: a fixed clock, the app, authorized clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from sandboxes.xendit import DEFAULT_API_KEY, XenditSandbox, create_sandbox_app

from .xendit_sandbox_helpers import BASE_URL, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(clock: FakeClock) -> Starlette:
    return create_sandbox_app(seed=0, clock=clock)


@pytest.fixture
def sandbox(app: Starlette) -> XenditSandbox:
    state: XenditSandbox = app.state.sandbox
    return state


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=BASE_URL,
        auth=httpx.BasicAuth(DEFAULT_API_KEY, ""),
    ) as http:
        yield http


@pytest.fixture
async def anonymous(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        yield http
