"""The app's edges: public API, Basic auth, sub-account scope, unknown routes, JSON money."""

from __future__ import annotations

import base64
from decimal import Decimal

import httpx
import pytest
from starlette.applications import Starlette

import sandboxes.xendit as package
from sandboxes.xendit import DEFAULT_API_KEY, XenditSandbox, create_sandbox_app
from sandboxes.xendit.encoding import dumps

from .xendit_sandbox_helpers import BASE_URL, SUB_ACCOUNT_ID, FakeClock, find_invoice


def test_public_api_is_pinned() -> None:
    assert package.__all__ == [
        "BASE_URL",
        "DEFAULT_API_KEY",
        "ConnectionDropped",
        "XenditSandbox",
        "create_sandbox_app",
        "sandbox",
    ]
    assert DEFAULT_API_KEY == "xnd_development_sandbox_key"


def test_app_exposes_its_state() -> None:
    app = create_sandbox_app(clock=FakeClock())
    assert isinstance(app, Starlette)
    assert isinstance(app.state.sandbox, XenditSandbox)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    "header",
    [
        None,
        _basic("xnd_development_wrong", ""),
        _basic(DEFAULT_API_KEY, "secret"),
        f"Bearer {DEFAULT_API_KEY}",
        "Basic !!!not-base64",
        "Basic " + base64.b64encode(DEFAULT_API_KEY.encode()).decode(),  # no colon
    ],
    ids=["missing", "wrong-key", "password", "bearer", "garbage", "no-colon"],
)
async def test_bad_credentials_get_invalid_api_key(
    anonymous: httpx.AsyncClient, sandbox: XenditSandbox, header: str | None
) -> None:
    before = len(sandbox.invoices)
    headers = {} if header is None else {"Authorization": header}
    response = await anonymous.post(
        "/v2/invoices/", json={"external_id": "x", "amount": 10000}, headers=headers
    )
    assert response.status_code == 401
    body = response.json()
    assert body["error_code"] == "INVALID_API_KEY"
    assert set(body) == {"error_code", "message"}
    assert len(sandbox.invoices) == before


async def test_the_documented_header_form_is_accepted(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get(
        "/v2/invoices", headers={"Authorization": _basic(DEFAULT_API_KEY, "")}
    )
    assert response.status_code == 200


async def test_a_custom_api_key_replaces_the_default() -> None:
    app = create_sandbox_app(api_key="xnd_development_custom", clock=FakeClock())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        ok = await http.get("/v2/invoices", auth=("xnd_development_custom", ""))
        refused = await http.get("/v2/invoices", auth=(DEFAULT_API_KEY, ""))
    assert ok.status_code == 200
    assert refused.status_code == 401


async def test_for_user_id_scopes_every_call(
    client: httpx.AsyncClient, sandbox: XenditSandbox
) -> None:
    sub = {"for-user-id": SUB_ACCOUNT_ID}
    theirs = find_invoice(sandbox, user_id=SUB_ACCOUNT_ID)
    mine = find_invoice(sandbox)
    assert (await client.get(f"/v2/invoices/{theirs.id}")).status_code == 404
    assert (await client.get(f"/v2/invoices/{mine.id}", headers=sub)).status_code == 404
    seen = await client.get(f"/v2/invoices/{theirs.id}", headers=sub)
    assert seen.status_code == 200
    assert seen.json()["user_id"] == SUB_ACCOUNT_ID
    listed = (await client.get("/v2/invoices", params={"limit": 100}, headers=sub)).json()
    assert listed
    assert {row["user_id"] for row in listed} == {SUB_ACCOUNT_ID}


async def test_unknown_for_user_id_is_forbidden(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/invoices", headers={"for-user-id": "000000000000000000000000"})
    assert response.status_code == 403
    assert response.json()["error_code"] == "REQUEST_FORBIDDEN_ERROR"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v3/invoices"), ("DELETE", "/v2/invoices"), ("GET", "/invoices/x/expire!")],
)
async def test_unknown_routes_are_404_json(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path)
    assert response.status_code == 404
    assert response.json()["error_code"] == "NOT_FOUND"


async def test_an_unexpected_failure_is_server_error(
    client: httpx.AsyncClient, sandbox: XenditSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(sandbox, "lapse", broken)
    response = await client.get("/v2/invoices")
    assert response.status_code == 500
    assert response.json()["error_code"] == "SERVER_ERROR"


async def test_malformed_json_is_a_validation_error(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v2/invoices/", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == "API_VALIDATION_ERROR"


def test_money_is_written_as_exact_json_numbers() -> None:
    body = {"a": Decimal("4550.50"), "b": Decimal("50000"), "c": Decimal("0.1"), "d": Decimal(0)}
    assert dumps(body) == b'{"a":4550.5,"b":50000,"c":0.1,"d":0}'
    with pytest.raises(TypeError):
        dumps({"amount": 0.1})


async def test_money_reads_back_exactly(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v2/invoices/",
        json={"external_id": "usd", "amount": 0.3, "currency": "USD"},
    )
    assert response.status_code == 200
    assert b'"amount":0.3,' in response.content
    assert response.json(parse_float=Decimal)["amount"] == Decimal("0.3")
