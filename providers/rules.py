"""The domain's rules as pydantic models: each field a client may send with its type, bounds
and text rule (plain text in NFC, ISO 4217 currencies, positive and bounded amounts, unique
metadata keys, a payment page's options). `providers.validation` checks values against them and
builds the domain model; these know neither GraphQL nor any provider.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from providers.currencies import CURRENCIES
from providers.models import PaymentStatus

__all__ = [
    "MAX_AMOUNT_DECIMALS",
    "MAX_AMOUNT_DIGITS",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_LINE_ITEMS",
    "MAX_METADATA_ENTRIES",
    "MAX_PAYMENT_PAGE_DURATION",
    "DraftRules",
    "KeyRules",
    "LineItemRules",
    "MetadataEntry",
    "PaymentPageRules",
    "PaymentStatusRules",
    "Rules",
    "UpdateRules",
    "VoidRules",
    "plain_text",
    "unique_keys",
]

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


class Rules(BaseModel):
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


class MetadataEntry(Rules):
    key: Annotated[str, Field(min_length=1, max_length=40)]
    value: Annotated[str, Field(max_length=500)]


def unique_keys(entries: list[MetadataEntry] | None) -> list[MetadataEntry] | None:
    if entries is not None:
        if len(entries) > MAX_METADATA_ENTRIES:
            raise ValueError(f"at most {MAX_METADATA_ENTRIES} entries")
        keys = [e.key for e in entries]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"keys must be unique; repeated: {', '.join(duplicates)}")
    return entries


class LineItemRules(Rules):
    description: Text
    quantity: Annotated[Amount, Field(gt=0)]
    unit_amount: Annotated[Amount, Field(ge=0)]


class PaymentPageRules(Rules):
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


class DraftRules(Rules):
    currency: str
    line_items: Annotated[list[LineItemRules], Field(min_length=1, max_length=MAX_LINE_ITEMS)]
    due_at: dt.datetime | None = None
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION_LENGTH)] | None = None
    metadata: list[MetadataEntry] | None = None
    payment_page: PaymentPageRules | None = None

    @field_validator("currency")
    @classmethod
    def _iso_4217(cls, value: str) -> str:
        code = value.upper()
        if code not in CURRENCIES:
            raise ValueError(f"must be an ISO 4217 currency code such as USD, not {value!r}")
        return code

    _metadata = field_validator("metadata")(unique_keys)


class UpdateRules(Rules):
    due_at: dt.datetime | None = None
    metadata: list[MetadataEntry] | None = None
    pdf_url: Annotated[str, Field(max_length=2000, pattern=r"^https://[^\s/]+")] | None = None

    _metadata = field_validator("metadata")(unique_keys)


class VoidRules(Rules):
    metadata: list[MetadataEntry] | None = None

    _metadata = field_validator("metadata")(unique_keys)


class PaymentStatusRules(Rules):
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


class KeyRules(Rules):
    idempotency_key: Annotated[str, Field(min_length=1, max_length=255)]
