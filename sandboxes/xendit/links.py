"""Where an invoice's ``invoice_url`` points: the sandbox's own payment page (``checkout``),
under the app's public URL once the gateway exposed it, else as the request reached it."""

from __future__ import annotations

from starlette.requests import Request

from sandboxes.kit.app import public_link

PAGE = "payment_page"


def checkout_base(request: Request) -> str:
    """The page's URL without the invoice id: ``<base>`` + id is an invoice's page (made once
    per request: a listing writes hundreds)."""
    return public_link(request, PAGE, invoice_id="-")[:-1]
