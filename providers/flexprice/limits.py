"""What FlexPrice can store of a draft, checked before any call (`FlexPriceProvider.check_draft`).

FlexPrice keeps every quantity and amount as a Postgres `numeric(20,8)`: at most 12 digits
before the point and 8 after. A line's quantity, unit amount and amount (quantity x unit
amount), and the invoice's total, must each fit, or FlexPrice refuses the create (or, for
decimals, rounds them). FlexPrice has no hosted payment page.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Final

from providers.errors import InvalidInput, ProviderRejected, Violation
from providers.flexprice.mapping import PROVIDER
from providers.models import InvoiceDraft

__all__ = ["MAX_AMOUNT", "MAX_DECIMALS", "check_amount", "check_draft"]

#: `numeric(20,8)`: amounts below 10^12, at most 8 decimal places.
MAX_AMOUNT: Final = Decimal(10) ** 12
MAX_DECIMALS: Final = 8
_PLACES: Final = Decimal(1).scaleb(-MAX_DECIMALS)
# Room for any value the domain allows (`providers.rules`), and their products.
_WIDE: Final = decimal.Context(prec=100)


def _stored(value: Decimal, what: str) -> str | None:
    """Why FlexPrice cannot store `value` exactly, or None when it can."""
    if abs(value) >= MAX_AMOUNT:
        return (
            f"{what} = {format(value, 'f')} must be less than {MAX_AMOUNT:,} (the most "
            "flexprice stores)"
        )
    if value != value.quantize(_PLACES, context=_WIDE):
        return (
            f"flexprice keeps at most {MAX_DECIMALS} decimal places, and {what} = "
            f"{format(value, 'f')} has more"
        )
    return None


def check_draft(draft: InvoiceDraft) -> None:
    """Raise `ProviderRejected` (field `payment_page`) for payment page options, else
    `InvalidInput` naming every line value and the total FlexPrice cannot store."""
    if draft.payment_page is not None:
        raise ProviderRejected(
            PROVIDER,
            "flexprice has no hosted payment page: leave the payment page options out for "
            "its customers",
            field="payment_page",
        )
    problems: list[Violation] = []
    for n, line in enumerate(draft.line_items):
        where = ("line_items", str(n))
        values = [
            Violation((*where, name), why)
            for name, value in (("quantity", line.quantity), ("unit_amount", line.unit_amount))
            if (why := _stored(value, name.replace("_", " "))) is not None
        ]
        if not values and (why := _stored(line.amount, "quantity x unit amount")) is not None:
            values.append(Violation(where, why))
        problems.extend(values)
    if not problems and (why := _stored(draft.subtotal, "the total")) is not None:
        problems.append(Violation(("line_items",), why))
    if problems:
        raise InvalidInput(PROVIDER, problems)


def check_amount(value: Decimal | None, *, field: str) -> None:
    """Raise `InvalidInput` naming `field` when FlexPrice cannot store `value`."""
    if value is not None and (why := _stored(value, "the amount")) is not None:
        raise InvalidInput(PROVIDER, [Violation((field,), why)])
