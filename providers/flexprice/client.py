"""FlexPrice's REST endpoints, one method each, through `providers.http.Upstream`.

Methods take `wire` request models and return `wire` records; every failure is a
`providers.errors.ProviderError`.
Retries (`retry=True`) are for reads, searches (a POST that reads) and the invoice create, which
carries an idempotency key; calls that change state without one are sent once.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeVar
from urllib.parse import quote

import msgspec
from pydantic import SecretStr

from providers.errors import NotFound, ProviderBadResponse
from providers.flexprice import wire
from providers.http import ErrorBody, HttpPolicy, Response, Upstream
from providers.records import Record, decode_object
from providers.redaction import redacting
from providers.transport import Transport

__all__ = ["FlexPriceClient", "parse_error"]

PROVIDER = "flexprice"
_MAX_MESSAGE = 500  # an error message is shown to clients: keep a runaway body out of it

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
    message = error.message or error.error
    return error.code, message[:_MAX_MESSAGE] if message else None


def _user_agent() -> str:
    try:
        return f"invoice-gateway/{version('invoice-gateway')}"
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "invoice-gateway/0+unknown"


def _segment(value: str) -> str:
    # Quote everything, "/" included, so an id stays one path segment. "." and ".." would be
    # removed from the path by URL normalisation and reach another route; FlexPrice ids are
    # never empty or dots.
    if value in ("", ".", ".."):
        raise NotFound(PROVIDER, f"flexprice has no record with id {value!r}", status=404)
    return quote(value, safe="")


def _parse(model: type[R], response: Response) -> R:
    try:
        return decode_object(model, response.content)
    except msgspec.ValidationError as exc:
        raise ProviderBadResponse(
            PROVIDER,
            f"flexprice answered HTTP {response.status_code} with a body that is not "
            f"a {model.__name__}",
        ) from exc
    except msgspec.DecodeError as exc:
        raise ProviderBadResponse(
            PROVIDER, f"flexprice answered HTTP {response.status_code} with a body that is not JSON"
        ) from exc


class FlexPriceClient:
    """One method per FlexPrice endpoint; paths are relative to the base URL (which ends in /v1)."""

    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream

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
        secret = api_key.get_secret_value()
        return cls(
            Upstream(
                provider=PROVIDER,
                base_url=base_url,
                policy=policy,
                parse_error=redacting(parse_error, secret),
                headers={"accept": "application/json", "user-agent": _user_agent()},
                credentials={"x-api-key": secret},
                transport=transport,
            )
        )

    def __repr__(self) -> str:
        return f"FlexPriceClient({self.upstream!r})"

    async def aclose(self) -> None:
        await self.upstream.aclose()

    async def _call(
        self,
        model: type[R],
        method: str,
        path: str,
        *,
        retry: bool,
        body: wire.RequestModel | None = None,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        ok: frozenset[int] = frozenset({200}),
    ) -> R:
        if body is not None:
            json_body = body.body()
        response = await self.upstream.request(
            method, path, retry=retry, json_body=json_body, params=params, ok=ok
        )
        return _parse(model, response)

    # -- invoices ---------------------------------------------------------------------------

    async def search_invoices(self, search: wire.InvoiceFilter) -> wire.ListInvoicesResponse:
        """`POST /invoices/search`: a read, so retried."""
        return await self._call(
            wire.ListInvoicesResponse, "POST", "/invoices/search", retry=True, body=search
        )

    async def get_invoice(self, invoice_id: str) -> wire.InvoiceResponse:
        path = f"/invoices/{_segment(invoice_id)}"
        return await self._call(wire.InvoiceResponse, "GET", path, retry=True)

    async def create_invoice(self, request: wire.CreateInvoiceRequest) -> wire.InvoiceResponse:
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
        self, invoice_id: str, request: wire.UpdateInvoiceRequest
    ) -> wire.InvoiceResponse:
        path = f"/invoices/{_segment(invoice_id)}"
        return await self._call(wire.InvoiceResponse, "PUT", path, retry=False, body=request)

    async def finalize_invoice(self, invoice_id: str) -> wire.SuccessResponse:
        path = f"/invoices/{_segment(invoice_id)}/finalize"
        return await self._call(wire.SuccessResponse, "POST", path, retry=False)

    async def void_invoice(
        self, invoice_id: str, *, metadata: Mapping[str, str] | None = None
    ) -> wire.SuccessResponse:
        """`POST /invoices/{id}/void`; `metadata`, when given, is merged into the invoice's."""
        path = f"/invoices/{_segment(invoice_id)}/void"
        json_body = {"metadata": dict(metadata)} if metadata else None
        return await self._call(
            wire.SuccessResponse, "POST", path, retry=False, json_body=json_body
        )

    async def update_payment_status(
        self, invoice_id: str, request: wire.UpdatePaymentStatusRequest
    ) -> wire.InvoiceResponse:
        path = f"/invoices/{_segment(invoice_id)}/payment"
        return await self._call(wire.InvoiceResponse, "PUT", path, retry=False, body=request)

    async def attempt_payment(self, invoice_id: str) -> wire.SuccessResponse:
        path = f"/invoices/{_segment(invoice_id)}/payment/attempt"
        return await self._call(wire.SuccessResponse, "POST", path, retry=False)

    async def get_invoice_pdf_url(self, invoice_id: str) -> wire.InvoicePdfUrlResponse:
        path = f"/invoices/{_segment(invoice_id)}/pdf"
        return await self._call(
            wire.InvoicePdfUrlResponse, "GET", path, retry=True, params={"url": "true"}
        )

    async def recalculate_invoice(self, invoice_id: str) -> wire.TemporalWorkflowResult:
        """`POST /invoices/{id}/recalculate` (202): for a voided subscription invoice."""
        path = f"/invoices/{_segment(invoice_id)}/recalculate"
        return await self._call(
            wire.TemporalWorkflowResult, "POST", path, retry=False, ok=frozenset({202})
        )

    async def recalculate_invoice_v2(
        self, invoice_id: str, *, finalize: bool
    ) -> wire.InvoiceResponse:
        """`POST /invoices/{id}/recalculate-v2`: a draft subscription invoice, in place."""
        path = f"/invoices/{_segment(invoice_id)}/recalculate-v2"
        params = {"finalize": "true" if finalize else "false"}
        return await self._call(wire.InvoiceResponse, "POST", path, retry=False, params=params)

    async def trigger_comms(self, invoice_id: str) -> wire.SuccessResponse:
        path = f"/invoices/{_segment(invoice_id)}/comms/trigger"
        return await self._call(wire.SuccessResponse, "POST", path, retry=False)

    async def preview_invoice(self, request: wire.GetPreviewInvoiceRequest) -> wire.InvoiceResponse:
        """`POST /invoices/preview`: nothing is stored, so it is retried like a read."""
        return await self._call(
            wire.InvoiceResponse, "POST", "/invoices/preview", retry=True, body=request
        )

    # -- customers --------------------------------------------------------------------------

    async def search_customers(self, search: wire.CustomerFilter) -> wire.ListCustomersResponse:
        """`POST /customers/search`: a read, so retried."""
        return await self._call(
            wire.ListCustomersResponse, "POST", "/customers/search", retry=True, body=search
        )

    async def get_customer_invoice_summary(
        self, customer_id: str
    ) -> wire.CustomerMultiCurrencyInvoiceSummary:
        path = f"/customers/{_segment(customer_id)}/invoices/summary"
        return await self._call(wire.CustomerMultiCurrencyInvoiceSummary, "GET", path, retry=True)
