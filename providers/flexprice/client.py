"""FlexPrice's REST endpoints, one method each, through `providers.http.Upstream`.

Methods take `wire` request models and return `wire` records; every failure is a
`providers.errors.ProviderError`.
Retries (`retry=True`) are for reads, searches (a POST that reads) and the invoice create, which
carries an idempotency key; calls that change state without one are sent once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import SecretStr

from providers.client import ApiClient, ApiKeyAuth, RoutedPath, decode_record, error_body, routed
from providers.flexprice import bodies, wire
from providers.http import ErrorBody, HttpPolicy, Response
from providers.records import Record, decode_object
from providers.transport import Transport

__all__ = ["FlexPriceClient", "parse_error"]

PROVIDER = "flexprice"

R = TypeVar("R", bound=Record)


def parse_error(response: Response) -> ErrorBody:
    """(code, message) of a FlexPrice error body.

    Reads `{code, message, http_status_code}`, `{error}` (the auth middleware's 401/403) and
    gin's plain text `404 page not found` for an unknown route (no code and no message).
    Never raises.
    """
    try:
        error = decode_object(wire.ErrorResponse, response.content)
    except ValueError:  # not JSON, or not an error object
        return None, None
    return error_body(error.code, error.message or error.error)


def _path(template: str, *ids: str) -> RoutedPath:
    """`template` with the ids as path segments, observed under the template (`routed`)."""
    return routed(PROVIDER, template, *ids)


class FlexPriceClient(ApiClient):
    """One method per FlexPrice endpoint; paths are relative to the base URL (which ends in /v1)."""

    provider = PROVIDER

    @classmethod
    def connect(
        cls,
        *,
        base_url: str,
        api_key: SecretStr,
        policy: HttpPolicy,
        transport: Transport | None = None,
    ) -> FlexPriceClient:
        """A client whose every request carries `x-api-key`, `accept` and our `user-agent`.

        `transport` defaults to the network (see `providers.http.build_transport`). The key is
        one of the upstream's `credentials`, so no repr or snapshot shows it.
        """
        return cls.open(
            base_url=base_url,
            auth=ApiKeyAuth(api_key, header="x-api-key"),
            policy=policy,
            parse_error=parse_error,
            transport=transport,
        )

    async def _call(
        self,
        model: type[R],
        method: str,
        path: str,
        *,
        retry: bool,
        body: bodies.RequestModel | None = None,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        ok: frozenset[int] = frozenset({200}),
    ) -> R:
        if body is not None:
            json_body = body.body()
        response = await self.upstream.request(
            method, path, retry=retry, json_body=json_body, params=params, ok=ok
        )
        return decode_record(PROVIDER, model, response)

    # -- invoices ---------------------------------------------------------------------------

    async def search_invoices(self, search: bodies.InvoiceFilter) -> wire.ListInvoicesResponse:
        """`POST /invoices/search`: a read, so retried."""
        return await self._call(
            wire.ListInvoicesResponse, "POST", "/invoices/search", retry=True, body=search
        )

    async def get_invoice(self, invoice_id: str) -> wire.InvoiceResponse:
        path = _path("/invoices/{}", invoice_id)
        return await self._call(wire.InvoiceResponse, "GET", path, retry=True)

    async def create_invoice(self, request: bodies.CreateInvoiceRequest) -> wire.InvoiceResponse:
        """`POST /invoices` (201). Retried: the body's `idempotency_key` makes a repeat safe."""
        # 200 is accepted too: the spec says 201, but a 200 with an invoice is no failure.
        return await self._call(
            wire.InvoiceResponse,
            "POST",
            "/invoices",
            retry=True,
            body=request,
            ok=frozenset({200, 201}),
        )

    async def update_invoice(
        self, invoice_id: str, request: bodies.UpdateInvoiceRequest
    ) -> wire.InvoiceResponse:
        path = _path("/invoices/{}", invoice_id)
        return await self._call(wire.InvoiceResponse, "PUT", path, retry=False, body=request)

    async def finalize_invoice(self, invoice_id: str) -> wire.SuccessResponse:
        path = _path("/invoices/{}/finalize", invoice_id)
        return await self._call(wire.SuccessResponse, "POST", path, retry=False)

    async def void_invoice(
        self, invoice_id: str, *, metadata: Mapping[str, str] | None = None
    ) -> wire.SuccessResponse:
        """`POST /invoices/{id}/void`; `metadata`, when given, is merged into the invoice's."""
        path = _path("/invoices/{}/void", invoice_id)
        json_body = {"metadata": dict(metadata)} if metadata else None
        return await self._call(
            wire.SuccessResponse, "POST", path, retry=False, json_body=json_body
        )

    async def update_payment_status(
        self, invoice_id: str, request: bodies.UpdatePaymentStatusRequest
    ) -> wire.InvoiceResponse:
        path = _path("/invoices/{}/payment", invoice_id)
        return await self._call(wire.InvoiceResponse, "PUT", path, retry=False, body=request)

    async def attempt_payment(self, invoice_id: str) -> wire.SuccessResponse:
        path = _path("/invoices/{}/payment/attempt", invoice_id)
        return await self._call(wire.SuccessResponse, "POST", path, retry=False)

    async def get_invoice_pdf_url(self, invoice_id: str) -> wire.InvoicePdfUrlResponse:
        path = _path("/invoices/{}/pdf", invoice_id)
        return await self._call(
            wire.InvoicePdfUrlResponse, "GET", path, retry=True, params={"url": "true"}
        )

    async def recalculate_invoice(self, invoice_id: str) -> wire.TemporalWorkflowResult:
        """`POST /invoices/{id}/recalculate` (202): for a voided subscription invoice."""
        path = _path("/invoices/{}/recalculate", invoice_id)
        return await self._call(
            wire.TemporalWorkflowResult, "POST", path, retry=False, ok=frozenset({202})
        )

    async def recalculate_invoice_v2(
        self, invoice_id: str, *, finalize: bool
    ) -> wire.InvoiceResponse:
        """`POST /invoices/{id}/recalculate-v2`: a draft subscription invoice, in place."""
        path = _path("/invoices/{}/recalculate-v2", invoice_id)
        params = {"finalize": "true" if finalize else "false"}
        return await self._call(wire.InvoiceResponse, "POST", path, retry=False, params=params)

    async def trigger_comms(self, invoice_id: str) -> wire.SuccessResponse:
        path = _path("/invoices/{}/comms/trigger", invoice_id)
        return await self._call(wire.SuccessResponse, "POST", path, retry=False)

    async def preview_invoice(
        self, request: bodies.GetPreviewInvoiceRequest
    ) -> wire.InvoiceResponse:
        """`POST /invoices/preview`: nothing is stored, so it is retried like a read."""
        return await self._call(
            wire.InvoiceResponse, "POST", "/invoices/preview", retry=True, body=request
        )

    # -- customers --------------------------------------------------------------------------

    async def search_customers(self, search: bodies.CustomerFilter) -> wire.ListCustomersResponse:
        """`POST /customers/search`: a read, so retried."""
        return await self._call(
            wire.ListCustomersResponse, "POST", "/customers/search", retry=True, body=search
        )

    async def get_customer_invoice_summary(
        self, customer_id: str
    ) -> wire.CustomerMultiCurrencyInvoiceSummary:
        path = _path("/customers/{}/invoices/summary", customer_id)
        return await self._call(wire.CustomerMultiCurrencyInvoiceSummary, "GET", path, retry=True)
