"""The app around the schema: what it serves besides /graphql."""

from __future__ import annotations

import httpx

from gateway.app import create_app
from gateway.settings import GatewaySettings
from providers.flexprice import FlexPriceProvider


async def test_an_in_process_sandbox_is_served_by_the_gateway_with_working_pdf_links() -> None:
    provider = FlexPriceProvider.in_process_sandbox()
    settings = GatewaySettings(public_url="http://gateway.test")
    app = create_app(settings=settings, providers={"flexprice": provider})
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
    await provider.aclose()
