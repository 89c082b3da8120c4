"""``/v1/customers*``: lookups, search, listing and creation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandboxes.flexprice import FlexPriceSandbox

from .flexprice_sandbox_helpers import NOW, find_customer

ALWAYS = {
    "id",
    "external_id",
    "name",
    "email",
    "address_line1",
    "address_line2",
    "address_city",
    "address_state",
    "address_postal_code",
    "address_country",
    "timezone",
    "metadata",
    "environment_id",
    "tenant_id",
    "status",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
}


async def test_get_by_id_and_external_id(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    customer = find_customer(sandbox, index=1)
    by_id = await client.get(f"/v1/customers/{customer.id}")
    by_external = await client.get(f"/v1/customers/external/{customer.external_id}")
    assert by_id.status_code == by_external.status_code == 200
    assert by_id.json() == by_external.json()
    assert set(by_id.json()) >= ALWAYS
    assert by_id.json()["external_id"] == customer.external_id


async def test_empty_fields_are_present_and_contact_is_omitempty(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    customer = next(c for c in sandbox.customers.values() if not c.email and not c.metadata)
    body = (await client.get(f"/v1/customers/{customer.id}")).json()
    assert body["email"] == ""
    assert body["metadata"] == {}
    with_contact = next(c for c in sandbox.customers.values() if c.contact)
    without_contact = next(c for c in sandbox.customers.values() if not c.contact)
    assert "contact" in (await client.get(f"/v1/customers/{with_contact.id}")).json()
    assert "contact" not in (await client.get(f"/v1/customers/{without_contact.id}")).json()


async def test_unknown_customer_is_404(client: httpx.AsyncClient) -> None:
    by_id = await client.get("/v1/customers/cust_missing")
    by_external = await client.get("/v1/customers/external/nobody")
    assert by_id.status_code == by_external.status_code == 404
    assert by_id.json()["code"] == "not_found"
    assert by_id.json()["message"] == "Customer with ID cust_missing was not found"


async def test_external_id_with_a_slash_is_only_reachable_by_search(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    customer = next(c for c in sandbox.customers.values() if "/" in c.external_id)
    path = await client.get(f"/v1/customers/external/{customer.external_id}")
    found = await client.post("/v1/customers/search", json={"external_ids": [customer.external_id]})
    assert path.status_code == 404
    assert path.text == "404 page not found"
    assert [c["id"] for c in found.json()["items"]] == [customer.id]


async def test_search_by_ids_and_external_ids(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    customers = [find_customer(sandbox, index=i) for i in (3, 4, 5)]
    by_ids = await client.post(
        "/v1/customers/search", json={"customer_ids": [c.id for c in customers] + ["cust_x"]}
    )
    by_external = await client.post(
        "/v1/customers/search", json={"external_ids": [c.external_id for c in customers]}
    )
    expected = {c.id for c in customers}
    assert {c["id"] for c in by_ids.json()["items"]} == expected
    assert {c["id"] for c in by_external.json()["items"]} == expected
    assert by_ids.json()["pagination"]["total"] == 3


async def test_search_by_external_id_email_and_metadata(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    customer = find_customer(sandbox, index=6)
    one = await client.post("/v1/customers/search", json={"external_id": customer.external_id})
    mail = await client.post("/v1/customers/search", json={"email": customer.email})
    enterprise = await client.post(
        "/v1/customers/search", json={"metadata": {"segment": "enterprise"}, "limit": 1000}
    )
    assert [c["id"] for c in one.json()["items"]] == [customer.id]
    assert [c["id"] for c in mail.json()["items"]] == [customer.id]
    expected = {
        c.id for c in sandbox.customers.values() if c.metadata.get("segment") == "enterprise"
    }
    assert {c["id"] for c in enterprise.json()["items"]} == expected


async def test_search_rejects_a_malformed_email(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/customers/search", json={"email": "not-an-email"})
    assert response.status_code == 400


async def test_customer_pagination_offset_is_the_next_offset(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    first = (await client.post("/v1/customers/search", json={"limit": 10})).json()
    second = (await client.post("/v1/customers/search", json={"limit": 10, "offset": 10})).json()
    assert first["pagination"] == {"total": len(sandbox.customers), "limit": 10, "offset": 10}
    assert second["pagination"] == {"total": len(sandbox.customers), "limit": 10, "offset": 20}
    assert not {c["id"] for c in first["items"]} & {c["id"] for c in second["items"]}
    stamps = [c["created_at"] for c in first["items"]]
    assert stamps == sorted(stamps, reverse=True)


async def test_customer_dsl_and_unknown_field(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    condition = {"field": "address_country", "operator": "eq", "value": {"string": "IN"}}
    india = await client.post("/v1/customers/search", json={"filters": [condition], "limit": 100})
    expected = {c.id for c in sandbox.customers.values() if c.address_country == "IN"}
    assert {c["id"] for c in india.json()["items"]} == expected
    bad = {"field": "shoe_size", "operator": "eq", "value": {"string": "42"}}
    refused = await client.post("/v1/customers/search", json={"filters": [bad]})
    assert refused.status_code == 400
    assert refused.json()["message"] == "unknown field name 'shoe_size' in customer query"


async def test_get_list_reads_repeated_keys(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    customers = [find_customer(sandbox, index=i) for i in (7, 8)]
    response = await client.get(
        "/v1/customers",
        params=[("external_ids", c.external_id) for c in customers] + [("limit", "5")],
    )
    assert response.status_code == 200
    assert {c["id"] for c in response.json()["items"]} == {c.id for c in customers}
    assert response.json()["pagination"] == {"total": 2, "limit": 5, "offset": 5}


async def test_create_customer(client: httpx.AsyncClient, sandbox: FlexPriceSandbox) -> None:
    body = {
        "external_id": "new-1",
        "name": "New Co",
        "email": "ap@new.example.com",
        "address_country": "DE",
        "timezone": "Europe/Berlin",
        "metadata": {"tier": "gold"},
    }
    response = await client.post("/v1/customers", json=body)
    assert response.status_code == 201
    created = response.json()
    assert created["id"].startswith("cust_")
    assert created["created_at"] == "2025-06-15T12:00:00Z"
    assert created["address_line1"] == ""
    assert set(created) >= ALWAYS
    stored = sandbox.customers[created["id"]]
    assert stored.external_id == "new-1"
    assert stored.created_at == NOW
    assert stored.metadata == {"tier": "gold"}
    default_tz = await client.post("/v1/customers", json={"external_id": "new-2", "name": "N2"})
    assert default_tz.json()["timezone"] == "UTC"


async def test_duplicate_external_id_is_409(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    existing = find_customer(sandbox)
    response = await client.post(
        "/v1/customers", json={"external_id": existing.external_id, "name": "Copy"}
    )
    assert response.status_code == 409
    assert response.json() == {
        "code": "already_exists",
        "message": "A customer with this identifier already exists",
        "http_status_code": 409,
    }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"external_id": None}, "ExternalID"),
        ({"name": ""}, "Name"),
        ({"name": "x" * 256}, "Name"),
        ({"email": "nope"}, "Email"),
        ({"contact": "1" * 21}, "Contact"),
        ({"address_city": "c" * 101}, "AddressCity"),
        ({"address_postal_code": "9" * 21}, "AddressPostalCode"),
        ({"address_country": "DEU"}, "AddressCountry"),
        ({"address_country": "XX"}, "AddressCountry"),
        ({"timezone": "Mars/Olympus"}, "Timezone"),
    ],
)
async def test_create_customer_validation(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox, overrides: dict[str, Any], field: str
) -> None:
    body = {"external_id": "v-1", "name": "Valid", **overrides}
    body = {k: v for k, v in body.items() if v is not None}
    count = len(sandbox.customers)
    response = await client.post("/v1/customers", json=body)
    assert response.status_code == 400
    assert response.json()["message"] == "Request validation failed"
    assert field in response.json()["details"]
    assert len(sandbox.customers) == count
