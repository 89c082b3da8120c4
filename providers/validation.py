"""The domain's rules for what a client asks to create or change, before any provider sees it.

Each function takes plain values named as the domain model names them (`line_items`,
`unit_amount`, `payment_page`, `duration`, ...) and returns the domain model
(`InvoiceDraft`, `InvoiceUpdate`, ...) or raises `InvalidInput`, one `Violation` per broken rule,
each naming its domain field and the rule. These rules hold for every provider: amounts finite
and positive, currencies ISO 4217 with their minor units, quantities, lengths, plain text. What
one provider cannot store is its own `check_draft` (`providers.base.InvoiceProvider`). The rules
themselves are the models of `providers.rules`; here values are checked against them and the
domain model is built.

Nothing here knows GraphQL: the gateway maps a violation's domain path to the input path the
client sent.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from providers.currencies import MINOR_UNITS
from providers.errors import InvalidInput, Violation
from providers.models import (
    InvoiceDraft,
    InvoiceUpdate,
    LineItemDraft,
    PaymentPageOptions,
    PaymentStatusUpdate,
)
from providers.rules import (
    DraftRules,
    KeyRules,
    MetadataEntry,
    PaymentStatusRules,
    UpdateRules,
    VoidRules,
)

__all__ = [
    "idempotency_key",
    "invoice_draft",
    "invoice_update",
    "payment_status_update",
    "void_metadata",
]

RulesT = TypeVar("RulesT", bound=BaseModel)

# quantize() must only round away zeros here; Inexact is what the comparison is looking for.
_EXACT_QUANTIZE = decimal.Context(prec=100)


def _as_dict(entries: list[MetadataEntry] | None) -> dict[str, str] | None:
    return None if entries is None else {e.key: e.value for e in entries}


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
    rules = _checked(DraftRules, fields)
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
    rules = _checked(UpdateRules, values)
    return InvoiceUpdate(
        due_at=rules.due_at, metadata=_as_dict(rules.metadata), pdf_url=rules.pdf_url
    )


def void_metadata(entries: Sequence[Mapping[str, str]] | None) -> dict[str, str] | None:
    """The metadata to note on a voided invoice, from its entries (field `metadata`)."""
    return _as_dict(_checked(VoidRules, {"metadata": entries}).metadata)


def payment_status_update(values: Mapping[str, Any]) -> PaymentStatusUpdate:
    """A `PaymentStatusUpdate` from `status` and `amount` (only with UNPAID; 0 or more)."""
    rules = _checked(PaymentStatusRules, values)
    return PaymentStatusUpdate(status=rules.status, amount=rules.amount)


def idempotency_key(value: str) -> str:
    """A create's idempotency key: plain text of 1 to 255 characters, stripped."""
    return _checked(KeyRules, {"idempotency_key": value}).idempotency_key
