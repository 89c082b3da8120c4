"""Handlers of the Customer API routes (``/customers``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from . import errors
from .customer_payload import create_customer, update_customer
from .endpoint import Call, Endpoint, json_response
from .serialize import customer_json


async def create(call: Call) -> Response:
    """``POST /customers``; a repeated ``idempotency-key`` returns the first customer."""
    sb, user_id = call.sandbox, call.account.user_id
    key = call.request.headers.get("idempotency-key")
    if key and (user_id, key) in sb.customer_keys:
        return json_response(customer_json(sb.customers[sb.customer_keys[(user_id, key)]]))
    customer = create_customer(sb, user_id, await call.body())
    if key:
        sb.customer_keys[(user_id, key)] = customer.id
    return json_response(customer_json(customer))


async def by_reference(call: Call) -> Response:
    """``GET /customers?reference_id=``: ``{"data": [...], "has_more": false}``."""
    reference_id = call.request.query_params.get("reference_id")
    if not reference_id:
        raise errors.validation('"reference_id" is required')
    if len(reference_id) > 255:
        raise errors.validation('"reference_id" must be at most 255 characters long')
    found = call.sandbox.customer_by_reference(call.account.user_id, reference_id)
    data = [] if found is None else [customer_json(found)]
    return json_response({"data": data, "has_more": False})


def _not_found(request: Request) -> errors.APIError:
    customer_id = request.path_params["id"]
    return errors.APIError(404, "DATA_NOT_FOUND", f"Customer {customer_id} not found")


async def get(call: Call) -> Response:
    """``GET /customers/{id}``; unknown: 404 ``DATA_NOT_FOUND``."""
    found = call.sandbox.customer(call.account.user_id, call.request.path_params["id"])
    if found is None:
        raise _not_found(call.request)
    return json_response(customer_json(found))


async def update(call: Call) -> Response:
    """``PATCH /customers/{id}``; unknown: 400 ``END_CUSTOMER_NOT_FOUND_ERROR``."""
    customer_id = call.request.path_params["id"]
    found = call.sandbox.customer(call.account.user_id, customer_id)
    if found is None:
        raise errors.bad_request(
            "END_CUSTOMER_NOT_FOUND_ERROR", f"End customer {customer_id} not found"
        )
    update_customer(call.sandbox, found, await call.body())
    return json_response(customer_json(found))


ENDPOINTS = (
    Endpoint("POST", "/customers", create),
    Endpoint("GET", "/customers", by_reference),
    Endpoint("GET", "/customers/{id}", get),
    Endpoint("PATCH", "/customers/{id}", update),
)
