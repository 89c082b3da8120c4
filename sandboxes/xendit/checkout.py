"""The hosted payment page an invoice's ``invoice_url`` opens (Xendit's
``checkout.xendit.co/web/{id}``): ``GET /web/{invoice_id}`` shows the invoice, and for a
PENDING one a form whose **Pay** button (``id="pay-button"``, ``data-testid="pay-button"``)
POSTs to the same URL with a ``payment_channel`` picked among the invoice's channels. Paying
is what ``POST /_sandbox/invoices/{id}/pay`` does, callback included; then the browser is sent
to the invoice's ``success_redirect_url``, or back to the page, which shows it PAID.

Plain HTML, no script and nothing from another origin (its Content-Security-Policy allows
neither). Like the real page, it takes no credentials: anyone with the link may pay. An
unknown id is a 404 page; a paid, settled or expired invoice shows its state and no button.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from sandboxes.kit.app import public_link

from . import callbacks, errors, payment
from .records import Invoice
from .store import XenditSandbox

__all__ = ["ROUTES"]

MAX_FORM = 4096
_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}"
    "dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem 1rem}dt{color:#555}"
    ".status{font-weight:bold}.notice{padding:.6rem;background:#fee;border:1px solid #c66}"
    "button{font-size:1.1rem;padding:.6rem 1.4rem;margin-top:1rem}"
)


def _amount(value: Decimal) -> str:
    return f"{value:,}"


def _html(title: str, body: str, status: int) -> HTMLResponse:
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )
    headers = {"content-security-policy": _CSP, "cache-control": "no-store"}
    return HTMLResponse(page, status_code=status, headers=headers)


def _form(inv: Invoice) -> str:
    options = "".join(
        f'<option value="{escape(channel)}">{escape(channel)}</option>'
        for channel in inv.payment_methods
    )
    return (
        '<form method="post">'
        '<label for="payment-channel">Pay with</label> '
        '<select id="payment-channel" name="payment_channel" data-testid="payment-channel">'
        f"{options}</select><br>"
        '<button type="submit" id="pay-button" data-testid="pay-button">'
        f"Pay {escape(inv.currency)} {_amount(inv.amount)}</button></form>"
    )


def _invoice_page(inv: Invoice, *, status: int = 200, notice: str | None = None) -> Response:
    rows = [
        ("Merchant", inv.merchant_name),
        ("Description", inv.description or ""),
        ("Amount", f"{inv.currency} {_amount(inv.amount)}"),
        ("Invoice", inv.external_id),
    ]
    if inv.payment_channel is not None and inv.status in ("PAID", "SETTLED"):
        rows.append(("Paid with", inv.payment_channel))
    details = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    state = (
        f'<p>Status: <span class="status" id="invoice-status" data-testid="invoice-status">'
        f"{escape(inv.status)}</span></p>"
    )
    warning = "" if notice is None else f'<p class="notice" role="alert">{escape(notice)}</p>'
    action = _form(inv) if inv.status == "PENDING" else ""
    body = f"<h1>{escape(inv.merchant_name)}</h1>{warning}<dl>{details}</dl>{state}{action}"
    return _html(f"Invoice {inv.external_id}", body, status)


def _not_found(invoice_id: str) -> Response:
    body = f"<h1>Invoice not found</h1><p>There is no invoice {escape(invoice_id)}.</p>"
    return _html("Invoice not found", body, 404)


def _find(request: Request) -> tuple[XenditSandbox, Invoice | None]:
    sandbox: XenditSandbox = request.app.state.sandbox
    callbacks.send(sandbox, sandbox.lapse())
    return sandbox, sandbox.invoices.get(request.path_params["invoice_id"])


async def _show(request: Request) -> Response:
    inv = _find(request)[1]
    if inv is None:
        return _not_found(request.path_params["invoice_id"])
    return _invoice_page(inv)


async def _pay(request: Request) -> Response:
    raw = await request.body()
    sandbox, inv = _find(request)
    if inv is None:
        return _not_found(request.path_params["invoice_id"])
    if len(raw) > MAX_FORM:
        return _invoice_page(inv, status=400, notice="The form is too large.")
    try:
        form = parse_qs(raw.decode(), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return _invoice_page(inv, status=400, notice="The form could not be read.")
    channel = next(iter(form.get("payment_channel", [])), "") or None
    try:
        payment.pay(sandbox, inv, channel=channel, method=None)
    except errors.APIError as refused:
        status = 409 if refused.error_code.startswith("INVOICE_") else 400
        return _invoice_page(inv, status=status, notice=refused.message)
    callbacks.send(sandbox, [inv])
    target = inv.success_redirect_url or public_link(request, "payment_page", invoice_id=inv.id)
    return RedirectResponse(target, status_code=303)


ROUTES = [
    Route("/web/{invoice_id}", _show, methods=["GET"], name="payment_page"),
    Route("/web/{invoice_id}", _pay, methods=["POST"], name="payment_page_pay"),
]
