"""Xendit's Invoice API v2 and Customer API, one method per endpoint, through
`providers.http.Upstream`.

Methods take `wire` request models and return `wire` records; every failure is a
`providers.errors.ProviderError`.
Reads are retried (`retry=True`). The invoice create is sent once: Xendit has no idempotency
key, so a blind retry could bill twice; the provider retries it itself after a look-up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import SecretStr

from providers.client import (
    ApiClient,
    BasicAuth,
    RoutedPath,
    decode_record,
    decode_records,
    error_body,
    routed,
)
from providers.errors import NotFound, ProviderRejected
from providers.http import ErrorBody, HttpPolicy, Response, exact_json
from providers.records import decode_object
from providers.transport import Transport
from providers.xendit import wire

__all__ = ["NOT_FOUND_CODES", "XenditClient", "parse_error"]

PROVIDER = "xendit"

#: Codes that mean "no such record", whatever the status: the Customer API answers 400 for
#: an unknown customer.
NOT_FOUND_CODES = frozenset(
    {
        "INVOICE_NOT_FOUND_ERROR",
        "DATA_NOT_FOUND",
        "ENTITY_NOT_FOUND_ERROR",
        "END_CUSTOMER_NOT_FOUND_ERROR",
    }
)


def parse_error(response: Response) -> ErrorBody:
    """(error_code, message) of a Xendit error body `{error_code, message}`. Never raises."""
    try:
        error = decode_object(wire.Error, response.content)
    except ValueError:  # not JSON, or not an error object
        return None, None
    return error_body(error.error_code, error.message)


def _path(template: str, *ids: str) -> RoutedPath:
    """`template` with the ids as path segments, observed under the template (`routed`)."""
    return routed(PROVIDER, template, *ids)


class XenditClient(ApiClient):
    """One method per Xendit endpoint; paths are relative to the base URL (the host)."""

    provider = PROVIDER

    @classmethod
    def connect(
        cls,
        *,
        base_url: str,
        secret_key: SecretStr,
        policy: HttpPolicy,
        for_user_id: str | None = None,
        transport: Transport | None = None,
    ) -> XenditClient:
        """A client whose every request carries Basic auth (the secret key as user name, an
        empty password), `accept`, our `user-agent` and, when given, `for-user-id` (a
        xenPlatform sub-account).

        `transport` defaults to the network (see `providers.http.build_transport`). The
        authorization header is one of the upstream's `credentials`, so no repr or snapshot
        shows it.
        """
        return cls.open(
            base_url=base_url,
            auth=BasicAuth(secret_key),
            policy=policy,
            parse_error=parse_error,
            headers={"for-user-id": for_user_id} if for_user_id is not None else None,
            transport=transport,
        )

    async def _send(
        self,
        method: str,
        path: str,
        *,
        retry: bool,
        json_body: Any = None,
        content: bytes | None = None,
        params: Mapping[str, str | Sequence[str]] | None = None,
    ) -> Response:
        try:
            return await self.upstream.request(
                method,
                path,
                retry=retry,
                json_body=json_body,
                content=content,
                params=params,
                ok=_OK,
            )
        except ProviderRejected as exc:
            if isinstance(exc, NotFound) or exc.provider_code not in NOT_FOUND_CODES:
                raise
            raise NotFound(
                PROVIDER, exc.message, status=exc.status, provider_code=exc.provider_code
            ) from exc

    # -- invoices ---------------------------------------------------------------------------

    async def get_invoice(self, invoice_id: str) -> wire.Invoice:
        """`GET /v2/invoices/{id}`; raises `NotFound` for an unknown id."""
        response = await self._send("GET", _path("/v2/invoices/{}", invoice_id), retry=True)
        return decode_record(PROVIDER, wire.Invoice, response)

    async def list_invoices(self, params: Mapping[str, str | Sequence[str]]) -> list[wire.Invoice]:
        """`GET /v2/invoices`: a bare array, newest first. A sequence value is sent as
        repeated keys, as the SDK sends arrays (`statuses=PAID&statuses=SETTLED`)."""
        response = await self._send("GET", "/v2/invoices", retry=True, params=params)
        return decode_records(PROVIDER, wire.Invoice, response)

    async def create_invoice(self, request: wire.CreateInvoiceRequest) -> wire.Invoice:
        """`POST /v2/invoices/` (trailing slash as the SDK sends it), sent exactly once."""
        body = exact_json(request.body())  # amounts as their own digits, never via a float
        response = await self._send("POST", "/v2/invoices/", retry=False, content=body)
        return decode_record(PROVIDER, wire.Invoice, response)

    async def expire_invoice(self, invoice_id: str) -> wire.Invoice:
        """`POST /invoices/{id}/expire!` (no `/v2`, a literal `!`); answers the invoice."""
        path = _path("/invoices/{}/expire!", invoice_id)
        response = await self._send("POST", path, retry=False)
        return decode_record(PROVIDER, wire.Invoice, response)

    # -- customers --------------------------------------------------------------------------

    async def get_customer(self, customer_id: str) -> wire.Customer:
        """`GET /customers/{id}`; raises `NotFound` for an unknown id (404 or a 400 code)."""
        response = await self._send("GET", _path("/customers/{}", customer_id), retry=True)
        return decode_record(PROVIDER, wire.Customer, response)


# Xendit does not document whether a create answers 200 or 201: either is fine.
_OK = frozenset({200, 201})
