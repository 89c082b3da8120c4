"""Every kind of sandbox response, validated against the reconstructed Xendit OpenAPI file.

Success bodies go through openapi-core (``validate_response``: status, content type, schema
with formats, enums and required fields). The spec declares only ``200`` and ``default``
per operation, the latter without content (the SDK does not map statuses to error models),
so an error response is checked in three steps instead:

1. the operation declares ``default``;
2. the status is the one the sandbox uses for that ``error_code`` (``ERROR_STATUS``: read
   from the names of the SDK's error models, plus the sandbox's choices);
3. the body validates against the SDK error model that lists the code (``ERROR_SCHEMA``),
   or, for codes no invoice model lists (``API_VALIDATION_ERROR``, the Customer API's
   codes, ``REQUEST_FORBIDDEN_ERROR``), against the common ``{error_code, message}`` shape.

The spec file is not official: it is rebuilt from the official Python SDK (see
``specs/README.md``); it is loaded once per session from ``<repo>/specs``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator

from sandboxes.xendit import XenditSandbox, customer_routes, invoice_routes
from tests.specs import spec_path

from .xendit_sandbox_helpers import SUB_ACCOUNT_ID, find_invoice, invoice_body

SERVER = "https://api.xendit.co"


SPEC_FILE = "xendit-invoice-customer.openapi.json"

ERROR_STATUS = {
    "API_VALIDATION_ERROR": 400,
    "MAXIMUM_TRANSFER_AMOUNT_ERROR": 400,
    "UNSUPPORTED_CURRENCY": 400,
    "EMAIL_FORMAT_ERROR": 400,
    "UNAVAILABLE_PAYMENT_METHOD_ERROR": 400,
    "MISMATCH_CURRENCY_ERROR": 400,
    "NO_COLLECTION_METHODS_ERROR": 400,
    "INVALID_REMINDER_TIME": 400,
    "DUPLICATE_END_CUSTOMER_ERROR": 400,
    "END_CUSTOMER_NOT_FOUND_ERROR": 400,
    "INVALID_API_KEY": 401,
    "REQUEST_FORBIDDEN_ERROR": 403,
    "INVOICE_NOT_FOUND_ERROR": 404,
    "CALLBACK_VIRTUAL_ACCOUNT_NOT_FOUND_ERROR": 404,
    "DATA_NOT_FOUND": 404,
    "SERVER_ERROR": 500,
}
ERROR_SCHEMA = {
    "INVALID_API_KEY": "UnauthorizedError",
    "INVOICE_NOT_FOUND_ERROR": "InvoiceError404ResponseDefinition",
    "CALLBACK_VIRTUAL_ACCOUNT_NOT_FOUND_ERROR": "InvoiceNotFoundError",
    "SERVER_ERROR": "ServerError",
    **{
        code: "BadRequestError"
        for code in (
            "MAXIMUM_TRANSFER_AMOUNT_ERROR",
            "UNSUPPORTED_CURRENCY",
            "EMAIL_FORMAT_ERROR",
            "UNAVAILABLE_PAYMENT_METHOD_ERROR",
            "MISMATCH_CURRENCY_ERROR",
            "NO_COLLECTION_METHODS_ERROR",
            "INVALID_REMINDER_TIME",
        )
    },
}
COMMON_ERROR = {
    "type": "object",
    "required": ["error_code", "message"],
    "properties": {"error_code": {"type": "string"}, "message": {"type": "string"}},
    "additionalProperties": False,
}

Prepare = Callable[[XenditSandbox], tuple[str, Any]]


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    template: str  # the spec's path
    status: int
    prepare: Prepare  # -> (concrete path, JSON body or None)
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    authorized: bool = True


def _fixed(path: str, body: Any = None) -> Prepare:
    return lambda sb: (path, body)


def _invoice(template: str, status: str, **criteria: Any) -> Prepare:
    return lambda sb: (template.format(id=find_invoice(sb, status=status, **criteria).id), None)


def _customer(template: str, body: Any = None) -> Prepare:
    def prepare(sb: XenditSandbox) -> tuple[str, Any]:
        customer = next(iter(sb.customers.values()))
        return template.format(id=customer.id), body

    return prepare


def _duplicate_customer(sb: XenditSandbox) -> tuple[str, Any]:
    return "/customers", {"reference_id": next(iter(sb.customers.values())).reference_id}


def _create(**overrides: Any) -> Prepare:
    return _fixed("/v2/invoices/", invoice_body(**overrides))


CREATE = "/v2/invoices/"
GET = "/v2/invoices/{invoice_id}"
EXPIRE = "/invoices/{invoice_id}/expire!"
CASES = [
    Case("create", "post", CREATE, 200, _create()),
    Case("create without slash", "post", CREATE, 200, _fixed("/v2/invoices", invoice_body())),
    Case("create php", "post", CREATE, 200, _create(currency="PHP", amount=99.5)),
    Case(
        "create usd minimal", "post", CREATE, 200, _fixed(CREATE, {"external_id": "m", "amount": 1})
    ),
    Case(
        "create sub-account",
        "post",
        CREATE,
        200,
        _create(),
        headers={"for-user-id": SUB_ACCOUNT_ID},
    ),
    Case("create invalid", "post", CREATE, 400, _fixed(CREATE, {"amount": 1})),
    Case("create currency", "post", CREATE, 400, _create(currency="EUR")),
    Case("create maximum", "post", CREATE, 400, _create(amount=2_000_000_000)),
    Case("create email", "post", CREATE, 400, _create(payer_email="x")),
    Case("create channel", "post", CREATE, 400, _create(payment_methods=["NOPE"])),
    Case("create mismatch", "post", CREATE, 400, _create(payment_methods=["GCASH"])),
    Case("create no channel", "post", CREATE, 400, _create(payment_methods=[])),
    Case("create reminder", "post", CREATE, 400, _create(reminder_time=99)),
    Case("create va", "post", CREATE, 404, _create(callback_virtual_account_id="va")),
    Case("unauthorized", "post", CREATE, 401, _create(), authorized=False),
    Case("forbidden", "post", CREATE, 403, _create(), headers={"for-user-id": "nobody"}),
    Case("get pending", "get", GET, 200, _invoice("/v2/invoices/{id}", "PENDING")),
    Case("get paid", "get", GET, 200, _invoice("/v2/invoices/{id}", "PAID")),
    Case("get settled", "get", GET, 200, _invoice("/v2/invoices/{id}", "SETTLED")),
    Case("get expired", "get", GET, 200, _invoice("/v2/invoices/{id}", "EXPIRED")),
    Case("get usd", "get", GET, 200, _invoice("/v2/invoices/{id}", "PAID", currency="USD")),
    Case("get unknown", "get", GET, 404, _fixed("/v2/invoices/000000000000000000000000")),
    Case("get unauthorized", "get", GET, 401, _fixed("/v2/invoices/x"), authorized=False),
    Case("list", "get", "/v2/invoices", 200, _fixed("/v2/invoices"), query={"limit": "100.0"}),
    Case(
        "list empty",
        "get",
        "/v2/invoices",
        200,
        _fixed("/v2/invoices"),
        query={"external_id": "none"},
    ),
    Case("list invalid", "get", "/v2/invoices", 400, _fixed("/v2/invoices"), query={"limit": "x"}),
    Case("expire", "post", EXPIRE, 200, _invoice("/invoices/{id}/expire!", "PENDING")),
    Case("expire paid", "post", EXPIRE, 404, _invoice("/invoices/{id}/expire!", "PAID")),
    Case(
        "create customer", "post", "/customers", 200, _fixed("/customers", {"reference_id": "oa-1"})
    ),
    Case("create customer invalid", "post", "/customers", 400, _fixed("/customers", {})),
    Case("create customer duplicate", "post", "/customers", 400, _duplicate_customer),
    Case("get customer", "get", "/customers/{id}", 200, _customer("/customers/{id}")),
    Case("get customer unknown", "get", "/customers/{id}", 404, _fixed("/customers/cust-x")),
    Case(
        "customer by reference",
        "get",
        "/customers",
        200,
        _fixed("/customers"),
        query={"reference_id": "CUS-ID-00001"},
    ),
    Case("customer by reference missing", "get", "/customers", 400, _fixed("/customers")),
    Case(
        "patch customer",
        "patch",
        "/customers/{id}",
        200,
        _customer("/customers/{id}", {"description": "vip"}),
    ),
    Case(
        "patch customer invalid",
        "patch",
        "/customers/{id}",
        400,
        _customer("/customers/{id}", {"type": "X"}),
    ),
    Case(
        "patch customer unknown", "patch", "/customers/{id}", 400, _fixed("/customers/cust-x", {})
    ),
]


@pytest.fixture(scope="session")
def openapi() -> OpenAPI:
    return OpenAPI.from_path(spec_path(SPEC_FILE))


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(spec_path(SPEC_FILE).read_text())
    return loaded


def assert_schema(spec: dict[str, Any], schema: dict[str, Any] | str, instance: Any) -> None:
    """Validate against a component (by name) or a literal schema, as OpenAPI 3.0 reads it."""
    if isinstance(schema, str):
        schema = {"$ref": f"#/components/schemas/{schema}"}
    validator = OAS30Validator(
        {**schema, "components": spec["components"]},
        format_checker=OAS30Validator.FORMAT_CHECKER,
    )
    problems = [e.message for e in validator.iter_errors(instance)]
    assert not problems, problems


def check(
    openapi: OpenAPI, spec: dict[str, Any], case: Case, path: str, response: httpx.Response
) -> None:
    operation = spec["paths"][case.template][case.method]
    if response.status_code >= 400:
        assert "default" in operation["responses"]
        body = response.json()
        assert ERROR_STATUS[body["error_code"]] == response.status_code
        assert_schema(spec, COMMON_ERROR, body)
        if body["error_code"] in ERROR_SCHEMA:
            assert_schema(spec, ERROR_SCHEMA[body["error_code"]], body)
        return
    request = MockRequest(SERVER, case.method, path, path_pattern=case.template, args=case.query)
    openapi.validate_response(
        request,
        MockResponse(
            response.content,
            status_code=response.status_code,
            content_type=response.headers["content-type"],
        ),
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_response_matches_the_spec(
    case: Case,
    openapi: OpenAPI,
    spec: dict[str, Any],
    sandbox: XenditSandbox,
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
) -> None:
    path, body = case.prepare(sandbox)
    http = client if case.authorized else anonymous
    response = await http.request(
        case.method.upper(), path, json=body, params=case.query, headers=case.headers
    )
    assert response.status_code == case.status, response.text
    check(openapi, spec, case, path, response)


async def test_every_seeded_invoice_matches_the_spec(
    client: httpx.AsyncClient, sandbox: XenditSandbox, spec: dict[str, Any]
) -> None:
    for user in (None, SUB_ACCOUNT_ID):
        headers = {"for-user-id": user} if user else {}
        rows = (await client.get("/v2/invoices", params={"limit": 100}, headers=headers)).json()
        cursor_rows = rows
        while cursor_rows:
            params = {"limit": 100, "last_invoice": cursor_rows[-1]["id"]}
            cursor_rows = (await client.get("/v2/invoices", params=params, headers=headers)).json()
            rows += cursor_rows
        assert_schema(
            spec, {"type": "array", "items": {"$ref": "#/components/schemas/Invoice"}}, rows
        )
    customers = [(await client.get(f"/customers/{c}")).json() for c in list(sandbox.customers)[:48]]
    assert_schema(
        spec, {"type": "array", "items": {"$ref": "#/components/schemas/Customer"}}, customers
    )


async def test_paid_invoice_from_the_pay_route_matches_the_spec(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, spec: dict[str, Any]
) -> None:
    created = (await client.post("/v2/invoices/", json=invoice_body())).json()
    paid = await anonymous.post(f"/_sandbox/invoices/{created['id']}/pay")
    assert_schema(spec, "Invoice", paid.json())
    settled = await anonymous.post(f"/_sandbox/invoices/{created['id']}/settle")
    assert_schema(spec, "Invoice", settled.json())


def test_every_operation_has_a_success_and_an_error_case(spec: dict[str, Any]) -> None:
    seen: dict[tuple[str, str], set[int]] = {}
    for case in CASES:
        seen.setdefault((case.method, case.template), set()).add(case.status)
    declared = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    assert set(seen) == declared
    assert all(min(s) < 300 and max(s) >= 400 for s in seen.values())
    routes = {(e.method, e.path) for e in (*invoice_routes.ENDPOINTS, *customer_routes.ENDPOINTS)}
    assert {(m.upper(), p) for m, p in declared} <= routes
