"""This sandbox's own ``/_sandbox`` routes beside the shared stats, faults and reset routes
(``sandboxes.kit.controls``), and its answer to an injected error."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandboxes.kit.controls import SandboxControls, control_routes

from . import callbacks, checkout, errors, payment
from .encoding import MalformedBody, loads_object
from .endpoint import json_response
from .links import checkout_base
from .records import Invoice
from .serialize import invoice_json
from .store import XenditSandbox


def _state(request: Request) -> tuple[XenditSandbox, SandboxControls]:
    return request.app.state.sandbox, request.app.state.controls


def _summary(sandbox: XenditSandbox) -> dict[str, object]:
    return {
        "seed": sandbox.seed,
        "customers": len(sandbox.customers),
        "invoices": len(sandbox.invoices),
    }


def _invoice(request: Request) -> Invoice:
    sandbox = _state(request)[0]
    callbacks.send(sandbox, sandbox.lapse())
    invoice_id = request.path_params["invoice_id"]
    found = sandbox.invoices.get(invoice_id)
    if found is None:
        raise errors.invoice_not_found(invoice_id)
    return found


async def _pay(request: Request) -> Response:
    """Pay in full: body ``{"payment_channel": "BCA", "payment_method": ...}``, both optional."""
    try:
        raw = await request.body()
        body = loads_object(raw) if raw.strip() else {}
        channel, method = body.get("payment_channel"), body.get("payment_method")
        if not isinstance(channel, str | None) or not isinstance(method, str | None):
            raise errors.validation('"payment_channel" and "payment_method" must be strings')
        inv = _invoice(request)
        payment.pay(_state(request)[0], inv, channel=channel, method=method)
    except MalformedBody:
        return json_response(errors.validation("Body must be a JSON object").body(), 400)
    except errors.APIError as refused:
        return json_response(refused.body(), refused.status)
    callbacks.send(_state(request)[0], [inv])
    return json_response(invoice_json(inv, checkout=checkout_base(request)))


async def _settle(request: Request) -> Response:
    try:
        inv = _invoice(request)
        payment.settle(_state(request)[0], inv)
    except errors.APIError as refused:
        return json_response(refused.body(), refused.status)
    callbacks.send(_state(request)[0], [inv])
    return json_response(invoice_json(inv, checkout=checkout_base(request)))


ROUTES = [
    *control_routes(json_response=json_response, summary=_summary),
    Route("/_sandbox/invoices/{invoice_id}/pay", _pay, methods=["POST"]),
    Route("/_sandbox/invoices/{invoice_id}/settle", _settle, methods=["POST"]),
    *checkout.ROUTES,
]


def injected_response(status: int) -> Response:
    """An injected fault's answer: ``status`` with this provider's own error body."""
    refusal = errors.injected(status)
    return json_response(refusal.body(), refusal.status)
