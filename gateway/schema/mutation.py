"""Mutations: one `input` each, a payload of `{ invoice userErrors }`.

Expected refusals (bad input, unknown id, the provider's rules, an operation the provider lacks)
are user errors in the payload. A provider that is down or times out is a GraphQL error with
`extensions.code` and `extensions.provider`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry

from gateway.context import GatewayContext
from gateway.errors import ErrorCode, GatewayError, code_for_provider_error
from gateway.ids import GlobalId, NodeType
from gateway.operations import Deadline, KeyMismatch, create_invoice
from gateway.schema import inputs, payloads
from gateway.schema.nodes import Invoice
from gateway.schema.permissions import CanWrite
from providers import validation
from providers.base import InvoiceProvider
from providers.errors import (
    IdempotencyKeyReused,
    InvalidInput,
    ProviderRejected,
    UnsupportedOperation,
)
from providers.models import Invoice as InvoiceModel
from providers.models import PaymentStatus, RecalculationResult

__all__ = ["Mutation"]

Info = strawberry.Info[GatewayContext, None]
PayloadT = TypeVar("PayloadT", bound=payloads.InvoicePayload)

_USER_CODES = {code.value: code for code in payloads.UserErrorCode}
#: Failures that are no refusal of the input: GraphQL errors, which a client retries.
_RETRY_LATER = frozenset(
    {ErrorCode.IDEMPOTENCY_STORE_UNAVAILABLE, ErrorCode.IDEMPOTENCY_KEY_IN_PROGRESS}
)
_KEY_PATH = ["input", "idempotencyKey"]


def _key_reused(what: str) -> payloads.UserError:
    return payloads.UserError(
        code=payloads.UserErrorCode.IDEMPOTENCY_KEY_REUSED,
        message=f"idempotencyKey was used for {what}: send a new key for a new invoice, or "
        "the same input to get the first one back",
        field=_KEY_PATH,
    )


def _refusal(input_type: str, exc: Exception) -> list[payloads.UserError] | None:
    """The user errors that answer `exc`, an expected refusal, with each domain field mapped
    to the path of the `input_type` field the client sent; None when `exc` is no refusal."""
    if isinstance(exc, KeyMismatch):
        return [_key_reused(exc.what)]
    if isinstance(exc, IdempotencyKeyReused):
        names = ", ".join(".".join(inputs.input_path(input_type, d)[1:]) for d in exc.differences)
        return [_key_reused(f"a different invoice (its {names} differ)")]
    if isinstance(exc, InvalidInput):
        errors = []
        for violation in exc.violations:
            path = inputs.input_path(input_type, violation.field) if violation.field else None
            where = ".".join(path[1:]) + ": " if path else ""
            errors.append(
                payloads.UserError(
                    code=payloads.UserErrorCode.INVALID_INPUT,
                    message=f"{where}{violation.rule}",
                    field=path,
                )
            )
        return errors
    if isinstance(exc, ProviderRejected | UnsupportedOperation):
        code = _USER_CODES[code_for_provider_error(exc).value]
        field = inputs.input_path(input_type, exc.field) if exc.field else None
        return [payloads.UserError(code=code, message=exc.message, field=field)]
    if isinstance(exc, GatewayError) and exc.code not in _RETRY_LATER:
        code = _USER_CODES.get(exc.code.value, payloads.UserErrorCode.INVALID_INPUT)
        field = ["input", *exc.field.removeprefix("input.").split(".")] if exc.field else None
        return [payloads.UserError(code=code, message=exc.message, field=field)]
    return None


def _invoice_target(info: Info, value: strawberry.ID) -> tuple[InvoiceProvider, str]:
    gid = GlobalId.decode(value, field="input.id", expect=NodeType.INVOICE)
    return info.context.provider(gid.provider, field="input.id"), gid.native_id


async def _run(
    info: Info,
    payload: type[PayloadT],
    input_type: str,
    action: Callable[[], Awaitable[InvoiceModel | RecalculationResult]],
) -> PayloadT:
    """Run `action`; refusals become user errors, a provider outage stays a GraphQL error."""
    try:
        result = await action()
    except (KeyMismatch, ProviderRejected, UnsupportedOperation, GatewayError) as exc:
        errors = _refusal(input_type, exc)
        if errors is None:
            raise  # a GraphQL error with its code, as for a provider that is down
        return payload(invoice=None, user_errors=errors)
    message = None
    if isinstance(result, RecalculationResult):
        message, model = result.message, result.invoice
    else:
        model = result
    if model is not None:
        info.context.loaders.prime_invoices((model,))
    out = payload(invoice=None if model is None else Invoice(model=model), user_errors=[])
    if message is not None and isinstance(out, payloads.RecalculateInvoicePayload):
        out.message = message
    return out


async def _on_invoice(
    info: Info,
    payload: type[PayloadT],
    input_type: str,
    invoice_id: strawberry.ID,
    act: Callable[[InvoiceProvider, str], Awaitable[InvoiceModel | RecalculationResult]],
) -> PayloadT:
    """`_run` an action on the provider and native id that `invoice_id` names."""

    async def action() -> InvoiceModel | RecalculationResult:
        provider, native_id = _invoice_target(info, invoice_id)
        return await act(provider, native_id)

    return await _run(info, payload, input_type, action)


@strawberry.type(description="Every change the gateway can make to invoices.")
class Mutation:
    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Create a one-off invoice in the customer's provider. Subtotal and total are "
        "the exact sum of the lines. Send an idempotencyKey to make retries safe.",
    )
    async def create_invoice(
        self, info: Info, input: inputs.CreateInvoiceInput
    ) -> payloads.CreateInvoicePayload:
        async def action() -> InvoiceModel:
            deadline = Deadline.starting_now(info.context.settings.create_deadline_seconds)
            gid = GlobalId.decode(
                input.customer_id, field="input.customerId", expect=NodeType.CUSTOMER
            )
            provider = info.context.provider(gid.provider, field="input.customerId")
            draft = validation.invoice_draft(inputs.draft_values(input, gid.native_id))
            key = input.idempotency_key
            return await create_invoice(
                provider,
                draft,
                key=None if key is None else validation.idempotency_key(key),
                caller=info.context.caller,
                store=info.context.idempotency,
                deadline=deadline,
            )

        return await _run(info, payloads.CreateInvoicePayload, "CreateInvoiceInput", action)

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Change an invoice's due date, metadata or PDF URL (FlexPrice: drafts and "
        "finalized invoices only).",
    )
    async def update_invoice(
        self, info: Info, input: inputs.UpdateInvoiceInput
    ) -> payloads.UpdateInvoicePayload:
        async def act(provider: InvoiceProvider, native_id: str) -> InvoiceModel:
            update = validation.invoice_update(
                {
                    "due_at": input.due_at,
                    "metadata": inputs.entries(input.metadata),
                    "pdf_url": input.pdf_url,
                }
            )
            return await provider.update_invoice(native_id, update)

        return await _on_invoice(
            info, payloads.UpdateInvoicePayload, "UpdateInvoiceInput", input.id, act
        )

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Issue a draft invoice: it gets its number and becomes OPEN (or PAID when "
        "nothing is due).",
    )
    async def finalize_invoice(
        self, info: Info, input: inputs.InvoiceIdInput
    ) -> payloads.FinalizeInvoicePayload:
        return await _on_invoice(
            info,
            payloads.FinalizeInvoicePayload,
            "InvoiceIdInput",
            input.id,
            lambda pr, nid: pr.finalize_invoice(nid),
        )

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Cancel an invoice. FlexPrice: it becomes VOID, and what was already paid is "
        "credited to the customer's wallet. Xendit, whose only way to cancel is expiry: it is "
        "expired at once and becomes EXPIRED (a paid invoice cannot be).",
    )
    async def void_invoice(
        self, info: Info, input: inputs.VoidInvoiceInput
    ) -> payloads.VoidInvoicePayload:
        async def act(provider: InvoiceProvider, native_id: str) -> InvoiceModel:
            metadata = validation.void_metadata(inputs.entries(input.metadata))
            return await provider.void_invoice(native_id, metadata=metadata)

        return await _on_invoice(
            info, payloads.VoidInvoicePayload, "VoidInvoiceInput", input.id, act
        )

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Record a payment status by hand, for money received outside the provider.",
    )
    async def update_invoice_payment_status(
        self, info: Info, input: inputs.UpdateInvoicePaymentStatusInput
    ) -> payloads.UpdateInvoicePaymentStatusPayload:
        async def act(provider: InvoiceProvider, native_id: str) -> InvoiceModel:
            update = validation.payment_status_update(
                {"status": PaymentStatus(input.payment_status), "amount": input.amount}
            )
            return await provider.update_payment_status(native_id, update)

        return await _on_invoice(
            info,
            payloads.UpdateInvoicePaymentStatusPayload,
            "UpdateInvoicePaymentStatusInput",
            input.id,
            act,
        )

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Charge the invoice now from what the customer holds at the provider "
        "(FlexPrice: the customer's wallets).",
    )
    async def attempt_invoice_payment(
        self, info: Info, input: inputs.InvoiceIdInput
    ) -> payloads.AttemptInvoicePaymentPayload:
        return await _on_invoice(
            info,
            payloads.AttemptInvoicePaymentPayload,
            "InvoiceIdInput",
            input.id,
            lambda pr, nid: pr.attempt_payment(nid),
        )

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Recompute an invoice from its subscription. FlexPrice: a draft is "
        "recalculated in place (then finalized unless finalize is false); a voided invoice gets "
        "a replacement built in the background (see `message` and the invoice's raw "
        "recalculated_invoice_id).",
    )
    async def recalculate_invoice(
        self, info: Info, input: inputs.RecalculateInvoiceInput
    ) -> payloads.RecalculateInvoicePayload:
        return await _on_invoice(
            info,
            payloads.RecalculateInvoicePayload,
            "RecalculateInvoiceInput",
            input.id,
            lambda pr, nid: pr.recalculate_invoice(nid, finalize=input.finalize),
        )

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description="Ask the provider to send the invoice to the customer again (FlexPrice fires "
        "its invoice.communication.triggered webhook).",
    )
    async def trigger_invoice_communication(
        self, info: Info, input: inputs.InvoiceIdInput
    ) -> payloads.TriggerInvoiceCommunicationPayload:
        async def act(provider: InvoiceProvider, native_id: str) -> InvoiceModel:
            await provider.trigger_communication(native_id)
            found = await info.context.loaders.invoices.load((provider.name, native_id))
            if found is None:
                raise GatewayError(
                    ErrorCode.NOT_FOUND, "input.id: no such invoice", field="input.id"
                )
            return found

        return await _on_invoice(
            info, payloads.TriggerInvoiceCommunicationPayload, "InvoiceIdInput", input.id, act
        )
