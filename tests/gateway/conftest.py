"""A gateway over the FlexPrice sandbox, reached in-process or over real HTTP on 127.0.0.1.

`gateway` runs every test that uses it twice: with the sandbox called in-process (`AsgiTransport`)
(in-process, as `invoice-gateway serve` runs it) and with the sandbox served by uvicorn on
127.0.0.1 and reached through the aiohttp transport, as a real FlexPrice would be.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import GatewaySettings
from gateway.wiring import Wired
from providers.flexprice import FlexPriceProvider, FlexPriceSettings
from providers.http import HttpPolicy
from providers.transport import AsgiTransport
from sandboxes.flexprice import FlexPriceSandbox, create_sandbox_app
from tests.serving import ServedApp

SANDBOX_KEY = "sk_test_gateway"
FAST = HttpPolicy(wait_initial=0.001, wait_max=0.01, wait_jitter=0.0)


@dataclass
class Gateway:
    """A client of the gateway, and a window on the sandbox behind it."""

    http: httpx.AsyncClient
    sandbox_http: httpx.AsyncClient
    sandbox: FlexPriceSandbox
    mode: str
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a GraphQL request; the JSON body (asserting HTTP 200)."""
        response = await self.http.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        self.seen.append(body)
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of a request that must have no errors."""
        body = await self.query(query, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def upstream(self) -> dict[str, int]:
        """Requests the sandbox served since the last `reset_upstream`, per route."""
        stats = (await self.sandbox_http.get("/_sandbox/stats")).json()
        assert sum(stats["requests"].values()) == stats["requests_total"]
        counts: dict[str, int] = {k: v for k, v in stats["requests"].items() if v}
        return counts

    async def reset_upstream(self) -> None:
        response = await self.sandbox_http.delete("/_sandbox/stats")
        assert response.status_code in (200, 204)


@pytest.fixture(params=["in-process", "http"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sandbox_app() -> Any:
    return create_sandbox_app(api_key=SANDBOX_KEY)


@pytest.fixture
def sandbox_url(mode: str, sandbox_app: Any) -> Iterator[str | None]:
    if mode == "in-process":
        yield None
        return
    with ServedApp(sandbox_app) as served:
        yield served.url


@pytest.fixture
async def gateway(mode: str, sandbox_app: Any, sandbox_url: str | None) -> AsyncIterator[Gateway]:
    if sandbox_url is None:
        base = "http://flexprice.sandbox"
        transport: AsgiTransport | None = AsgiTransport(sandbox_app)
    else:
        base, transport = sandbox_url, None
    settings = FlexPriceSettings(api_key=SANDBOX_KEY, base_url=f"{base}/v1")
    provider = FlexPriceProvider(settings=settings, transport=transport, policy=FAST)
    # In process, the sandbox is this gateway's own (as `serve` wires it without credentials).
    wired = Wired(provider, sandbox=sandbox_app if transport else None, sandbox_key=SANDBOX_KEY)
    app = create_app(settings=GatewaySettings(), providers={"flexprice": wired})
    control = (
        httpx.ASGITransport(app=sandbox_app)
        if transport is not None
        else httpx.AsyncHTTPTransport()
    )
    async with (
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as http,
        httpx.AsyncClient(transport=control, base_url=base) as sandbox_http,
    ):
        yield Gateway(
            http=http,
            sandbox_http=sandbox_http,
            sandbox=sandbox_app.state.sandbox,
            mode=mode,
        )
    await provider.aclose()
