"""Invoice search and listing: filters, the DSL, ordering and pagination."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandboxes.flexprice import FlexPriceSandbox

from .flexprice_sandbox_helpers import find_customer, find_invoice


async def search(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/v1/invoices/search", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def visible(sandbox: FlexPriceSandbox) -> int:
    return sum(1 for i in sandbox.invoices.values() if i.invoice_status != "SKIPPED")


async def test_default_page_hides_skipped_and_sorts_newest_first(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    result = await search(client)
    assert result["pagination"] == {"total": visible(sandbox), "limit": 50, "offset": 0}
    assert len(result["items"]) == 50
    stamps = [item["created_at"] for item in result["items"]]
    assert stamps == sorted(stamps, reverse=True)
    assert all(item["invoice_status"] != "SKIPPED" for item in result["items"])
    newest = max(
        (i for i in sandbox.invoices.values() if i.invoice_status != "SKIPPED"),
        key=lambda i: i.created_at,
    )
    assert result["items"][0]["id"] == newest.id


async def test_items_embed_customer_and_line_items(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    item = (await search(client, limit=1))["items"][0]
    assert item["customer"]["id"] == item["customer_id"]
    assert item["line_items"]
    slim = (await search(client, limit=1, skip_line_items=True))["items"][0]
    assert "line_items" not in slim


async def test_skipped_shown_when_asked(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    skipped = sum(1 for i in sandbox.invoices.values() if i.invoice_status == "SKIPPED")
    only = await search(client, invoice_status=["SKIPPED"], limit=1000)
    every = await search(
        client, invoice_status=["DRAFT", "FINALIZED", "VOIDED", "SKIPPED"], limit=1000
    )
    assert only["pagination"]["total"] == skipped > 0
    assert every["pagination"]["total"] == len(sandbox.invoices)


async def test_batch_by_invoice_ids(client: httpx.AsyncClient, sandbox: FlexPriceSandbox) -> None:
    wanted = [find_invoice(sandbox, invoice_status=s).id for s in ("DRAFT", "VOIDED", "FINALIZED")]
    skipped = find_invoice(sandbox, invoice_status="SKIPPED").id
    result = await search(client, invoice_ids=[*wanted, skipped, "inv_missing"], limit=10)
    assert {item["id"] for item in result["items"]} == set(wanted)
    all_statuses = await search(
        client,
        invoice_ids=[*wanted, skipped],
        invoice_status=["DRAFT", "FINALIZED", "VOIDED", "SKIPPED"],
    )
    assert {item["id"] for item in all_statuses["items"]} == {*wanted, skipped}


async def test_empty_id_list_means_no_filter(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    result = await search(client, invoice_ids=[])
    assert result["pagination"]["total"] == visible(sandbox)


async def test_customer_filters(client: httpx.AsyncClient, sandbox: FlexPriceSandbox) -> None:
    customer = find_customer(sandbox, index=2)
    expected = {
        i.id
        for i in sandbox.invoices.values()
        if i.customer_id == customer.id and i.invoice_status != "SKIPPED"
    }
    by_id = await search(client, customer_id=customer.id, limit=1000)
    by_external = await search(client, external_customer_id=customer.external_id, limit=1000)
    assert {item["id"] for item in by_id["items"]} == expected
    assert {item["id"] for item in by_external["items"]} == expected


async def test_unknown_external_customer_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/invoices/search", json={"external_customer_id": "nobody"})
    assert response.status_code == 404
    assert response.json()["message"] == "failed to get customer by external customer id"


async def test_customer_id_in_dsl(client: httpx.AsyncClient, sandbox: FlexPriceSandbox) -> None:
    ids = [find_customer(sandbox, index=i).id for i in (0, 1, 2)]
    condition = {
        "field": "customer_id",
        "operator": "in",
        "data_type": "array",
        "value": {"array": ids},
    }
    result = await search(client, filters=[condition], limit=1000)
    expected = {
        i.id
        for i in sandbox.invoices.values()
        if i.customer_id in ids and i.invoice_status != "SKIPPED"
    }
    assert {item["id"] for item in result["items"]} == expected
    assert expected


async def test_idempotency_key_eq_in_dsl(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    inv = find_invoice(sandbox, invoice_status="FINALIZED")
    condition = {
        "field": "idempotency_key",
        "operator": "eq",
        "data_type": "string",
        "value": {"string": inv.idempotency_key},
    }
    result = await search(client, filters=[condition])
    assert [item["id"] for item in result["items"]] == [inv.id]


async def test_created_at_before_and_after(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    ordered = sorted(
        (i for i in sandbox.invoices.values() if i.invoice_status != "SKIPPED"),
        key=lambda i: i.created_at,
    )
    pivot = ordered[100].created_at.isoformat()
    before = {
        "field": "created_at",
        "operator": "before",
        "data_type": "date",
        "value": {"date": pivot},
    }
    after = {**before, "operator": "after"}
    older = await search(client, filters=[before], limit=1000)
    newer = await search(client, filters=[after], limit=1000)
    assert older["pagination"]["total"] == 100
    assert newer["pagination"]["total"] == len(ordered) - 101


@pytest.mark.parametrize(
    "condition",
    [
        {"field": "customer_id", "operator": "in", "value": {"array": []}},
        {"field": "customer_id", "operator": "in", "value": {"string": "cust_x"}},
        {"field": "amount_due", "operator": "gte", "value": {"number": 10}},
        {"field": "created_at", "operator": "before", "value": {"string": "2020-01-01"}},
    ],
)
async def test_conditions_without_a_matching_value_are_dropped(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox, condition: dict[str, Any]
) -> None:
    result = await search(client, filters=[condition])
    assert result["pagination"]["total"] == visible(sandbox)


async def test_unknown_filter_or_sort_field_is_400(client: httpx.AsyncClient) -> None:
    bad_filter = {"field": "colour", "operator": "eq", "value": {"string": "red"}}
    filtered = await client.post("/v1/invoices/search", json={"filters": [bad_filter]})
    sorted_ = await client.post(
        "/v1/invoices/search", json={"sort": [{"field": "colour", "direction": "asc"}]}
    )
    for response in (filtered, sorted_):
        assert response.status_code == 400
        assert response.json()["message"] == "unknown field name 'colour' in invoice query"


@pytest.mark.parametrize(
    "body",
    [
        {"limit": 0},
        {"limit": 1001},
        {"offset": -1},
        {"order": "sideways"},
        {"invoice_status": ["PAID"]},
        {"billing_reason": "WHIM"},
        {"status": "gone"},
    ],
)
async def test_invalid_filter_parameters_are_400(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await client.post("/v1/invoices/search", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


async def test_plain_filters(client: httpx.AsyncClient, sandbox: FlexPriceSandbox) -> None:
    sub = next(iter(sandbox.subscriptions.values()))
    checks: list[tuple[dict[str, Any], Any]] = [
        (
            {"payment_status": ["FAILED", "OVERPAID"]},
            lambda i: i.payment_status in {"FAILED", "OVERPAID"},
        ),
        ({"invoice_type": "CREDIT"}, lambda i: i.invoice_type == "CREDIT"),
        ({"currency": "inr"}, lambda i: i.currency == "inr"),
        ({"subscription_id": sub.id}, lambda i: i.subscription_id == sub.id),
        ({"amount_due_gt": 1000}, lambda i: i.amount_due > 1000),
        ({"amount_remaining_gt": "0.5"}, lambda i: i.amount_remaining > Decimal("0.5")),
    ]
    for body, predicate in checks:
        result = await search(client, limit=1000, **body)
        expected = {
            i.id
            for i in sandbox.invoices.values()
            if predicate(i) and i.invoice_status != "SKIPPED"
        }
        assert {item["id"] for item in result["items"]} == expected, body
        assert expected, body


async def test_currency_is_an_exact_lower_case_match(client: httpx.AsyncClient) -> None:
    assert (await search(client, currency="USD"))["pagination"]["total"] == 0
    assert (await search(client, currency="usd"))["pagination"]["total"] > 0


async def test_start_and_end_time_bound_the_billing_period(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    inv = find_invoice(sandbox, invoice_status="FINALIZED", invoice_type="SUBSCRIPTION")
    assert inv.period_start is not None
    assert inv.period_end is not None
    result = await search(
        client,
        start_time=inv.period_start.isoformat(),
        end_time=inv.period_end.isoformat(),
        limit=1000,
    )
    ids = {item["id"] for item in result["items"]}
    assert inv.id in ids
    assert all(
        sandbox.invoices[i].period_start is not None
        and sandbox.invoices[i].period_start >= inv.period_start  # type: ignore[operator]
        for i in ids
    )


async def test_invoice_pagination_echoes_the_offset(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    first = await search(client, limit=10, offset=0)
    second = await search(client, limit=10, offset=10)
    assert second["pagination"] == {"total": visible(sandbox), "limit": 10, "offset": 10}
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    beyond = await search(client, limit=10, offset=100_000)
    assert beyond["items"] == []


async def test_sort_and_order(client: httpx.AsyncClient, sandbox: FlexPriceSandbox) -> None:
    ascending = await search(client, order="asc", limit=5)
    stamps = [item["created_at"] for item in ascending["items"]]
    assert stamps == sorted(stamps)
    by_amount = await search(client, sort=[{"field": "amount_due", "direction": "desc"}], limit=20)
    amounts = [Decimal(item["amount_due"]) for item in by_amount["items"]]
    assert amounts == sorted(amounts, reverse=True)


async def test_created_at_desc_is_a_total_order_across_pages(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    seen: list[str] = []
    for offset in range(0, 500, 37):
        page = await search(client, limit=37, offset=offset)
        seen += [item["id"] for item in page["items"]]
    assert len(seen) == len(set(seen)) == visible(sandbox)


async def test_get_list_reads_the_query_string(
    client: httpx.AsyncClient, sandbox: FlexPriceSandbox
) -> None:
    ids = [find_invoice(sandbox, invoice_status=s).id for s in ("DRAFT", "FINALIZED")]
    response = await client.get(
        "/v1/invoices",
        params=[("invoice_ids", ids[0]), ("invoice_ids", ids[1]), ("limit", "5"), ("offset", "0")],
    )
    assert response.status_code == 200
    assert {item["id"] for item in response.json()["items"]} == set(ids)
    statuses = await client.get(
        "/v1/invoices", params=[("invoice_status", "SKIPPED"), ("limit", "0")]
    )
    assert statuses.json()["pagination"]["limit"] == 50
    assert {i["invoice_status"] for i in statuses.json()["items"]} == {"SKIPPED"}
    paged = await client.get("/v1/invoices", params={"limit": "3", "offset": "6"})
    assert paged.json()["pagination"] == {"total": visible(sandbox), "limit": 3, "offset": 6}
