"""The app around the schema: what it serves besides /graphql."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import GatewaySettings
from gateway.wiring import on_sandbox


async def test_an_in_process_sandbox_is_served_by_the_gateway_with_working_pdf_links() -> None:
    wired = on_sandbox("flexprice")
    settings = GatewaySettings(public_url="http://gateway.test")
    app = create_app(settings=settings, providers={"flexprice": wired})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        body = (
            await client.post(
                "/graphql", json={"query": "{ invoices(first: 1) { edges { node { pdfUrl } } } }"}
            )
        ).json()
        url = body["data"]["invoices"]["edges"][0]["node"]["pdfUrl"]
        assert url.startswith("http://gateway.test/sandbox/flexprice/")
        pdf = await client.get(url)
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-")
        stats = (await client.get("/sandbox/flexprice/_sandbox/stats")).json()
        assert stats["requests"]["POST /v1/invoices/search"] == 1
    await wired.provider.aclose()


async def test_pdf_urls_of_a_page_are_fetched_at_most_eight_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wired = on_sandbox("flexprice")
    provider = wired.provider
    real = provider.get_invoice_pdf_url
    in_flight, peak, calls = 0, 0, 0

    async def counted(invoice_id: str) -> str:
        nonlocal in_flight, peak, calls
        in_flight += 1
        calls += 1
        peak = max(peak, in_flight)
        try:
            await asyncio.sleep(0)  # let the others start, if the gateway allows them to
            return await real(invoice_id)
        finally:
            in_flight -= 1

    monkeypatch.setattr(provider, "get_invoice_pdf_url", counted)
    app = create_app(settings=GatewaySettings(), providers={"flexprice": wired})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        query = "{ invoices(first: 30) { edges { node { providerId a: pdfUrl b: pdfUrl } } } }"
        body = (await client.post("/graphql", json={"query": query})).json()
    nodes = [e["node"] for e in body["data"]["invoices"]["edges"]]
    assert all(node["a"].startswith("http") and node["a"] == node["b"] for node in nodes)
    sandbox = wired.sandbox.state.sandbox
    unstored = [n for n in nodes if not sandbox.invoices[n["providerId"]].invoice_pdf_url]
    # One call per invoice with no stored URL: the alias asking again is served by the loader.
    assert calls == len(unstored) > 8
    assert peak == 8
    await provider.aclose()
