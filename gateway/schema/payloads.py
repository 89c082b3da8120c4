"""Mutation payloads: the invoice changed, and the user errors that explain a refusal."""

from __future__ import annotations

from enum import StrEnum

import strawberry

from gateway.schema.nodes import Invoice

__all__ = [
    "AttemptInvoicePaymentPayload",
    "CreateInvoicePayload",
    "FinalizeInvoicePayload",
    "InvoicePayload",
    "RecalculateInvoicePayload",
    "TriggerInvoiceCommunicationPayload",
    "UpdateInvoicePayload",
    "UpdateInvoicePaymentStatusPayload",
    "UserError",
    "UserErrorCode",
    "VoidInvoicePayload",
]


@strawberry.enum(description="Why a mutation was refused.")
class UserErrorCode(StrEnum):
    INVALID_INPUT = "INVALID_INPUT"
    INVALID_ID = "INVALID_ID"
    UNKNOWN_PROVIDER = "UNKNOWN_PROVIDER"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    UNSUPPORTED_BY_PROVIDER = "UNSUPPORTED_BY_PROVIDER"
    PROVIDER_REJECTED = "PROVIDER_REJECTED"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"


@strawberry.type(description="An expected reason a mutation did not do what was asked.")
class UserError:
    code: UserErrorCode = strawberry.field(description="What kind of refusal this is.")
    message: str = strawberry.field(description="What is wrong and how to fix it, for a person.")
    field: list[str] | None = strawberry.field(
        description="The path of the input field at fault, e.g. "
        '["input", "lineItems", "0", "quantity"]; null when no one field is.'
    )


@strawberry.interface(
    description="What every invoice mutation returns: the invoice after the change, or user "
    "errors. A provider that is down is a GraphQL error instead, with extensions.code."
)
class InvoicePayload:
    invoice: Invoice | None = strawberry.field(
        description="The invoice as it is now; null when the mutation was refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the mutation was refused; empty on success."
    )


@strawberry.type(description="The result of createInvoice.")
class CreateInvoicePayload(InvoicePayload):
    pass


@strawberry.type(description="The result of updateInvoice.")
class UpdateInvoicePayload(InvoicePayload):
    pass


@strawberry.type(description="The result of finalizeInvoice.")
class FinalizeInvoicePayload(InvoicePayload):
    pass


@strawberry.type(description="The result of voidInvoice.")
class VoidInvoicePayload(InvoicePayload):
    pass


@strawberry.type(description="The result of updateInvoicePaymentStatus.")
class UpdateInvoicePaymentStatusPayload(InvoicePayload):
    pass


@strawberry.type(description="The result of attemptInvoicePayment.")
class AttemptInvoicePaymentPayload(InvoicePayload):
    pass


@strawberry.type(description="The result of recalculateInvoice.")
class RecalculateInvoicePayload(InvoicePayload):
    message: str | None = strawberry.field(
        default=None,
        description="What the provider said it started, e.g. that a replacement invoice is "
        "being built (FlexPrice, for a voided subscription invoice).",
    )


@strawberry.type(description="The result of triggerInvoiceCommunication.")
class TriggerInvoiceCommunicationPayload(InvoicePayload):
    pass
