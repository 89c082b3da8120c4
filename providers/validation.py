"""The domain's rules for what a client asks to create or change, before any provider sees it.

Each function takes plain values named as the domain model names them (`line_items`,
`unit_amount`, `payment_page`, `duration`, ...) and returns the domain model
(`InvoiceDraft`, `InvoiceUpdate`, ...) or raises `InvalidInput`, one `Violation` per broken rule,
each naming its domain field and the rule. These rules hold for every provider: amounts finite
and positive, currencies ISO 4217 with their minor units, quantities, lengths, plain text. What
one provider cannot store is its own `check_draft` (`providers.base.InvoiceProvider`).

Nothing here knows GraphQL: the gateway maps a violation's domain path to the input path the
client sent.
"""

from __future__ import annotations

import datetime as dt
import decimal
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from providers.currencies import CURRENCIES, MINOR_UNITS
from providers.errors import InvalidInput, Violation
from providers.models import (
    InvoiceDraft,
    InvoiceUpdate,
    LineItemDraft,
    PaymentPageOptions,
    PaymentStatus,
    PaymentStatusUpdate,
)

__all__ = [
    "MAX_AMOUNT_DECIMALS",
    "MAX_AMOUNT_DIGITS",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_LINE_ITEMS",
    "MAX_METADATA_ENTRIES",
    "MAX_PAYMENT_PAGE_DURATION",
    "idempotency_key",
    "invoice_draft",
    "invoice_update",
    "payment_status_update",
    "plain_text",
    "void_metadata",
]

RulesT = TypeVar("RulesT", bound=BaseModel)

MAX_LINE_ITEMS = 100
MAX_METADATA_ENTRIES = 50
MAX_DESCRIPTION_LENGTH = 1000
#: How long a hosted payment page may accept payment: one year.
MAX_PAYMENT_PAGE_DURATION = dt.timedelta(days=365)
#: Every quantity and amount: at most this many digits, this many of them after the point (so
#: at most 18 before it). A bound for every provider, far above any invoice, that keeps the
#: exact arithmetic on them small; a provider that stores less says so in its `check_draft`.
MAX_AMOUNT_DIGITS = 30
MAX_AMOUNT_DECIMALS = 12

# quantize() must only round away zeros here; Inexact is what the comparison is looking for.
_EXACT_QUANTIZE = decimal.Context(prec=100)

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


Text = Annotated[str, Field(min_length=1, max_length=500)]
Amount = Annotated[
    Decimal,
    Field(allow_inf_nan=False, max_digits=MAX_AMOUNT_DIGITS, decimal_places=MAX_AMOUNT_DECIMALS),
]
HttpUrl = Annotated[str, Field(max_length=2000, pattern=r"^https?://[^\s/]+\S*$")]
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class _MetadataEntry(_Rules):
    key: Annotated[str, Field(min_length=1, max_length=40)]
    value: Annotated[str, Field(max_length=500)]


def _unique_keys(entries: list[_MetadataEntry] | None) -> list[_MetadataEntry] | None:
    if entries is not None:
        if len(entries) > MAX_METADATA_ENTRIES:
            raise ValueError(f"at most {MAX_METADATA_ENTRIES} entries")
        keys = [e.key for e in entries]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"keys must be unique; repeated: {', '.join(duplicates)}")
    return entries


def _as_dict(entries: list[_MetadataEntry] | None) -> dict[str, str] | None:
    return None if entries is None else {e.key: e.value for e in entries}


class _LineItem(_Rules):
    description: Text
    quantity: Annotated[Amount, Field(gt=0)]
    unit_amount: Annotated[Amount, Field(ge=0)]


class _PaymentPage(_Rules):
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
    duration: dt.timedelta | None = None

    @field_validator("duration")
    @classmethod
    def _within_a_year(cls, value: dt.timedelta | None) -> dt.timedelta | None:
        if value is not None and not dt.timedelta(seconds=1) <= value <= MAX_PAYMENT_PAGE_DURATION:
            raise ValueError(
                "must be from 1 second to one year "
                f"({int(MAX_PAYMENT_PAGE_DURATION.total_seconds())} seconds)"
            )
        return value


class _Draft(_Rules):
    currency: str
    line_items: Annotated[list[_LineItem], Field(min_length=1, max_length=MAX_LINE_ITEMS)]
    due_at: dt.datetime | None = None
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION_LENGTH)] | None = None
    metadata: list[_MetadataEntry] | None = None
    payment_page: _PaymentPage | None = None

    @field_validator("currency")
    @classmethod
    def _iso_4217(cls, value: str) -> str:
        code = value.upper()
        if code not in CURRENCIES:
            raise ValueError(f"must be an ISO 4217 currency code such as USD, not {value!r}")
        return code

    _metadata = field_validator("metadata")(_unique_keys)


class _Update(_Rules):
    due_at: dt.datetime | None = None
    metadata: list[_MetadataEntry] | None = None
    pdf_url: Annotated[str, Field(max_length=2000, pattern=r"^https://[^\s/]+")] | None = None

    _metadata = field_validator("metadata")(_unique_keys)


class _Void(_Rules):
    metadata: list[_MetadataEntry] | None = None

    _metadata = field_validator("metadata")(_unique_keys)


class _PaymentStatus(_Rules):
    status: PaymentStatus
    amount: Annotated[Amount, Field(ge=0)] | None = None

    @field_validator("amount")
    @classmethod
    def _only_partial(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        if value is not None and info.data.get("status") is not PaymentStatus.UNPAID:
            raise ValueError(
                "goes only with the payment status UNPAID (the amount paid so far); PAID "
                "records the full amount due"
            )
        return value


class _Key(_Rules):
    idempotency_key: Annotated[str, Field(min_length=1, max_length=255)]


def _checked(rules: type[RulesT], values: Mapping[str, Any]) -> RulesT:
    try:
        return rules.model_validate(values)
    except ValidationError as exc:
        raise InvalidInput(
            "",
            (
                Violation(
                    tuple(str(part) for part in item["loc"]),
                    str(item["msg"]).removeprefix("Value error, "),
                )
                for item in exc.errors(include_url=False, include_input=False)
            ),
        ) from exc


def _minor_units(currency: str, lines: Sequence[LineItemDraft]) -> list[Violation]:
    """Lines whose amount is finer than the currency's minor unit (e.g. $1.234): no provider
    can charge it exactly."""
    digits = MINOR_UNITS[currency]
    unit = Decimal(1).scaleb(-digits)
    problems = []
    for n, line in enumerate(lines):
        amount = line.amount
        if amount != amount.quantize(unit, context=_EXACT_QUANTIZE):
            problems.append(
                Violation(
                    ("line_items", str(n)),
                    f"quantity x unit amount = {format(amount, 'f')} has more decimals than "
                    f"{currency} allows ({digits}); adjust the quantity or the unit amount so "
                    "the line is a whole number of minor units",
                )
            )
    return problems


def invoice_draft(values: Mapping[str, Any]) -> InvoiceDraft:
    """An `InvoiceDraft` from `customer_id` (the provider's id, kept as is), `currency`,
    `line_items` (each `description`, `quantity`, `unit_amount`), `due_at`, `description`,
    `metadata` (a list of `key`/`value` entries, keys unique) and `payment_page`
    (`payer_email`, `success_redirect_url`, `failure_redirect_url`, `payment_methods`,
    `duration` as a timedelta). Text is stripped and in NFC; the currency upper-case. Raises
    `InvalidInput`: every rule broken, or else every line that is not a whole number of the
    currency's minor units."""
    fields = dict(values)
    # The provider's own id, as the client's global ID carried it: no text to normalise.
    customer_id = fields.pop("customer_id")
    rules = _checked(_Draft, fields)
    page = rules.payment_page
    draft = InvoiceDraft(
        customer_id=customer_id,
        currency=rules.currency,
        line_items=tuple(
            LineItemDraft(
                description=line.description,
                quantity=line.quantity,
                unit_amount=line.unit_amount,
            )
            for line in rules.line_items
        ),
        due_at=rules.due_at,
        description=rules.description,
        metadata=_as_dict(rules.metadata) or {},
        payment_page=None
        if page is None
        else PaymentPageOptions(
            payer_email=page.payer_email,
            success_redirect_url=page.success_redirect_url,
            failure_redirect_url=page.failure_redirect_url,
            payment_methods=tuple(page.payment_methods or ()),
            duration=page.duration,
        ),
    )
    if problems := _minor_units(draft.currency, draft.line_items):
        raise InvalidInput("", problems)
    return draft


def invoice_update(values: Mapping[str, Any]) -> InvoiceUpdate:
    """An `InvoiceUpdate` from `due_at`, `metadata` (entries) and `pdf_url` (https)."""
    rules = _checked(_Update, values)
    return InvoiceUpdate(
        due_at=rules.due_at, metadata=_as_dict(rules.metadata), pdf_url=rules.pdf_url
    )


def void_metadata(entries: Sequence[Mapping[str, str]] | None) -> dict[str, str] | None:
    """The metadata to note on a voided invoice, from its entries (field `metadata`)."""
    return _as_dict(_checked(_Void, {"metadata": entries}).metadata)


def payment_status_update(values: Mapping[str, Any]) -> PaymentStatusUpdate:
    """A `PaymentStatusUpdate` from `status` and `amount` (only with UNPAID; 0 or more)."""
    rules = _checked(_PaymentStatus, values)
    return PaymentStatusUpdate(status=rules.status, amount=rules.amount)


def idempotency_key(value: str) -> str:
    """A create's idempotency key: plain text of 1 to 255 characters, stripped."""
    return _checked(_Key, {"idempotency_key": value}).idempotency_key
