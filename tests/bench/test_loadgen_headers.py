"""What the load driver sends: `Accept-Encoding: identity`, so the gateway's answers are not
compressed in a benchmark unless a run asks for it (bench/README.md, "What a request sends")."""

from __future__ import annotations

import asyncio

import aiohttp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.loadgen import Driver
from tests.serving import ServedApp


def test_the_driver_asks_for_identity_unless_its_spec_says_otherwise() -> None:
    seen: list[str | None] = []

    async def graphql(request: Request) -> JSONResponse:
        seen.append(request.headers.get("accept-encoding"))
        return JSONResponse({"data": {"__typename": "Query"}})

    app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])

    async def drive(url: str, **extra: str) -> None:
        spec = {
            "url": url,
            "api_key": "k",
            "body": '{"query": "{ __typename }"}',
            "concurrency": 1,
            "request_timeout_s": 5,
            **extra,
        }
        driver = Driver(spec)
        async with aiohttp.ClientSession(timeout=driver.timeout) as session:
            tally, _ = await driver.phase(session, 0.05)
        assert tally.errors == 0, tally.samples

    with ServedApp(app) as served:
        asyncio.run(drive(f"{served.url}/graphql"))
        identity = set(seen)
        seen.clear()
        asyncio.run(drive(f"{served.url}/graphql", accept_encoding="gzip"))
    assert identity == {"identity"}
    assert set(seen) == {"gzip"}
