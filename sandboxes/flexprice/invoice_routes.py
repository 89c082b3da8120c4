"""Handlers of the ``/v1/invoices*`` routes and the customer invoice summary."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sandboxes.kit.app import public_link

from . import billing, errors, filters, lifecycle
from .binding import parse_object, query_to_body
from .creation import create_invoice
from .endpoint import Endpoint, json_response, success
from .invoice_payloads import (
    bind_create_invoice,
    bind_payment_status,
    bind_preview,
    bind_update_invoice,
    bind_void,
    validate_create_invoice,
    validate_pdf_url,
)
from .pdf import render_invoice
from .records import Invoice
from .serialize import invoice_json, pagination, summary_json
from .store import FlexPriceSandbox
from .webhooks import emit, full_invoice

DRAFTED = "invoice.create.drafted"
FINALIZED = "invoice.update.finalized"
PAYMENT = "invoice.update.payment"
VOIDED = "invoice.update.voided"
UPDATED = "invoice.update"
COMMS = "invoice.communication.triggered"


def _created(sb: FlexPriceSandbox, inv: Invoice) -> None:
    """A new invoice: drafted, or finalized at once (one event, as the server sends)."""
    emit(sb, FINALIZED if inv.invoice_status == "FINALIZED" else DRAFTED, inv)


def _changed(sb: FlexPriceSandbox, inv: Invoice, version: int, event: str) -> None:
    """`event` if the request changed `inv` (its version moved); nothing for a no-op."""
    if inv.version != version:
        emit(sb, event, inv)


async def create(request: Request, sb: FlexPriceSandbox) -> Response:
    inp = bind_create_invoice(parse_object(await request.body()))
    validate_create_invoice(inp)
    known = len(sb.invoices)
    inv = create_invoice(sb, inp)
    if len(sb.invoices) > known:
        _created(sb, inv)
    else:  # the draft of an earlier create with the same key, computed again
        emit(sb, FINALIZED if inv.invoice_status == "FINALIZED" else UPDATED, inv)
    return json_response(invoice_json(inv), 201)


def _list(sb: FlexPriceSandbox, query: filters.InvoiceQuery) -> Response:
    def resolve(external_id: str) -> str:
        customer = sb.customer_by_external_id(external_id)
        if customer is None:
            raise errors.not_found(
                "failed to get customer by external customer id",
                details={"external_customer_id": external_id},
            )
        return customer.id

    items, total = filters.search_invoices(list(sb.invoices.values()), query, resolve)
    body = {
        "items": [
            invoice_json(
                inv,
                line_items=not query.skip_line_items,
                customer=sb.customers.get(inv.customer_id),
            )
            for inv in items
        ],
        # Invoices echo the requested offset (customers do not, see customer_routes).
        "pagination": pagination(total=total, limit=query.limit, offset=query.offset),
    }
    return json_response(body)


async def search(request: Request, sb: FlexPriceSandbox) -> Response:
    return _list(sb, filters.bind_invoice_query(parse_object(await request.body())))


async def list_(request: Request, sb: FlexPriceSandbox) -> Response:
    body = query_to_body(request.query_params)
    return _list(sb, filters.bind_invoice_query(body))


async def get(request: Request, sb: FlexPriceSandbox) -> Response:
    return json_response(full_invoice(sb, sb.invoice(request.path_params["id"])))


async def update(request: Request, sb: FlexPriceSandbox) -> Response:
    inp = bind_update_invoice(parse_object(await request.body()))
    validate_pdf_url(inp.invoice_pdf_url)
    inv = sb.invoice(request.path_params["id"])
    lifecycle.update_invoice(sb, inv, inp)
    emit(sb, UPDATED, inv)
    return json_response(invoice_json(inv))


async def preview(request: Request, sb: FlexPriceSandbox) -> Response:
    inp = bind_preview(parse_object(await request.body()))
    sub = sb.subscription(inp.subscription_id)
    inv = billing.preview(
        sb,
        sub,
        period_start=inp.period_start,
        period_end=inp.period_end,
        hide_zero=inp.hide_zero_charges_line_items,
    )
    return json_response(invoice_json(inv, customer=sb.customers.get(inv.customer_id)))


async def finalize(request: Request, sb: FlexPriceSandbox) -> Response:
    inv = sb.invoice(request.path_params["id"])
    version = inv.version
    lifecycle.finalize(sb, inv)
    _changed(sb, inv, version, FINALIZED)  # a SKIPPED invoice is left as it is: no event
    return success("invoice finalized successfully")


async def void(request: Request, sb: FlexPriceSandbox) -> Response:
    metadata = bind_void(parse_object(await request.body(), empty_ok=True))
    inv = sb.invoice(request.path_params["id"])
    lifecycle.void(sb, inv, metadata)
    emit(sb, VOIDED, inv)
    return success("invoice voided successfully")


async def payment(request: Request, sb: FlexPriceSandbox) -> Response:
    inp = bind_payment_status(parse_object(await request.body()))
    inv = sb.invoice(request.path_params["id"])
    lifecycle.update_payment_status(sb, inv, inp.payment_status, inp.amount)
    emit(sb, PAYMENT, inv)
    return json_response(full_invoice(sb, inv))


async def attempt(request: Request, sb: FlexPriceSandbox) -> Response:
    inv = sb.invoice(request.path_params["id"])
    version = inv.version
    lifecycle.attempt_payment(sb, inv)
    _changed(sb, inv, version, PAYMENT)  # nothing paid (an empty wallet): no event
    return success("payment processed successfully")


async def recalculate(request: Request, sb: FlexPriceSandbox) -> Response:
    inv = sb.invoice(request.path_params["id"])
    replacement, workflow = billing.recalculate_voided(sb, inv)
    emit(sb, UPDATED, inv)  # now linked to its replacement (recalculated_invoice_id)
    _created(sb, replacement)
    return json_response(workflow, 202)


async def recalculate_v2(request: Request, sb: FlexPriceSandbox) -> Response:
    finalize_after = request.query_params.get("finalize", "true") == "true"
    inv = sb.invoice(request.path_params["id"])
    billing.recalculate_draft(sb, inv, finalize_after=finalize_after)
    emit(sb, UPDATED, inv)
    if inv.invoice_status == "FINALIZED":
        emit(sb, FINALIZED, inv)
    return json_response(full_invoice(sb, inv))


async def comms(request: Request, sb: FlexPriceSandbox) -> Response:
    emit(sb, COMMS, sb.invoice(request.path_params["id"]))
    return success("communication triggered successfully")


async def pdf(request: Request, sb: FlexPriceSandbox) -> Response:
    inv = sb.invoice(request.path_params["id"])
    if request.query_params.get("url") == "true":
        url = inv.invoice_pdf_url or public_link(request, "sandbox_file", invoice_id=inv.id)
        return json_response({"presigned_url": url})
    data = render_invoice(inv, sb.customers.get(inv.customer_id))
    return Response(data, media_type="application/pdf")


async def summary(request: Request, sb: FlexPriceSandbox) -> Response:
    customer_id = request.path_params["id"]
    return json_response(summary_json(customer_id, billing.customer_summary(sb, customer_id)))


ENDPOINTS = (
    Endpoint("POST", "/v1/invoices", create),
    Endpoint("GET", "/v1/invoices", list_, "invalid query parameters"),
    Endpoint("POST", "/v1/invoices/search", search, "invalid request body"),
    Endpoint("POST", "/v1/invoices/preview", preview, "failed to bind request body"),
    Endpoint("GET", "/v1/invoices/{id}", get),
    Endpoint("PUT", "/v1/invoices/{id}", update),
    Endpoint("POST", "/v1/invoices/{id}/finalize", finalize),
    Endpoint("POST", "/v1/invoices/{id}/void", void, "failed to parse request body"),
    Endpoint("PUT", "/v1/invoices/{id}/payment", payment, "failed to bind request body"),
    Endpoint("POST", "/v1/invoices/{id}/payment/attempt", attempt),
    Endpoint("POST", "/v1/invoices/{id}/recalculate", recalculate),
    Endpoint("POST", "/v1/invoices/{id}/recalculate-v2", recalculate_v2),
    Endpoint("POST", "/v1/invoices/{id}/comms/trigger", comms),
    Endpoint("GET", "/v1/invoices/{id}/pdf", pdf),
    Endpoint("GET", "/v1/customers/{id}/invoices/summary", summary),
)
