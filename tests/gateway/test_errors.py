"""How failures reach a client: coded, partial where possible, never a secret or a traceback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.ids import GlobalId, NodeType
from gateway.settings import GatewaySettings
from providers.flexprice import FlexPriceProvider, FlexPriceSettings
from providers.transport import AsgiTransport, HandlerTransport, Request, Response, Transport
from sandboxes.flexprice import create_sandbox_app
from tests.gateway.conftest import FAST

SENTINEL = "sk_live_SENTINEL_9f3a"
CUSTOMER = GlobalId(NodeType.CUSTOMER, "flexprice", "cust_1").encode()
INVOICE = GlobalId(NodeType.INVOICE, "flexprice", "inv_1").encode()


def _gateway_over(transport: Transport, key: str = SENTINEL) -> Any:
    settings = FlexPriceSettings(api_key=key, base_url="http://flexprice.test/v1")
    provider = FlexPriceProvider(settings=settings, transport=transport, policy=FAST)
    return create_app(settings=GatewaySettings(), providers={"flexprice": provider}), provider


@pytest.fixture
async def client_for() -> AsyncIterator[Callable[[Any], httpx.AsyncClient]]:
    clients: list[httpx.AsyncClient] = []

    def make(app: Any) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


def _upstream_failing(status: int, calls: list[Request]) -> HandlerTransport:
    def handler(request: Request) -> Response:
        calls.append(request)
        # The body carries the key: a provider error text must never be passed on.
        return Response.of(status, json={"code": "system_error", "message": f"db {SENTINEL}"})

    return HandlerTransport(handler)


async def test_a_provider_outage_is_a_coded_error_naming_the_provider(client_for: Any) -> None:
    calls: list[Request] = []
    app, _ = _gateway_over(_upstream_failing(503, calls))
    response = await client_for(app).post(
        "/graphql", json={"query": f'{{ invoice(id: "{INVOICE}") {{ id }} }}'}
    )
    body = response.json()
    assert response.status_code == 200
    assert body["data"] == {"invoice": None}
    [error] = body["errors"]
    assert error["extensions"] == {"code": "PROVIDER_UNAVAILABLE", "provider": "flexprice"}
    assert error["path"] == ["invoice"]
    assert SENTINEL not in response.text
    assert len(calls) == FAST.attempts  # a read is retried, within the policy's attempts


async def test_a_mutation_during_an_outage_is_an_error_not_a_user_error(client_for: Any) -> None:
    calls: list[Request] = []
    app, _ = _gateway_over(_upstream_failing(500, calls))
    response = await client_for(app).post(
        "/graphql",
        json={
            "query": """mutation($c: ID!) { createInvoice(input: {customerId: $c, currency: "USD",
                          lineItems: [{description: "x", quantity: "1", unitAmount: "1"}]})
                        { invoice { id } userErrors { code } } }""",
            "variables": {"c": CUSTOMER},
        },
    )
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "PROVIDER_UNAVAILABLE"
    assert SENTINEL not in response.text
    assert len(calls) == 1  # a 500 is not retried


async def test_a_refused_key_is_reported_without_the_key(client_for: Any) -> None:
    sandbox = create_sandbox_app(api_key="sk_the_right_one")
    app, provider = _gateway_over(AsgiTransport(sandbox))
    response = await client_for(app).post(
        "/graphql", json={"query": "{ invoices(first: 1) { totalCount } }"}
    )
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "PROVIDER_AUTH_FAILED"
    assert "API key" in error["message"]
    assert SENTINEL not in response.text
    assert SENTINEL not in repr(provider)
    assert SENTINEL not in provider.describe()
    ready = await client_for(app).get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["providers"]["flexprice"]["code"] == "PROVIDER_AUTH_FAILED"
    assert SENTINEL not in ready.text


async def test_a_bug_is_masked_with_a_request_id_and_logged_in_full(
    client_for: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox = create_sandbox_app(api_key="k")
    app, provider = _gateway_over(AsgiTransport(sandbox), key="k")

    async def broken(ids: Any) -> Any:
        raise RuntimeError(f"internal detail {SENTINEL}")

    monkeypatch.setattr(provider, "get_invoices", broken)
    client = client_for(app)
    query = {"query": f'{{ invoice(id: "{INVOICE}") {{ id }} }}'}
    with caplog.at_level(logging.ERROR, logger="gateway.errors"):
        responses = await asyncio.gather(*(client.post("/graphql", json=query) for _ in range(50)))
    for response in responses:
        [error] = response.json()["errors"]
        assert error["message"] == "Unexpected error."
        assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        assert error["extensions"]["requestId"] == response.headers["x-request-id"]
        assert SENTINEL not in response.text
    assert f"internal detail {SENTINEL}" in caplog.text  # the log has what the client does not


async def test_request_ids_are_echoed_when_plain_and_replaced_otherwise(client_for: Any) -> None:
    app, _ = _gateway_over(AsgiTransport(create_sandbox_app(api_key="k")), key="k")
    client = client_for(app)
    query = {"query": "{ __typename }"}
    given = await client.post("/graphql", json=query, headers={"x-request-id": "req-42"})
    assert given.headers["x-request-id"] == "req-42"
    hostile = await client.post("/graphql", json=query, headers={"x-request-id": "a\tb" * 40})
    assert hostile.headers["x-request-id"] != "a\tb" * 40
    assert len(hostile.headers["x-request-id"]) == 32


async def test_an_invalid_query_is_a_validation_error_with_a_code(client_for: Any) -> None:
    app, _ = _gateway_over(AsgiTransport(create_sandbox_app(api_key="k")), key="k")
    response = await client_for(app).post("/graphql", json={"query": "{ invoices { nope } }"})
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "nope" in error["message"]


async def test_health_and_readiness(client_for: Any) -> None:
    app, _ = _gateway_over(AsgiTransport(create_sandbox_app(api_key="k")), key="k")
    client = client_for(app)
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    flexprice = body["providers"]["flexprice"]
    assert (flexprice["ready"], flexprice["sandbox"]) == (True, False)
    assert flexprice["upstream"]["circuit_breaker"]["state"] == "closed"
    assert set(flexprice["upstream"]) == {"http", "circuit_breaker", "bulkhead", "retry_budget"}


@pytest.mark.parametrize(
    "body", [b"\xff", b'{"query": "{ __typename }", "variables": {"n": ' + b"1" * 5000 + b"}}"]
)
async def test_a_body_that_cannot_be_parsed_is_400_not_500(client_for: Any, body: bytes) -> None:
    app, _ = _gateway_over(AsgiTransport(create_sandbox_app(api_key="k")), key="k")
    response = await client_for(app).post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("body", [b"null", b"1", b"[]", b'"query"'])
async def test_a_json_body_that_is_not_an_object_is_400_not_500(
    client_for: Any, body: bytes
) -> None:
    app, _ = _gateway_over(AsgiTransport(create_sandbox_app(api_key="k")), key="k")
    response = await client_for(app).post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "JSON object" in response.text


async def test_a_syntax_error_has_a_code(client_for: Any) -> None:
    app, _ = _gateway_over(AsgiTransport(create_sandbox_app(api_key="k")), key="k")
    response = await client_for(app).post("/graphql", json={"query": "{ providers {"})
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Syntax Error" in error["message"]


async def test_an_exception_outside_execution_is_masked_too(
    client_for: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import strawberry.schema.schema as strawberry_schema

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"escaped {SENTINEL}")

    monkeypatch.setattr(strawberry_schema, "execute", broken)
    app, _ = _gateway_over(AsgiTransport(create_sandbox_app(api_key="k")), key="k")
    with caplog.at_level(logging.ERROR, logger="gateway.errors"):
        response = await client_for(app).post("/graphql", json={"query": "{ __typename }"})
    [error] = response.json()["errors"]
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert SENTINEL not in response.text
    assert f"escaped {SENTINEL}" in caplog.text


async def test_a_sandbox_dropping_connections_is_unavailable_not_a_bug(client_for: Any) -> None:
    sandbox = create_sandbox_app(api_key="k")
    app, _ = _gateway_over(AsgiTransport(sandbox), key="k")
    control = httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox), base_url="http://sb")
    async with control:
        assert (await control.put("/_sandbox/faults", json={"reset_rate": 1.0})).status_code == 200
    body = (
        await client_for(app).post(
            "/graphql", json={"query": f'{{ invoice(id: "{INVOICE}") {{ id }} }}'}
        )
    ).json()
    [error] = body["errors"]
    assert error["extensions"] == {"code": "PROVIDER_UNAVAILABLE", "provider": "flexprice"}
