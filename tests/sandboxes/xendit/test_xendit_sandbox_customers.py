"""The Customer API: create (with idempotency), get, by reference id, patch, and scoping."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandboxes.xendit import XenditSandbox
from sandboxes.xendit.store import MASTER_USER_ID

from .xendit_sandbox_helpers import SUB_ACCOUNT_ID, FakeClock


def customer_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference_id": "shop-user-42",
        "type": "INDIVIDUAL",
        "individual_detail": {"given_names": "Siti", "surname": "Rahayu"},
        "email": "siti@example.com",
        "mobile_number": "+6281299990000",
        "addresses": [
            {"country_code": "ID", "city": "Jakarta", "line_1": "Jl. Merdeka 1", "is_primary": True}
        ],
        "metadata": {"tier": "gold"},
    }
    body.update(overrides)
    return body


def _first(sandbox: XenditSandbox, user_id: str = MASTER_USER_ID) -> Any:
    return next(c for c in sandbox.customers.values() if c.user_id == user_id)


async def test_create_customer(client: httpx.AsyncClient, sandbox: XenditSandbox) -> None:
    response = await client.post("/customers", json=customer_body())
    assert response.status_code == 200
    body = response.json()
    assert body["id"].startswith("cust-")
    assert body["reference_id"] == "shop-user-42"
    assert body["individual_detail"]["given_names"] == "Siti"
    assert body["business_detail"]["business_name"] is None
    assert body["addresses"][0]["country"] == "ID"
    assert body["addresses"][0]["street_line1"] == "Jl. Merdeka 1"
    assert body["created"] == "2025-06-15T12:00:00.000Z"
    stored = sandbox.customers[body["id"]]
    assert stored.user_id == MASTER_USER_ID
    assert stored.metadata == {"tier": "gold"}


async def test_idempotency_key_replays_the_first_customer(
    client: httpx.AsyncClient, sandbox: XenditSandbox
) -> None:
    headers = {"idempotency-key": "k-1"}
    first = await client.post("/customers", json=customer_body(), headers=headers)
    again = await client.post(
        "/customers", json=customer_body(email="other@example.com"), headers=headers
    )
    assert again.status_code == 200
    assert again.json() == first.json()
    assert sum(c.reference_id == "shop-user-42" for c in sandbox.customers.values()) == 1


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"reference_id": None}, "API_VALIDATION_ERROR"),
        ({"reference_id": "x" * 256}, "API_VALIDATION_ERROR"),
        ({"type": "ROBOT"}, "API_VALIDATION_ERROR"),
        ({"individual_detail": {"surname": "Only"}}, "API_VALIDATION_ERROR"),
        ({"type": "BUSINESS", "business_detail": {}}, "API_VALIDATION_ERROR"),
        ({"email": "nope"}, "API_VALIDATION_ERROR"),
        ({"reference_id": "CUS-ID-00001"}, "DUPLICATE_END_CUSTOMER_ERROR"),
    ],
)
async def test_invalid_customer_is_refused(
    client: httpx.AsyncClient, sandbox: XenditSandbox, overrides: dict[str, Any], code: str
) -> None:
    before = len(sandbox.customers)
    body = {k: v for k, v in customer_body(**overrides).items() if v is not None}
    response = await client.post("/customers", json=body)
    assert response.status_code == 400
    assert response.json()["error_code"] == code
    assert len(sandbox.customers) == before


async def test_get_customer_and_404(client: httpx.AsyncClient, sandbox: XenditSandbox) -> None:
    customer = _first(sandbox)
    body = (await client.get(f"/customers/{customer.id}")).json()
    assert body["id"] == customer.id
    assert body["reference_id"] == customer.reference_id
    missing = await client.get("/customers/cust-missing")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "DATA_NOT_FOUND"


async def test_by_reference_id(client: httpx.AsyncClient, sandbox: XenditSandbox) -> None:
    customer = _first(sandbox)
    found = await client.get("/customers", params={"reference_id": customer.reference_id})
    assert found.json()["has_more"] is False
    assert [c["id"] for c in found.json()["data"]] == [customer.id]
    empty = await client.get("/customers", params={"reference_id": "nobody"})
    assert empty.json() == {"data": [], "has_more": False}
    missing = await client.get("/customers")
    assert missing.status_code == 400
    assert missing.json()["error_code"] == "API_VALIDATION_ERROR"


async def test_patch_customer(
    client: httpx.AsyncClient, sandbox: XenditSandbox, clock: FakeClock
) -> None:
    customer = _first(sandbox)
    clock.advance(hours=1)
    response = await client.patch(
        f"/customers/{customer.id}",
        json={"email": "new@example.com", "description": None, "status": "INACTIVE"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "new@example.com"
    assert body["status"] == "INACTIVE"
    assert body["updated"] == "2025-06-15T13:00:00.000Z"
    assert customer.email == "new@example.com"
    assert customer.description is None


async def test_invalid_patch_changes_nothing(
    client: httpx.AsyncClient, sandbox: XenditSandbox
) -> None:
    customers = [c for c in sandbox.customers.values() if c.user_id == MASTER_USER_ID]
    target, other = customers[0], customers[1]
    response = await client.patch(
        f"/customers/{target.id}",
        json={"email": "ok@example.com", "reference_id": other.reference_id},
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == "DUPLICATE_END_CUSTOMER_ERROR"
    assert target.email != "ok@example.com"
    bad = await client.patch(f"/customers/{target.id}", json={"status": "GONE"})
    assert bad.json()["error_code"] == "API_VALIDATION_ERROR"
    unknown = await client.patch("/customers/cust-missing", json={})
    assert unknown.status_code == 400
    assert unknown.json()["error_code"] == "END_CUSTOMER_NOT_FOUND_ERROR"


async def test_customers_are_scoped_to_the_account(
    client: httpx.AsyncClient, sandbox: XenditSandbox
) -> None:
    theirs = _first(sandbox, SUB_ACCOUNT_ID)
    sub = {"for-user-id": SUB_ACCOUNT_ID}
    assert (await client.get(f"/customers/{theirs.id}")).status_code == 404
    assert (await client.get(f"/customers/{theirs.id}", headers=sub)).status_code == 200
    created = await client.post("/customers", json=customer_body(), headers=sub)
    assert sandbox.customers[created.json()["id"]].user_id == SUB_ACCOUNT_ID
    # The same reference id is free in another business.
    assert (await client.post("/customers", json=customer_body())).status_code == 200
