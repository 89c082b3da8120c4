"""Handlers of the ``/v1/customers*`` routes (the invoice summary lives in invoice_routes)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from . import errors, filters
from .binding import parse_object, query_to_body
from .customers import bind_create_customer, create_customer, validate_create_customer
from .endpoint import Endpoint, json_response
from .serialize import customer_json, pagination
from .store import FlexPriceSandbox


def _list(sb: FlexPriceSandbox, query: filters.CustomerQuery) -> Response:
    items, total = filters.search_customers(list(sb.customers.values()), query)
    body = {
        "items": [customer_json(c) for c in items],
        # Customers report offset + limit, the *next* offset (types.NewPaginationResponse).
        "pagination": pagination(total=total, limit=query.limit, offset=query.offset + query.limit),
    }
    return json_response(body)


async def search(request: Request, sb: FlexPriceSandbox) -> Response:
    return _list(sb, filters.bind_customer_query(parse_object(await request.body())))


async def list_(request: Request, sb: FlexPriceSandbox) -> Response:
    return _list(sb, filters.bind_customer_query(query_to_body(request.query_params)))


async def get(request: Request, sb: FlexPriceSandbox) -> Response:
    return json_response(customer_json(sb.customer(request.path_params["id"])))


async def get_by_external_id(request: Request, sb: FlexPriceSandbox) -> Response:
    external_id = request.path_params["external_id"]
    customer = sb.customer_by_external_id(external_id)
    if customer is None:
        raise errors.not_found(
            f"Customer with lookup key {external_id} was not found",
            details={"lookup_key": external_id},
        )
    return json_response(customer_json(customer))


async def create(request: Request, sb: FlexPriceSandbox) -> Response:
    inp = bind_create_customer(parse_object(await request.body()))
    validate_create_customer(inp)
    return json_response(customer_json(create_customer(sb, inp)), 201)


ENDPOINTS = (
    Endpoint("POST", "/v1/customers", create),
    Endpoint("GET", "/v1/customers", list_, "invalid query parameters"),
    Endpoint("POST", "/v1/customers/search", search, "invalid request body"),
    Endpoint("GET", "/v1/customers/external/{external_id}", get_by_external_id),
    Endpoint("GET", "/v1/customers/{id}", get),
)
