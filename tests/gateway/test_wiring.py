"""How the gateway wires providers: from the environment, or without credentials to their
sandbox in this process, through the `invoice_gateway.sandboxes` entry points. The knowledge
of what runs on a sandbox is the gateway's record (`Wired`), never the provider's."""

from __future__ import annotations

import httpx
import pytest

from gateway.app import create_app, providers_from_environment
from gateway.settings import GatewaySettings
from gateway.wiring import Wired, load_sandbox, on_sandbox, sandbox_names, wire
from providers.errors import MissingCredentials
from providers.flexprice import FlexPriceProvider
from providers.models import InvoiceFilter, PageRequest
from providers.registry import available
from providers.transport import AsgiTransport
from providers.xendit import XenditProvider
from sandboxes.kit import Sandbox, SandboxApp

PROVIDERS_QUERY = "{ providers { name sandbox } }"


async def _close(wired: dict[str, Wired]) -> None:
    for entry in wired.values():
        await entry.provider.aclose()


async def _stats(app: SandboxApp) -> dict[str, int]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sb") as client:
        requests: dict[str, int] = (await client.get("/_sandbox/stats")).json()["requests"]
    return {route: count for route, count in requests.items() if count}


def test_every_provider_shipped_here_has_a_sandbox_entry_point() -> None:
    assert sandbox_names() == sorted(available()) == ["flexprice", "xendit"]
    for name in sandbox_names():
        entry = load_sandbox(name)
        assert isinstance(entry, Sandbox)
        assert entry.name == name
        assert isinstance(entry.app(), SandboxApp)


async def test_without_credentials_each_provider_calls_its_own_sandbox_in_process() -> None:
    wired = providers_from_environment(GatewaySettings(), {})
    try:
        assert {name: entry.on_sandbox for name, entry in wired.items()} == {
            "flexprice": True,
            "xendit": True,
        }
        flexprice, xendit = wired["flexprice"], wired["xendit"]
        assert isinstance(flexprice.provider, FlexPriceProvider)
        assert isinstance(xendit.provider, XenditProvider)
        transport = flexprice.provider.client.upstream.transport
        assert isinstance(transport, AsgiTransport)  # no socket
        assert transport.app is flexprice.sandbox
        page = await flexprice.provider.list_invoices(InvoiceFilter(), PageRequest(first=2))
        assert len(page.items) == 2
        assert flexprice.sandbox is not None
        assert xendit.sandbox is not None
        # The call reached this sandbox, and only this one.
        assert await _stats(flexprice.sandbox) == {"POST /v1/invoices/search": 1}
        assert await _stats(xendit.sandbox) == {}
        assert flexprice.describe() == (
            "flexprice: sandbox (in-process), API key sk_sandbox_flexprice"
        )
    finally:
        await _close(wired)


async def test_with_credentials_the_provider_calls_its_api_and_no_sandbox_is_made() -> None:
    entry = wire("flexprice", {"FLEXPRICE_API_KEY": "sk_live_wiring_secret"})
    try:
        assert entry.on_sandbox is False
        assert entry.sandbox is None
        assert not isinstance(entry.provider.client.upstream.transport, AsgiTransport)  # type: ignore[attr-defined]
        assert entry.describe() == "flexprice: https://us.api.flexprice.io/v1"
        assert "sk_live_wiring_secret" not in entry.describe()
    finally:
        await entry.provider.aclose()


def test_without_credentials_and_without_a_sandbox_the_provider_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Deny by default: only a registered sandbox stands in for missing credentials."""
    monkeypatch.setattr("gateway.wiring.load_sandbox", lambda name: None)
    with pytest.raises(MissingCredentials, match="XENDIT_SECRET_KEY is not set"):
        wire("xendit", {})
    with pytest.raises(LookupError, match="no sandbox named 'xendit'"):
        on_sandbox("xendit")


async def test_the_schema_and_readyz_say_which_provider_runs_on_a_sandbox() -> None:
    wired = {
        "flexprice": on_sandbox("flexprice"),
        "xendit": wire("xendit", {"XENDIT_SECRET_KEY": "xnd_development_wiring"}),
    }
    app = create_app(settings=GatewaySettings(providers=("flexprice", "xendit")), providers=wired)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            body = (await client.post("/graphql", json={"query": PROVIDERS_QUERY})).json()
            ready = (await client.get("/readyz")).json()
            mounted = await client.get("/sandbox/flexprice/_sandbox/stats")
            unmounted = await client.get("/sandbox/xendit/_sandbox/stats")
            graphiql = await client.get("/graphql", headers={"accept": "text/html"})
        assert body["data"]["providers"] == [
            {"name": "flexprice", "sandbox": True},
            {"name": "xendit", "sandbox": False},
        ]
        assert ready["providers"]["flexprice"]["sandbox"] is True
        assert ready["providers"]["xendit"]["sandbox"] is False
        assert mounted.status_code == 200
        assert unmounted.status_code == 404
        # Not every provider is a sandbox: GraphiQL stays off unless asked for.
        assert "graphiql" not in graphiql.text.lower()
    finally:
        await _close(wired)


async def test_an_exposed_sandbox_hands_out_links_under_its_public_url() -> None:
    entry = on_sandbox("flexprice")
    create_app(
        settings=GatewaySettings(public_url="https://billing.example.com/"),
        providers={"flexprice": entry},
    )
    try:
        assert entry.sandbox is not None
        sandbox = entry.sandbox.state.sandbox  # type: ignore[attr-defined]
        native = next(i.id for i in sandbox.invoices.values() if not i.invoice_pdf_url)
        url = await entry.provider.get_invoice_pdf_url(native)
        assert url == f"https://billing.example.com/sandbox/flexprice/_sandbox/files/{native}.pdf"
    finally:
        await entry.provider.aclose()


@pytest.fixture
def served_alone() -> SandboxApp:
    entry = load_sandbox("flexprice")
    assert entry is not None
    return entry.app(api_key="sk_alone")


async def test_a_sandbox_not_exposed_links_to_where_it_was_reached(
    served_alone: SandboxApp,
) -> None:
    transport = httpx.ASGITransport(app=served_alone, root_path="/mounted")
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8100") as c:
        invoices = served_alone.state.sandbox.invoices  # type: ignore[attr-defined]
        native = next(i.id for i in invoices.values() if not i.invoice_pdf_url)
        answer = await c.get(
            f"/mounted/v1/invoices/{native}/pdf",
            params={"url": "true"},
            headers={"x-api-key": "sk_alone"},
        )
    url = answer.json()["presigned_url"]
    assert url == f"http://127.0.0.1:8100/mounted/_sandbox/files/{native}.pdf"
