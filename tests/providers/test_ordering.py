"""The one listing order: newest first, then provider, then id; each part's order kept."""

from __future__ import annotations

import datetime as dt

from providers.models import Invoice, InvoiceStatus, PaymentStatus
from providers.ordering import interleave_newest

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def inv(provider: str, id: str, minute: int) -> Invoice:
    return Invoice(
        provider=provider,
        id=id,
        status=InvoiceStatus.OPEN,
        payment_status=PaymentStatus.UNPAID,
        provider_status="x",
        currency="USD",
        created_at=T0 + dt.timedelta(minutes=minute),
    )


def test_merges_newest_first_and_breaks_ties_by_provider_then_id() -> None:
    a = [inv("b", "b2", 9), inv("b", "b1", 5), inv("b", "b0", 5)]
    b = [inv("a", "a1", 9), inv("a", "a0", 1)]
    order = [(parts, n, i) for parts in [[a, b]] for n, i in interleave_newest(parts, 10)]
    ids = [parts[n][i].id for parts, n, i in order]
    assert ids == ["a1", "b2", "b1", "b0", "a0"]


def test_stops_at_the_limit_and_on_empty_parts() -> None:
    a = [inv("a", f"a{n}", 10 - n) for n in range(5)]
    assert list(interleave_newest([a, []], 2)) == [(0, 0), (0, 1)]
    assert list(interleave_newest([[], []], 3)) == []
    assert list(interleave_newest([a], 0)) == []
