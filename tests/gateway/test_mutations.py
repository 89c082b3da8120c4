"""Every mutation: the payload a client sees, and the state left behind in the sandbox."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from gateway.ids import GlobalId, NodeType
from tests.gateway.conftest import Gateway

pytestmark = pytest.mark.parametrize("mode", ["in-process"], indirect=True)

INVOICE_FIELDS = """
  id providerId number status paymentStatus providerStatus currency
  subtotal { amount } total { amount } amountDue { amount } amountPaid { amount }
  amountRemaining { amount } dueAt paidAt voidedAt finalizedAt description
  metadata { key value } lineItems { description quantity unitAmount { amount } amount { amount } }
"""


def gid(kind: NodeType, native: str) -> str:
    return GlobalId(kind, "flexprice", native).encode()


async def mutate(gateway: Gateway, name: str, input_type: str, input: dict[str, Any]) -> Any:
    extra = " message" if name == "recalculateInvoice" else ""
    data = await gateway.data(
        f"""mutation($input: {input_type}!) {{ {name}(input: $input) {{
              invoice {{ {INVOICE_FIELDS} }} userErrors {{ code message field }}{extra} }} }}""",
        {"input": input},
    )
    return data[name]


def pick(gateway: Gateway, **want: Any) -> Any:
    for invoice in sorted(gateway.sandbox.invoices.values(), key=lambda i: i.id):
        if all(getattr(invoice, key) == value for key, value in want.items()):
            return invoice
    raise AssertionError(f"the seed has no invoice with {want}")


# -- createInvoice -----------------------------------------------------------------------------


def create_input(gateway: Gateway, **overrides: Any) -> dict[str, Any]:
    customer = sorted(gateway.sandbox.customers)[0]
    return {
        "customerId": gid(NodeType.CUSTOMER, customer),
        "currency": "usd",
        "lineItems": [
            {"description": "Seats", "quantity": "3", "unitAmount": "12.50"},
            {"description": "API calls", "quantity": "1230", "unitAmount": "0.001"},
        ],
        "dueAt": "2027-01-31T00:00:00Z",
        "description": "November usage",
        "metadata": [{"key": "order", "value": "1042"}],
        "idempotencyKey": "order-1042",
        **overrides,
    }


async def test_create_invoice_sums_the_lines_exactly_and_stores_the_invoice(
    gateway: Gateway,
) -> None:
    before = set(gateway.sandbox.invoices)
    result = await mutate(gateway, "createInvoice", "CreateInvoiceInput", create_input(gateway))
    assert result["userErrors"] == []
    invoice = result["invoice"]
    assert invoice["status"] == "OPEN"  # a one-off invoice is finalized on creation
    assert invoice["number"]
    assert invoice["currency"] == "USD"
    assert Decimal(invoice["subtotal"]["amount"]) == Decimal("38.73")
    assert Decimal(invoice["total"]["amount"]) == Decimal("38.73")
    assert [
        (li["description"], Decimal(li["amount"]["amount"])) for li in invoice["lineItems"]
    ] == [
        ("Seats", Decimal("37.5")),
        ("API calls", Decimal("1.23")),
    ]
    assert invoice["metadata"] == [{"key": "order", "value": "1042"}]
    [new_id] = set(gateway.sandbox.invoices) - before
    stored = gateway.sandbox.invoices[new_id]
    assert invoice["providerId"] == new_id
    assert stored.idempotency_key == "order-1042"
    assert stored.amount_due == Decimal("38.73")
    assert stored.currency == "usd"
    assert stored.description == "November usage"


async def test_an_idr_invoice_keeps_the_two_minor_units_iso_4217_gives_it(gateway: Gateway) -> None:
    # ISO 4217 gives IDR two decimals (locale data may show none): FlexPrice takes sen.
    lines = [{"description": "Kopi", "quantity": "1", "unitAmount": "4550.50"}]
    result = await mutate(
        gateway,
        "createInvoice",
        "CreateInvoiceInput",
        create_input(gateway, currency="IDR", lineItems=lines, idempotencyKey="idr-1"),
    )
    assert result["userErrors"] == []
    assert result["invoice"]["total"] == {"amount": "4550.50"}
    assert result["invoice"]["lineItems"][0]["amount"] == {"amount": "4550.50"}
    stored = gateway.sandbox.invoices[result["invoice"]["providerId"]]
    assert (stored.currency, stored.amount_due) == ("idr", Decimal("4550.50"))

    finer = [{"description": "Kopi", "quantity": "1", "unitAmount": "4550.505"}]
    refused = await mutate(
        gateway,
        "createInvoice",
        "CreateInvoiceInput",
        create_input(gateway, currency="IDR", lineItems=finer, idempotencyKey="idr-2"),
    )
    [error] = refused["userErrors"]
    assert error["field"] == ["input", "lineItems", "0"]
    assert "more decimals than IDR allows (2)" in error["message"]


async def test_create_invoice_twice_with_one_key_makes_one_invoice(gateway: Gateway) -> None:
    first = await mutate(gateway, "createInvoice", "CreateInvoiceInput", create_input(gateway))
    count = len(gateway.sandbox.invoices)
    again = await mutate(gateway, "createInvoice", "CreateInvoiceInput", create_input(gateway))
    assert again["userErrors"] == []
    assert again["invoice"]["id"] == first["invoice"]["id"]
    assert len(gateway.sandbox.invoices) == count
    keyed = [i for i in gateway.sandbox.invoices.values() if i.idempotency_key == "order-1042"]
    assert len(keyed) == 1


async def test_create_invoice_without_a_key_sends_one_the_gateway_made(gateway: Gateway) -> None:
    result = await mutate(
        gateway, "createInvoice", "CreateInvoiceInput", create_input(gateway, idempotencyKey=None)
    )
    stored = gateway.sandbox.invoices[result["invoice"]["providerId"]]
    assert stored.idempotency_key.startswith("gw-")


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"currency": "dollars"}, ["input", "currency"], "ISO 4217"),
        ({"lineItems": []}, ["input", "lineItems"], "at least 1"),
        (
            {"lineItems": [{"description": "x", "quantity": "0", "unitAmount": "1"}]},
            ["input", "lineItems", "0", "quantity"],
            "greater than 0",
        ),
        (
            {"lineItems": [{"description": "x", "quantity": "1", "unitAmount": "-1"}]},
            ["input", "lineItems", "0", "unitAmount"],
            "greater than or equal to 0",
        ),
        (
            {"lineItems": [{"description": " ", "quantity": "1", "unitAmount": "1"}]},
            ["input", "lineItems", "0", "description"],
            "at least 1 character",
        ),
        (
            {"metadata": [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]},
            ["input", "metadata"],
            "unique",
        ),
        ({"idempotencyKey": "k" * 256}, ["input", "idempotencyKey"], "at most 255"),
        (
            {"lineItems": [{"description": "x", "quantity": "1234", "unitAmount": "0.001"}]},
            ["input", "lineItems", "0"],
            "= 1.234 has more decimals than USD allows (2)",
        ),
        (
            {
                "currency": "JPY",
                "lineItems": [{"description": "x", "quantity": "1", "unitAmount": "10.5"}],
            },
            ["input", "lineItems", "0"],
            "than JPY allows (0)",
        ),
        (
            {"lineItems": [{"description": "x", "quantity": "2", "unitAmount": "600000000000"}]},
            ["input", "lineItems", "0"],
            "must be less than 1,000,000,000,000",
        ),
        (
            # A whole cent (quantity x unitAmount = 0.01), but FlexPrice keeps 8 decimals.
            {
                "lineItems": [
                    {"description": "x", "quantity": "0.000000001", "unitAmount": "10000000"}
                ]
            },
            ["input", "lineItems", "0", "quantity"],
            "8 decimal places",
        ),
        ({"customerId": "nope"}, ["input", "customerId"], "not an ID"),
        (
            {"customerId": GlobalId(NodeType.INVOICE, "flexprice", "inv_1").encode()},
            ["input", "customerId"],
            "Customer",
        ),
    ],
)
async def test_bad_create_input_is_a_user_error_naming_field_and_rule_and_reaches_no_provider(
    gateway: Gateway, overrides: dict[str, Any], field: list[str], rule: str
) -> None:
    count = len(gateway.sandbox.invoices)
    result = await mutate(
        gateway, "createInvoice", "CreateInvoiceInput", create_input(gateway, **overrides)
    )
    assert result["invoice"] is None
    [error] = result["userErrors"]
    assert error["field"] == field
    assert rule in error["message"]
    assert error["code"] in {"INVALID_INPUT", "INVALID_ID"}
    assert await gateway.upstream() == {}
    assert len(gateway.sandbox.invoices) == count


async def test_create_invoice_for_an_unknown_customer_is_refused_by_the_provider(
    gateway: Gateway,
) -> None:
    result = await mutate(
        gateway,
        "createInvoice",
        "CreateInvoiceInput",
        create_input(gateway, customerId=gid(NodeType.CUSTOMER, "cust_missing")),
    )
    assert result["invoice"] is None
    [error] = result["userErrors"]
    assert error["code"] in {"NOT_FOUND", "PROVIDER_REJECTED"}


# -- lifecycle ---------------------------------------------------------------------------------


async def test_finalize_a_draft_then_finalize_again_is_refused(gateway: Gateway) -> None:
    draft = pick(gateway, invoice_status="DRAFT", invoice_type="ONE_OFF")
    input = {"id": gid(NodeType.INVOICE, draft.id)}
    result = await mutate(gateway, "finalizeInvoice", "InvoiceIdInput", input)
    assert result["userErrors"] == []
    assert result["invoice"]["status"] in {"OPEN", "PAID"}
    assert result["invoice"]["number"] == draft.invoice_number is not None
    assert result["invoice"]["finalizedAt"]
    assert gateway.sandbox.invoices[draft.id].invoice_status == "FINALIZED"
    again = await mutate(gateway, "finalizeInvoice", "InvoiceIdInput", input)
    assert again["invoice"] is None
    [error] = again["userErrors"]
    assert error["code"] == "PROVIDER_REJECTED"
    assert "draft" in error["message"]


async def test_void_an_open_invoice_merges_metadata(gateway: Gateway) -> None:
    open_invoice = pick(gateway, invoice_status="FINALIZED", payment_status="PENDING")
    result = await mutate(
        gateway,
        "voidInvoice",
        "VoidInvoiceInput",
        {
            "id": gid(NodeType.INVOICE, open_invoice.id),
            "metadata": [{"key": "void_reason", "value": "duplicate"}],
        },
    )
    assert result["userErrors"] == []
    assert result["invoice"]["status"] == "VOID"
    assert result["invoice"]["voidedAt"]
    stored = gateway.sandbox.invoices[open_invoice.id]
    assert stored.invoice_status == "VOIDED"
    assert stored.metadata is not None
    assert stored.metadata["void_reason"] == "duplicate"
    again = await mutate(
        gateway, "voidInvoice", "VoidInvoiceInput", {"id": gid(NodeType.INVOICE, open_invoice.id)}
    )
    assert again["userErrors"][0]["code"] == "PROVIDER_REJECTED"


async def test_update_invoice_replaces_metadata_and_due_date(gateway: Gateway) -> None:
    open_invoice = pick(gateway, invoice_status="FINALIZED", payment_status="PENDING")
    result = await mutate(
        gateway,
        "updateInvoice",
        "UpdateInvoiceInput",
        {
            "id": gid(NodeType.INVOICE, open_invoice.id),
            "dueAt": "2027-03-01T12:00:00Z",
            "metadata": [{"key": "po", "value": "PO-7"}],
        },
    )
    assert result["userErrors"] == []
    assert result["invoice"]["metadata"] == [{"key": "po", "value": "PO-7"}]
    assert result["invoice"]["dueAt"].startswith("2027-03-01T12:00:00")
    stored = gateway.sandbox.invoices[open_invoice.id]
    assert stored.metadata == {"po": "PO-7"}
    assert stored.due_date is not None
    assert stored.due_date.isoformat().startswith("2027-03-01T12:00:00")


async def test_update_a_voided_invoice_is_refused_and_a_plain_http_url_never_sent(
    gateway: Gateway,
) -> None:
    voided = pick(gateway, invoice_status="VOIDED")
    refused = await mutate(
        gateway,
        "updateInvoice",
        "UpdateInvoiceInput",
        {"id": gid(NodeType.INVOICE, voided.id), "metadata": []},
    )
    assert refused["userErrors"][0]["code"] == "PROVIDER_REJECTED"
    await gateway.reset_upstream()
    bad_url = await mutate(
        gateway,
        "updateInvoice",
        "UpdateInvoiceInput",
        {"id": gid(NodeType.INVOICE, voided.id), "pdfUrl": "http://example.com/a.pdf"},
    )
    assert bad_url["userErrors"][0]["field"] == ["input", "pdfUrl"]
    assert await gateway.upstream() == {}


async def test_payment_status_paid_settles_the_amounts(gateway: Gateway) -> None:
    open_invoice = pick(gateway, invoice_status="FINALIZED", payment_status="PENDING")
    result = await mutate(
        gateway,
        "updateInvoicePaymentStatus",
        "UpdateInvoicePaymentStatusInput",
        {"id": gid(NodeType.INVOICE, open_invoice.id), "paymentStatus": "PAID"},
    )
    assert result["userErrors"] == []
    invoice = result["invoice"]
    assert (invoice["status"], invoice["paymentStatus"]) == ("PAID", "PAID")
    assert Decimal(invoice["amountRemaining"]["amount"]) == 0
    assert invoice["paidAt"]
    stored = gateway.sandbox.invoices[open_invoice.id]
    assert stored.payment_status == "SUCCEEDED"
    assert stored.amount_paid == stored.amount_due


async def test_payment_status_partial_payment_keeps_the_invoice_open(gateway: Gateway) -> None:
    open_invoice = pick(gateway, invoice_status="FINALIZED", payment_status="PENDING")
    part = (open_invoice.amount_due / 4).quantize(Decimal("0.01"))
    result = await mutate(
        gateway,
        "updateInvoicePaymentStatus",
        "UpdateInvoicePaymentStatusInput",
        {
            "id": gid(NodeType.INVOICE, open_invoice.id),
            "paymentStatus": "UNPAID",
            "amount": str(part),
        },
    )
    assert result["userErrors"] == []
    assert Decimal(result["invoice"]["amountPaid"]["amount"]) == part
    assert gateway.sandbox.invoices[open_invoice.id].amount_remaining == (
        open_invoice.amount_due - part
    )


@pytest.mark.parametrize(
    ("status", "amount", "field"),
    [("UNPAID", "-5", "amount"), ("PAID", "1.00", "amount")],
)
async def test_payment_status_input_the_provider_cannot_take_is_refused_before_any_call(
    gateway: Gateway, status: str, amount: str | None, field: str
) -> None:
    open_invoice = pick(gateway, invoice_status="FINALIZED", payment_status="PENDING")
    result = await mutate(
        gateway,
        "updateInvoicePaymentStatus",
        "UpdateInvoicePaymentStatusInput",
        {"id": gid(NodeType.INVOICE, open_invoice.id), "paymentStatus": status, "amount": amount},
    )
    [error] = result["userErrors"]
    assert error["field"] == ["input", field]
    assert await gateway.upstream() == {}
    assert gateway.sandbox.invoices[open_invoice.id].payment_status == "PENDING"


@pytest.mark.parametrize("status", ["SETTLED", "REFUNDED", "PARTIALLY_REFUNDED", "UNKNOWN"])
async def test_a_status_no_one_can_record_is_not_in_the_inputs_enum(
    gateway: Gateway, status: str
) -> None:
    # The schema offers only SettablePaymentStatus: what a provider reports (SETTLED, ...) is
    # refused by validation, before anything runs (it was a userError at run time).
    open_invoice = pick(gateway, invoice_status="FINALIZED", payment_status="PENDING")
    query = """mutation($input: UpdateInvoicePaymentStatusInput!) {
      updateInvoicePaymentStatus(input: $input) { userErrors { code } } }"""
    variables = {"input": {"id": gid(NodeType.INVOICE, open_invoice.id), "paymentStatus": status}}
    response = await gateway.http.post("/graphql", json={"query": query, "variables": variables})
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "SettablePaymentStatus" in error["message"]
    assert await gateway.upstream() == {}


async def test_an_illegal_payment_transition_is_the_providers_refusal(gateway: Gateway) -> None:
    paid = pick(gateway, invoice_status="FINALIZED", payment_status="SUCCEEDED")
    result = await mutate(
        gateway,
        "updateInvoicePaymentStatus",
        "UpdateInvoicePaymentStatusInput",
        {"id": gid(NodeType.INVOICE, paid.id), "paymentStatus": "FAILED"},
    )
    [error] = result["userErrors"]
    assert error["code"] == "PROVIDER_REJECTED"
    assert "transition" in error["message"]
    assert gateway.sandbox.invoices[paid.id].payment_status == "SUCCEEDED"


async def test_attempt_payment_pays_from_the_customer_wallet(gateway: Gateway) -> None:
    open_invoice = pick(gateway, invoice_status="FINALIZED", payment_status="PENDING")
    wallets = gateway.sandbox.wallets.setdefault(open_invoice.customer_id, {})
    wallets[open_invoice.currency] = open_invoice.amount_remaining + Decimal(100)
    result = await mutate(
        gateway,
        "attemptInvoicePayment",
        "InvoiceIdInput",
        {"id": gid(NodeType.INVOICE, open_invoice.id)},
    )
    assert result["userErrors"] == []
    assert result["invoice"]["paymentStatus"] == "PAID"
    assert gateway.sandbox.wallets[open_invoice.customer_id][open_invoice.currency] == Decimal(100)


async def test_recalculate_a_draft_subscription_invoice_in_place(gateway: Gateway) -> None:
    draft = pick(gateway, invoice_status="DRAFT", invoice_type="SUBSCRIPTION")
    result = await mutate(
        gateway,
        "recalculateInvoice",
        "RecalculateInvoiceInput",
        {"id": gid(NodeType.INVOICE, draft.id), "finalize": False},
    )
    assert result["userErrors"] == []
    assert result["invoice"]["providerId"] == draft.id
    assert result["invoice"]["status"] == "DRAFT"
    assert gateway.sandbox.invoices[draft.id].last_computed_at is not None


async def test_recalculate_a_voided_subscription_invoice_builds_a_replacement(
    gateway: Gateway,
) -> None:
    voided = pick(gateway, invoice_status="VOIDED", invoice_type="SUBSCRIPTION")
    count = len(gateway.sandbox.invoices)
    result = await mutate(
        gateway,
        "recalculateInvoice",
        "RecalculateInvoiceInput",
        {"id": gid(NodeType.INVOICE, voided.id)},
    )
    assert result["userErrors"] == []
    assert result["message"]
    replacement = gateway.sandbox.invoices[voided.id].recalculated_invoice_id
    assert replacement in gateway.sandbox.invoices
    assert len(gateway.sandbox.invoices) == count + 1


async def test_trigger_communication_calls_the_provider_and_returns_the_invoice(
    gateway: Gateway,
) -> None:
    open_invoice = pick(gateway, invoice_status="FINALIZED", payment_status="PENDING")
    result = await mutate(
        gateway,
        "triggerInvoiceCommunication",
        "InvoiceIdInput",
        {"id": gid(NodeType.INVOICE, open_invoice.id)},
    )
    assert result["userErrors"] == []
    assert result["invoice"]["providerId"] == open_invoice.id
    assert (await gateway.upstream())["POST /v1/invoices/{id}/comms/trigger"] == 1
    assert gateway.sandbox.events == [("invoice.communication.triggered", open_invoice.id)]


async def test_a_mutation_on_an_unknown_invoice_is_not_found(gateway: Gateway) -> None:
    result = await mutate(
        gateway,
        "finalizeInvoice",
        "InvoiceIdInput",
        {"id": gid(NodeType.INVOICE, "inv_01HZZZZZZZZZZZZZZZZZZZZZZZ")},
    )
    assert result["invoice"] is None
    assert result["userErrors"][0]["code"] == "NOT_FOUND"


async def test_amounts_are_plain_decimal_strings_never_exponents(gateway: Gateway) -> None:
    # 100 / 0.5 is Decimal("2E+2"): the schema must still say "200".
    result = await mutate(
        gateway,
        "createInvoice",
        "CreateInvoiceInput",
        create_input(
            gateway,
            lineItems=[{"description": "Half", "quantity": "0.5", "unitAmount": "200"}],
            idempotencyKey="plain-1",
        ),
    )
    [line] = result["invoice"]["lineItems"]
    # Padded to the currency's minor units, never rounded: "200.00", "100.00".
    assert line["unitAmount"]["amount"] == "200.00"
    assert line["amount"]["amount"] == "100.00"


@pytest.mark.parametrize("value", ["NaN", "1e30", "1_000", "\u0661\u0662", " ", "Infinity"])
async def test_a_decimal_not_in_plain_notation_is_refused_naming_the_field(
    gateway: Gateway, value: str
) -> None:
    body = await gateway.query(
        """mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) {
             invoice { id } } }""",
        {
            "input": create_input(
                gateway, lineItems=[{"description": "x", "quantity": value, "unitAmount": "1"}]
            )
        },
    )
    [error] = body["errors"]
    assert "lineItems[0].quantity" in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert await gateway.upstream() == {}


async def test_a_json_float_is_refused_for_a_decimal(gateway: Gateway) -> None:
    body = await gateway.query(
        """mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) {
             invoice { id } } }""",
        {
            "input": create_input(
                gateway, lineItems=[{"description": "x", "quantity": 1, "unitAmount": 0.1}]
            )
        },
    )
    [error] = body["errors"]
    assert "unitAmount" in error["message"]
    assert "string" in error["message"]
    assert await gateway.upstream() == {}


async def test_payment_page_options_are_refused_by_a_provider_without_a_page(
    gateway: Gateway,
) -> None:
    count = len(gateway.sandbox.invoices)
    result = await mutate(
        gateway,
        "createInvoice",
        "CreateInvoiceInput",
        create_input(gateway, paymentPage={"payerEmail": "payer@example.com"}),
    )
    assert result["invoice"] is None
    [error] = result["userErrors"]
    assert error["field"] == ["input", "paymentPage"]
    assert "payment page" in error["message"]
    assert len(gateway.sandbox.invoices) == count
    assert await gateway.upstream() == {}


@pytest.mark.parametrize(
    ("page", "field"),
    [
        ({"payerEmail": "not-an-email"}, ["input", "paymentPage", "payerEmail"]),
        (
            {"successRedirectUrl": "javascript:alert(1)"},
            ["input", "paymentPage", "successRedirectUrl"],
        ),
        ({"paymentMethods": ["bca"]}, ["input", "paymentPage", "paymentMethods", "0"]),
        ({"durationSeconds": 0}, ["input", "paymentPage", "durationSeconds"]),
    ],
)
async def test_bad_payment_page_options_are_refused_naming_the_field(
    gateway: Gateway, page: dict[str, Any], field: list[str]
) -> None:
    result = await mutate(
        gateway, "createInvoice", "CreateInvoiceInput", create_input(gateway, paymentPage=page)
    )
    [error] = result["userErrors"]
    assert error["field"] == field
    assert await gateway.upstream() == {}
