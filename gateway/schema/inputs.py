"""Mutation inputs, and the rules their values must follow before any provider sees them.

The rules live in pydantic models; a violation becomes a user error whose `field` is the path of
the offending input field and whose message names the rule.
"""

from __future__ import annotations

import datetime as dt
import decimal
import unicodedata
from decimal import Decimal
from typing import Annotated

import strawberry
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from gateway.schema.enums import PaymentStatus
from providers.currencies import CURRENCIES, MINOR_UNITS
from providers.models import EXACT

__all__ = [
    "CreateInvoiceInput",
    "CreateInvoiceRules",
    "InvoiceIdInput",
    "InvoicePreviewInput",
    "LineItemInput",
    "MetadataEntryInput",
    "PaymentPageInput",
    "RecalculateInvoiceInput",
    "UpdateInvoiceInput",
    "UpdateInvoicePaymentStatusInput",
    "VoidInvoiceInput",
    "camel_path",
]

MAX_LINE_ITEMS = 100
# quantize() must only round away zeros here; Inexact is what the comparison is looking for.
EXACT_QUANTIZE = decimal.Context(prec=100)
MAX_METADATA_ENTRIES = 50


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
    payment_status: PaymentStatus = strawberry.field(
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


# -- rules ------------------------------------------------------------------------------------

Text = Annotated[str, Field(min_length=1, max_length=500)]
Amount = Annotated[Decimal, Field(allow_inf_nan=False)]


#: Kept although invisible: tab and line breaks, and the joiners that scripts (ZWNJ in Persian)
#: and emoji sequences (ZWJ) need.
_KEPT = frozenset("\t\n\r\u200c\u200d")


def plain_text(value: str) -> str:
    """`value` in NFC; ValueError naming the first control character (Cc), invisible format
    character (Cf: bidi overrides, zero-width space, BOM, ...), surrogate or noncharacter."""
    for char in value:
        code = ord(char)
        noncharacter = 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE
        if noncharacter or (unicodedata.category(char) in ("Cc", "Cf", "Cs") and char not in _KEPT):
            name = unicodedata.name(char, "a control character")
            raise ValueError(f"holds U+{code:04X} ({name}), which no invoice shows: remove it")
    return unicodedata.normalize("NFC", value)


class _Rules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _plain_text(cls, value: object) -> object:
        # Every text a provider stores or shows: no hidden characters, and one spelling of each
        # accented letter, so equal-looking keys and descriptions are equal. Before the other
        # rules: NFC can lengthen a text (U+FB2C is three characters in NFC), and the length
        # limits are about what the provider stores.
        if isinstance(value, str):
            return plain_text(value)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return [plain_text(item) for item in value]
        return value


class MetadataRules(_Rules):
    key: Annotated[str, Field(min_length=1, max_length=40)]
    value: Annotated[str, Field(max_length=500)]


def _unique_keys(entries: list[MetadataRules] | None) -> list[MetadataRules] | None:
    if entries is not None:
        if len(entries) > MAX_METADATA_ENTRIES:
            raise ValueError(f"at most {MAX_METADATA_ENTRIES} entries")
        keys = [e.key for e in entries]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"keys must be unique; repeated: {', '.join(duplicates)}")
    return entries


# What providers can store: FlexPrice keeps amounts as numeric(20,8), 12 digits before the point.
MAX_AMOUNT = Decimal(10) ** 12
Stored = Annotated[Amount, Field(max_digits=20, decimal_places=8)]


class LineItemRules(_Rules):
    description: Text
    quantity: Annotated[Stored, Field(gt=0)]
    unit_amount: Annotated[Stored, Field(ge=0)]


HttpUrl = Annotated[str, Field(max_length=2000, pattern=r"^https?://[^\s/]+\S*$")]
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class PaymentPageRules(_Rules):
    payer_email: Email | None = None
    success_redirect_url: HttpUrl | None = None
    failure_redirect_url: HttpUrl | None = None
    payment_methods: (
        Annotated[
            list[Annotated[str, Field(pattern=r"^[A-Z0-9_]{1,64}$")]],
            Field(min_length=1, max_length=50),
        ]
        | None
    ) = None
    duration_seconds: Annotated[int, Field(ge=1, le=31_536_000)] | None = None


class CreateInvoiceRules(_Rules):
    currency: str
    line_items: Annotated[list[LineItemRules], Field(min_length=1, max_length=MAX_LINE_ITEMS)]
    due_at: dt.datetime | None = None
    description: Annotated[str, Field(max_length=1000)] | None = None
    metadata: list[MetadataRules] | None = None
    idempotency_key: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    payment_page: PaymentPageRules | None = None

    @field_validator("currency")
    @classmethod
    def _iso_4217(cls, value: str) -> str:
        code = value.upper()
        if code not in CURRENCIES:
            raise ValueError(f"must be an ISO 4217 currency code such as USD, not {value!r}")
        return code

    _metadata = field_validator("metadata")(_unique_keys)

    def precision_problems(self) -> list[tuple[list[str], str]]:
        """Lines whose amount is finer than the currency's minor unit (e.g. $1.234): no
        provider can charge it exactly, and FlexPrice would round it."""
        digits = MINOR_UNITS[self.currency]
        unit = Decimal(1).scaleb(-digits)
        problems = []
        subtotal = Decimal(0)
        for n, line in enumerate(self.line_items):
            amount = EXACT.multiply(line.quantity, line.unit_amount)
            subtotal = EXACT.add(subtotal, amount)
            if amount >= MAX_AMOUNT:
                problems.append(
                    (
                        ["input", "lineItems", str(n)],
                        f"lineItems.{n}: quantity x unitAmount = {format(amount, 'f')} must be "
                        f"less than {MAX_AMOUNT:,}",
                    )
                )
            elif amount != amount.quantize(unit, context=EXACT_QUANTIZE):
                path = ["input", "lineItems", str(n)]
                problems.append(
                    (
                        path,
                        f"lineItems.{n}: quantity x unitAmount = {format(amount, 'f')} has more "
                        f"decimals than {self.currency} allows ({digits}); adjust the quantity or "
                        "the unit amount so the line is a whole number of minor units",
                    )
                )
        if not problems and subtotal >= MAX_AMOUNT:
            problems.append(
                (["input", "lineItems"], f"lineItems: the total must be less than {MAX_AMOUNT:,}")
            )
        return problems


class UpdateInvoiceRules(_Rules):
    due_at: dt.datetime | None = None
    metadata: list[MetadataRules] | None = None
    pdf_url: Annotated[str, Field(max_length=2000, pattern=r"^https://[^\s/]+")] | None = None

    _metadata = field_validator("metadata")(_unique_keys)


class VoidInvoiceRules(_Rules):
    metadata: list[MetadataRules] | None = None

    _metadata = field_validator("metadata")(_unique_keys)


class PaymentStatusRules(_Rules):
    payment_status: PaymentStatus
    amount: Annotated[Stored, Field(ge=0, lt=MAX_AMOUNT)] | None = None

    @field_validator("amount")
    @classmethod
    def _only_partial(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        if value is not None and info.data.get("payment_status") is not PaymentStatus.UNPAID:
            raise ValueError(
                "goes only with paymentStatus UNPAID (the amount paid so far); PAID records "
                "the full amount due"
            )
        return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def camel_path(error: ValidationError) -> list[tuple[list[str], str]]:
    """Each violation as (input path in the schema's camelCase, message naming the rule)."""
    out: list[tuple[list[str], str]] = []
    for item in error.errors(include_url=False, include_input=False):
        path = ["input", *(_camel(str(part)) for part in item["loc"])]
        message = str(item["msg"]).removeprefix("Value error, ")
        out.append((path, f"{'.'.join(path[1:])}: {message}"))
    return out
