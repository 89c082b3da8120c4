"""Handlers of the Invoice API routes (``/v2/invoices*`` and ``/invoices/{id}/expire!``)."""

from __future__ import annotations

from starlette.responses import Response

from . import callbacks, invoice_query, payment
from .endpoint import Call, Endpoint, json_response
from .invoice_payload import create_invoice
from .links import checkout_base
from .serialize import invoice_json


async def create(call: Call) -> Response:
    """``POST /v2/invoices/`` (and without the slash): 200 with the new PENDING invoice."""
    inv = create_invoice(call.sandbox, call.account, await call.body())
    return json_response(invoice_json(inv, checkout=checkout_base(call.request)))


async def list_(call: Call) -> Response:
    """``GET /v2/invoices``: a bare JSON array, newest first (see ``invoice_query``)."""
    query = invoice_query.parse_query(call.request.query_params)
    owned = [i for i in call.sandbox.invoices.values() if i.user_id == call.account.user_id]
    checkout = checkout_base(call.request)
    page = invoice_query.page(owned, query)
    return json_response([invoice_json(inv, checkout=checkout) for inv in page])


async def get(call: Call) -> Response:
    """``GET /v2/invoices/{invoice_id}``; unknown: 404 ``INVOICE_NOT_FOUND_ERROR``."""
    inv = call.sandbox.invoice(call.account.user_id, call.request.path_params["invoice_id"])
    return json_response(invoice_json(inv, checkout=checkout_base(call.request)))


async def expire(call: Call) -> Response:
    """``POST /invoices/{invoice_id}/expire!`` (no ``/v2``): the invoice, now EXPIRED."""
    inv = call.sandbox.invoice(call.account.user_id, call.request.path_params["invoice_id"])
    if payment.expire(call.sandbox, inv):
        callbacks.send(call.sandbox, [inv])
    return json_response(invoice_json(inv, checkout=checkout_base(call.request)))


ENDPOINTS = (
    Endpoint("POST", "/v2/invoices/", create),
    Endpoint("POST", "/v2/invoices", create),
    Endpoint("GET", "/v2/invoices", list_),
    Endpoint("GET", "/v2/invoices/{invoice_id}", get),
    Endpoint("POST", "/invoices/{invoice_id}/expire!", expire),
)
