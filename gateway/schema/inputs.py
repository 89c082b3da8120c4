"""Mutation inputs, what each is in the domain, and the way back from a domain field to the
input path a client sent.

The rules the values must follow are the domain's (`providers.validation`) and the chosen
provider's (`check_draft`); here an input becomes the plain values those rules take, named as the
domain names them, and a broken rule's domain field (`line_items.2.unit_amount`) becomes the
path of the input field (`["input", "lineItems", "2", "unitAmount"]`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import strawberry

from gateway.schema.enums import SettablePaymentStatus
from providers.rules import MAX_LINE_ITEMS, MAX_METADATA_ENTRIES

__all__ = [
    "CreateInvoiceInput",
    "InvoiceIdInput",
    "InvoicePreviewInput",
    "LineItemInput",
    "MetadataEntryInput",
    "PaymentPageInput",
    "RecalculateInvoiceInput",
    "UpdateInvoiceInput",
    "UpdateInvoicePaymentStatusInput",
    "VoidInvoiceInput",
    "draft_values",
    "entries",
    "input_path",
]


@strawberry.input(description="One metadata key and its value.")
class MetadataEntryInput:
    key: str = strawberry.field(description="1 to 40 characters.")
    value: str = strawberry.field(description="At most 500 characters.")


@strawberry.input(description="One line of a new invoice.")
class LineItemInput:
    description: str = strawberry.field(description="What the line is for; 1 to 500 characters.")
    quantity: Decimal = strawberry.field(description="How many units; greater than 0.")
    unit_amount: Decimal = strawberry.field(
        description="Price of one unit in major units of the invoice currency; 0 or more."
    )


@strawberry.input(
    description="How a provider's hosted payment page behaves (Xendit's invoice page). A "
    "provider without one (FlexPrice) refuses these options with a user error."
)
class PaymentPageInput:
    payer_email: str | None = strawberry.field(
        default=None, description="Where the provider sends the invoice and receipt."
    )
    success_redirect_url: str | None = strawberry.field(
        default=None, description="Where the payer goes after paying (an http(s) URL)."
    )
    failure_redirect_url: str | None = strawberry.field(
        default=None, description="Where the payer goes when payment fails (an http(s) URL)."
    )
    payment_methods: list[str] | None = strawberry.field(
        default=None,
        description="Only these payment methods, in the provider's own names (e.g. BCA, OVO, "
        "CREDIT_CARD).",
    )
    duration_seconds: int | None = strawberry.field(
        default=None,
        description="How long the page accepts payment, in seconds (1 to 31536000, one year); "
        "the provider's default when null. With dueAt too, this wins.",
    )


@strawberry.input(description="A one-off invoice to create.")
class CreateInvoiceInput:
    customer_id: strawberry.ID = strawberry.field(
        description="The global ID of the customer; the invoice is created in that customer's "
        "provider."
    )
    currency: str = strawberry.field(description="ISO 4217 code, any case (e.g. USD).")
    line_items: list[LineItemInput] = strawberry.field(
        description=f"1 to {MAX_LINE_ITEMS} lines. Subtotal and total are their exact sum."
    )
    due_at: dt.datetime | None = strawberry.field(
        default=None, description="When payment is due (no offset means UTC)."
    )
    description: str | None = strawberry.field(
        default=None, description="A memo on the invoice; at most 1000 characters."
    )
    metadata: list[MetadataEntryInput] | None = strawberry.field(
        default=None, description=f"At most {MAX_METADATA_ENTRIES} entries, keys unique."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Send the same key when you retry the same create: the same key with the "
        "same input returns the first invoice (also while the first request is still running; "
        "remembered GATEWAY_IDEMPOTENCY_TTL_SECONDS, a day by default, per API key), the same "
        "key with another input is the user error IDEMPOTENCY_KEY_REUSED (1 to 255 "
        "characters). Without one the gateway makes one, which protects only its own retries.",
    )
    payment_page: PaymentPageInput | None = strawberry.field(
        default=None, description="Options of the provider's hosted payment page, if it has one."
    )


@strawberry.input(description="Changes to an invoice; a field left out stays as it is.")
class UpdateInvoiceInput:
    id: strawberry.ID = strawberry.field(description="The global ID of the invoice.")
    due_at: dt.datetime | None = strawberry.field(default=None, description="A new due date.")
    metadata: list[MetadataEntryInput] | None = strawberry.field(
        default=None, description="Replaces the whole metadata of the invoice."
    )
    pdf_url: str | None = strawberry.field(
        default=None, description="An https URL of the invoice's PDF, stored by the provider."
    )


@strawberry.input(description="Which invoice to act on.")
class InvoiceIdInput:
    id: strawberry.ID = strawberry.field(description="The global ID of the invoice.")


@strawberry.input(description="Which invoice to void, and what to note on it.")
class VoidInvoiceInput:
    id: strawberry.ID = strawberry.field(description="The global ID of the invoice.")
    metadata: list[MetadataEntryInput] | None = strawberry.field(
        default=None, description="Merged into the invoice's metadata (e.g. a reason)."
    )


@strawberry.input(description="A payment status to record by hand (money received elsewhere).")
class UpdateInvoicePaymentStatusInput:
    id: strawberry.ID = strawberry.field(description="The global ID of the invoice.")
    payment_status: SettablePaymentStatus = strawberry.field(
        description="The new status: UNPAID (with `amount` for a partial payment), PAID, "
        "OVERPAID or FAILED; the provider decides which transitions it allows."
    )
    amount: Decimal | None = strawberry.field(
        default=None, description="With UNPAID: the amount paid so far; 0 or more."
    )


@strawberry.input(description="Which invoice to recalculate.")
class RecalculateInvoiceInput:
    id: strawberry.ID = strawberry.field(description="The global ID of the invoice.")
    finalize: bool = strawberry.field(
        default=True, description="Finalize a recalculated draft afterwards (FlexPrice)."
    )


@strawberry.input(description="What to preview: the next invoice of a subscription.")
class InvoicePreviewInput:
    provider: str = strawberry.field(description="The provider of the subscription.")
    subscription_id: str = strawberry.field(description="The provider's id of the subscription.")
    period_start: dt.datetime | None = strawberry.field(
        default=None, description="Start of the period to preview; the current one if null."
    )
    period_end: dt.datetime | None = strawberry.field(
        default=None, description="End of the period to preview."
    )


# -- to the domain, and back ------------------------------------------------------------------


def entries(metadata: list[MetadataEntryInput] | None) -> list[dict[str, str]] | None:
    """Metadata entries as the domain's rules take them (a list: the rules check the keys are
    unique, and name an entry by its place)."""
    return None if metadata is None else [{"key": e.key, "value": e.value} for e in metadata]


def draft_values(input: CreateInvoiceInput, customer_id: str) -> dict[str, Any]:
    """`input` as the values `providers.validation.invoice_draft` takes."""
    page = input.payment_page
    seconds = None if page is None else page.duration_seconds
    return {
        "customer_id": customer_id,
        "currency": input.currency,
        "line_items": [
            {
                "description": line.description,
                "quantity": line.quantity,
                "unit_amount": line.unit_amount,
            }
            for line in input.line_items
        ],
        "due_at": input.due_at,
        "description": input.description,
        "metadata": entries(input.metadata),
        "payment_page": None
        if page is None
        else {
            "payer_email": page.payer_email,
            "success_redirect_url": page.success_redirect_url,
            "failure_redirect_url": page.failure_redirect_url,
            "payment_methods": page.payment_methods,
            "duration": None if seconds is None else dt.timedelta(seconds=seconds),
        },
    }


#: Domain fields whose input field is not their name in camelCase, by mutation input. The
#: rest are: `line_items` is `lineItems`, `unit_amount` is `unitAmount`.
RENAMED: Mapping[str, Mapping[tuple[str, ...], tuple[str, ...]]] = {
    "CreateInvoiceInput": {("payment_page", "duration"): ("paymentPage", "durationSeconds")},
    "UpdateInvoicePaymentStatusInput": {("status",): ("paymentStatus",)},
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def input_path(input_type: str, domain: Sequence[str] | str) -> list[str]:
    """The path of the input field (`["input", "lineItems", "2", "unitAmount"]`) that a domain
    field (`("line_items", "2", "unit_amount")`, or dotted) of `input_type`'s value comes
    from."""
    parts = tuple(domain.split(".") if isinstance(domain, str) else domain)
    renamed = RENAMED.get(input_type, {})
    for size in range(len(parts), 0, -1):
        if (named := renamed.get(parts[:size])) is not None:
            return ["input", *named, *(_camel(part) for part in parts[size:])]
    return ["input", *(_camel(part) for part in parts)]
