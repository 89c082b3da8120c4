"""The sandbox's edges: public API, auth, unknown routes, request ids, binding errors."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

import sandboxes.flexprice as sandbox_package
from sandboxes.flexprice import DEFAULT_API_KEY, FlexPriceSandbox, create_sandbox_app


def test_public_api_is_pinned() -> None:
    assert sandbox_package.__all__ == [
        "BASE_URL",
        "DEFAULT_API_KEY",
        "ConnectionDropped",
        "FlexPriceSandbox",
        "create_sandbox_app",
        "sandbox",
    ]
    assert DEFAULT_API_KEY == "sk_sandbox_flexprice"


def test_app_exposes_state(app: Starlette) -> None:
    assert isinstance(app, Starlette)
    assert isinstance(app.state.sandbox, FlexPriceSandbox)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/invoices/search"),
        ("GET", "/v1/invoices/inv_missing"),
        ("GET", "/v1/customers"),
        ("POST", "/v1/invoices"),
    ],
)
async def test_missing_or_wrong_key_is_401_with_one_field_body(
    anonymous: httpx.AsyncClient, method: str, path: str
) -> None:
    missing = await anonymous.request(method, path, json={})
    wrong = await anonymous.request(method, path, json={}, headers={"x-api-key": "nope"})
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json() == {"error": "Unauthorized"}


async def test_custom_api_key_is_enforced() -> None:
    app = create_sandbox_app(api_key="sk_custom")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fp") as http:
        default = await http.get("/v1/customers", headers={"x-api-key": DEFAULT_API_KEY})
        custom = await http.get("/v1/customers", headers={"x-api-key": "sk_custom"})
    assert default.status_code == 401
    assert custom.status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/unknown"),
        ("GET", "/v2/invoices"),
        ("DELETE", "/v1/invoices/inv_1"),  # known path, unregistered method: gin says 404 too
        ("PATCH", "/v1/invoices/search"),
    ],
)
async def test_unknown_route_is_plain_text_404_before_auth(
    anonymous: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await anonymous.request(method, path)
    assert response.status_code == 404
    assert response.text == "404 page not found"
    assert response.headers["content-type"].startswith("text/plain")


async def test_request_id_is_echoed_or_minted(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/v1/customers", headers={"X-Request-ID": "req-123"})
    minted = await client.get("/v1/customers")
    not_found = await client.get("/v1/nowhere")
    assert echoed.headers["x-request-id"] == "req-123"
    assert len(minted.headers["x-request-id"]) == 26  # a ULID
    assert not_found.headers["x-request-id"]


async def test_json_responses_use_gin_content_type(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/customers")
    assert response.headers["content-type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize(
    ("method", "path", "content", "message"),
    [
        ("POST", "/v1/invoices", b"{not json", "invalid request"),
        ("POST", "/v1/invoices", b"[1, 2]", "invalid request"),
        ("POST", "/v1/invoices", b'{"amount_due": true}', "invalid request"),
        ("POST", "/v1/invoices", b'{"due_date": "tomorrow"}', "invalid request"),
        ("POST", "/v1/invoices", b'{"amount_due": "12,5"}', "invalid request"),
        ("POST", "/v1/invoices/search", b"", "invalid request body"),
        ("POST", "/v1/invoices/search", b'{"limit": "10"}', "invalid request body"),
        ("POST", "/v1/invoices/search", b'{"invoice_ids": "inv_1"}', "invalid request body"),
        ("POST", "/v1/customers", b'{"name": 5}', "invalid request"),
        ("PUT", "/v1/invoices/inv_1/payment", b"{}", "failed to bind request body"),
        ("POST", "/v1/invoices/preview", b'{"subscription_id": 1}', "failed to bind request body"),
        ("POST", "/v1/invoices/inv_1/void", b"{oops", "failed to parse request body"),
    ],
)
async def test_unbindable_requests_are_400_validation_error(
    client: httpx.AsyncClient, method: str, path: str, content: bytes, message: str
) -> None:
    response = await client.request(
        method, path, content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "validation_error",
        "message": message,
        "http_status_code": 400,
    }


async def test_unbindable_query_string_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/invoices", params={"limit": "many"})
    assert response.status_code == 400
    assert response.json()["message"] == "invalid query parameters"


async def test_no_response_carries_null(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/invoices/search", json={"limit": 1000})

    def walk(value: object) -> None:
        assert value is not None
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(response.json())


async def test_unexpected_failure_is_500_internal_error(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(invoice_id: str) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(sandbox, "invoice", broken)
    response = await client.get("/v1/invoices/inv_1")
    assert response.status_code == 500
    assert response.json() == {
        "code": "internal_error",
        "message": "An unexpected error occurred",
        "http_status_code": 500,
    }
