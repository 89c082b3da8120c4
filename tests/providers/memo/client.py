"""Memo's endpoints, one method each, on `providers.client.ApiClient`."""

from __future__ import annotations

from collections.abc import Mapping

from providers.client import ApiClient, decode_record, error_body, segment
from providers.http import ErrorBody, Response
from providers.records import decode_object

from . import wire

PROVIDER = "memo"


def parse_error(response: Response) -> ErrorBody:
    """(code, message) of `{"error": {code, message}}`; never raises."""
    try:
        error = decode_object(wire.ErrorBody, response.content).error
    except ValueError:
        return None, None
    return error_body(error.code, error.message) if error else (None, None)


class MemoClient(ApiClient):
    provider = PROVIDER

    async def list_invoices(self, params: Mapping[str, str]) -> wire.InvoiceList:
        response = await self.upstream.request("GET", "/invoices", retry=True, params=params)
        return decode_record(PROVIDER, wire.InvoiceList, response)

    async def get_invoice(self, invoice_id: str) -> wire.Invoice:
        path = f"/invoices/{segment(PROVIDER, invoice_id)}"
        response = await self.upstream.request("GET", path, retry=True)
        return decode_record(PROVIDER, wire.Invoice, response)

    async def get_customer(self, customer_id: str) -> wire.Customer:
        path = f"/customers/{segment(PROVIDER, customer_id)}"
        response = await self.upstream.request("GET", path, retry=True)
        return decode_record(PROVIDER, wire.Customer, response)

    async def create_invoice(self, request: wire.CreateInvoice) -> wire.Invoice:
        # Memo honours the body's idempotency key, so a create is retried like a read.
        body = request.model_dump()
        ok = frozenset({200, 201})
        response = await self.upstream.request(
            "POST", "/invoices", retry=True, json_body=body, ok=ok
        )
        return decode_record(PROVIDER, wire.Invoice, response)
