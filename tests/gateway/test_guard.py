"""Who may call, and what one request may cost: refused before any provider is asked."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.ids import GlobalId, NodeType
from gateway.settings import GatewaySettings
from gateway.wiring import Wired, on_sandbox
from tests.gateway.conftest import FAST

READ = "reader-0123456789abcdef"
WRITE = "writer-0123456789abcdef"
KEYS = f"dashboard:read:{READ},billing:write:{WRITE}"


@pytest.fixture
async def served() -> AsyncIterator[Callable[..., Any]]:
    made: list[tuple[httpx.AsyncClient, Wired]] = []

    async def make(**settings: Any) -> tuple[httpx.AsyncClient, Wired]:
        provider = on_sandbox("flexprice", policy=FAST)
        app = create_app(
            settings=GatewaySettings(providers=("flexprice",), **settings),
            providers={"flexprice": provider},
        )
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
        made.append((client, provider))
        return client, provider

    yield make
    for client, provider in made:
        await client.aclose()
        await provider.provider.aclose()


async def upstream(provider: Wired) -> int:
    assert provider.sandbox is not None
    transport = httpx.ASGITransport(app=provider.sandbox)
    async with httpx.AsyncClient(transport=transport, base_url="http://sb") as client:
        total: int = (await client.get("/_sandbox/stats")).json()["requests_total"]
        return total


MUTATION = """mutation($id: ID!) { finalizeInvoice(input: {id: $id}) {
  invoice { status } userErrors { code } } }"""


def draft_id(provider: Wired) -> str:
    assert provider.sandbox is not None
    sandbox = provider.sandbox.state.sandbox
    native = next(
        i.id
        for i in sorted(sandbox.invoices.values(), key=lambda i: i.id)
        if i.invoice_status == "DRAFT" and i.invoice_type == "ONE_OFF"
    )
    return GlobalId(NodeType.INVOICE, "flexprice", native).encode()


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer wrong-0123456789abcdef"}, {"authorization": f"Basic {READ}"}],
)
async def test_without_a_valid_key_the_answer_is_401_and_no_provider_is_asked(
    served: Any, headers: dict[str, str]
) -> None:
    client, provider = await served(api_keys=KEYS)
    response = await client.post(
        "/graphql", json={"query": "{ invoices(first: 1) { totalCount } }"}, headers=headers
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert READ not in response.text
    assert await upstream(provider) == 0


@pytest.mark.parametrize("headers", [{"authorization": f"Bearer {READ}"}, {"x-api-key": READ}])
async def test_a_read_key_reads(served: Any, headers: dict[str, str]) -> None:
    client, _ = await served(api_keys=KEYS)
    response = await client.post(
        "/graphql", json={"query": "{ invoices(first: 1) { totalCount } }"}, headers=headers
    )
    assert response.status_code == 200
    assert response.json()["data"]["invoices"]["totalCount"] > 0


async def test_a_read_key_cannot_mutate_and_nothing_reaches_the_provider(served: Any) -> None:
    client, provider = await served(api_keys=KEYS)
    invoice = draft_id(provider)
    response = await client.post(
        "/graphql",
        json={"query": MUTATION, "variables": {"id": invoice}},
        headers={"authorization": f"Bearer {READ}"},
    )
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await upstream(provider) == 0
    written = await client.post(
        "/graphql",
        json={"query": MUTATION, "variables": {"id": invoice}},
        headers={"authorization": f"Bearer {WRITE}"},
    )
    assert written.json()["data"]["finalizeInvoice"]["userErrors"] == []


async def test_without_keys_the_sandbox_gateway_serves_anyone(served: Any) -> None:
    client, provider = await served()
    response = await client.post(
        "/graphql", json={"query": MUTATION, "variables": {"id": draft_id(provider)}}
    )
    assert response.json()["data"]["finalizeInvoice"]["userErrors"] == []


@pytest.mark.parametrize(
    ("settings", "query", "code"),
    [
        (
            {"max_depth": 3},
            "{ invoices { edges { node { customer { name } } } } }",
            "QUERY_TOO_DEEP",
        ),
        (
            {"max_aliases": 3},
            "{ a: providers { name } b: providers { name } c: providers { name } "
            "d: providers { name } }",
            "TOO_MANY_ALIASES",
        ),
        (
            {"max_aliases": 2},
            "query { ...F ...F } "
            "fragment F on Query { a: providers { name } b: providers { name } }",
            "TOO_MANY_ALIASES",
        ),
        ({"max_tokens": 20}, "{ " + "providers { name } " * 10 + "}", "TOO_MANY_TOKENS"),
        (
            {"max_root_fields": 2},
            "{ providers { name } invoices(first: 1) { totalCount } __typename }",
            "TOO_MANY_ROOT_FIELDS",
        ),
    ],
)
async def test_a_query_over_a_limit_is_refused_with_its_own_code(
    served: Any, settings: dict[str, int], query: str, code: str
) -> None:
    client, provider = await served(**settings)
    response = await client.post("/graphql", json={"query": query})
    body = response.json()
    assert code in [e["extensions"]["code"] for e in body["errors"]]
    assert await upstream(provider) == 0


async def test_a_body_over_the_limit_is_413_before_it_is_parsed(served: Any) -> None:
    client, _ = await served(max_body_bytes=1000)
    big = '{"query": "{ __typename }", "pad": "' + "x" * 5000 + '"}'
    response = await client.post(
        "/graphql", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"

    async def chunks() -> AsyncIterator[bytes]:  # no content-length: counted while streaming
        for _ in range(10):
            yield b"x" * 500

    streamed = await client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413


async def test_a_get_operation_needs_a_preflight_header(served: Any) -> None:
    client, _ = await served()
    blocked = await client.get("/graphql", params={"query": "{ __typename }"})
    assert blocked.status_code == 400
    assert blocked.json()["errors"][0]["extensions"]["code"] == "CSRF_PREVENTED"
    allowed = await client.get(
        "/graphql",
        params={"query": "{ __typename }"},
        headers={"apollo-require-preflight": "true"},
    )
    assert allowed.json()["data"] == {"__typename": "Query"}


async def test_cors_allows_only_the_configured_origins(served: Any) -> None:
    client, _ = await served(cors_origins=("https://app.example.com",))
    preflight = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
    }
    ok = await client.options(
        "/graphql", headers={"origin": "https://app.example.com", **preflight}
    )
    assert ok.headers["access-control-allow-origin"] == "https://app.example.com"
    other = await client.options(
        "/graphql", headers={"origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in other.headers


async def test_introspection_off_hides_the_schema_and_field_suggestions(served: Any) -> None:
    client, _ = await served(introspection=False)
    body = (await client.post("/graphql", json={"query": "{ __schema { types { name } } }"})).json()
    assert body["errors"]
    typo = (await client.post("/graphql", json={"query": "{ invoicez { totalCount } }"})).json()
    assert "Did you mean" not in typo["errors"][0]["message"]


async def test_a_repeated_query_is_validated_once_with_every_limit_on(
    served: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limits must not defeat the validation cache (keyed by the rule classes): a
    repeated query is validated once, not per request."""
    import gateway.documents

    validations: list[object] = []
    validate = gateway.documents.validate_document

    def counting(*args: Any) -> Any:
        validations.append(args[1])
        return validate(*args)

    monkeypatch.setattr(gateway.documents, "validate_document", counting)
    client, _ = await served(max_depth=5, max_aliases=5, max_root_fields=5)
    query = {"query": "{ providers { name } repeated: __typename }"}
    first = await client.post("/graphql", json=query)
    assert "errors" not in first.json()
    assert len(validations) == 1
    for _ in range(5):
        assert (await client.post("/graphql", json=query)).json() == first.json()
    assert len(validations) == 1
