"""This sandbox's own ``/_sandbox`` routes beside the shared stats, faults and reset routes
(``sandboxes.kit.controls``), and its answer to an injected error."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from sandboxes.kit.controls import SandboxControls, control_routes

from . import errors
from .endpoint import json_response
from .pdf import render_invoice
from .store import FlexPriceSandbox


def _state(request: Request) -> tuple[FlexPriceSandbox, SandboxControls]:
    return request.app.state.sandbox, request.app.state.controls


def _summary(sandbox: FlexPriceSandbox) -> dict[str, object]:
    return {
        "seed": sandbox.seed,
        "customers": len(sandbox.customers),
        "invoices": len(sandbox.invoices),
        "subscriptions": len(sandbox.subscriptions),
    }


async def _file(request: Request) -> Response:
    """The target of ``GET /v1/invoices/{id}/pdf?url=true``: the PDF, like a presigned URL."""
    sandbox = _state(request)[0]
    invoice = sandbox.invoices.get(request.path_params["invoice_id"])
    if invoice is None:
        return PlainTextResponse("404 page not found", status_code=404)
    data = render_invoice(invoice, sandbox.customers.get(invoice.customer_id))
    return Response(data, media_type="application/pdf")


ROUTES = [
    *control_routes(json_response=json_response, summary=_summary),
    Route("/_sandbox/files/{invoice_id}.pdf", _file, methods=["GET"], name="sandbox_file"),
]


def injected_response(status: int) -> Response:
    """An injected fault's answer: ``status`` with this provider's own error body."""
    refusal = errors.injected(status)
    return json_response(refusal.body(), refusal.status)
