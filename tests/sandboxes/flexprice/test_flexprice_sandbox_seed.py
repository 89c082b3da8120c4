"""The seed: coverage, consistency and determinism."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from sandboxes.flexprice import FlexPriceSandbox, create_sandbox_app
from sandboxes.flexprice.currency import round_amount
from sandboxes.flexprice.lifecycle import check_invariants
from sandboxes.flexprice.records import INVOICE_STATUSES, PAYMENT_STATUSES

from .flexprice_sandbox_helpers import NOW, FakeClock

ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def test_counts(sandbox: FlexPriceSandbox) -> None:
    assert len(sandbox.customers) >= 40
    assert len(sandbox.invoices) >= 400
    assert len(sandbox.subscriptions) >= 3


def test_every_status_type_and_at_least_three_currencies(sandbox: FlexPriceSandbox) -> None:
    invoices = list(sandbox.invoices.values())
    assert {i.invoice_status for i in invoices} == set(INVOICE_STATUSES)
    assert {i.payment_status for i in invoices} == set(PAYMENT_STATUSES)
    assert {i.invoice_type for i in invoices} == {"ONE_OFF", "SUBSCRIPTION", "CREDIT"}
    assert {"usd", "eur", "inr"} <= {i.currency for i in invoices}
    finalized_payments = {i.payment_status for i in invoices if i.invoice_status == "FINALIZED"}
    assert finalized_payments == set(PAYMENT_STATUSES)


def test_every_invoice_is_consistent(sandbox: FlexPriceSandbox) -> None:
    for inv in sandbox.invoices.values():
        check_invariants(inv)
        assert sum((li.amount for li in inv.line_items), Decimal(0)) == inv.amount_due
        assert inv.subtotal == inv.total == inv.amount_due
        assert all(li.currency == inv.currency for li in inv.line_items)
        for amount in (inv.amount_due, inv.amount_paid, *(li.amount for li in inv.line_items)):
            assert amount == round_amount(amount, inv.currency)
        if inv.invoice_type == "SUBSCRIPTION":
            assert inv.subscription_id in sandbox.subscriptions
            assert inv.billing_period == "MONTHLY"
            assert inv.period_start is not None
            assert inv.period_end is not None
            assert inv.period_start < inv.period_end
        if inv.invoice_status == "SKIPPED":
            assert inv.amount_due == 0
            assert inv.invoice_number is None
        if inv.payment_status == "OVERPAID":
            assert inv.amount_paid > inv.amount_due


def test_jpy_amounts_have_no_minor_unit(sandbox: FlexPriceSandbox) -> None:
    yen = [i for i in sandbox.invoices.values() if i.currency == "jpy" and i.amount_due]
    assert yen
    assert all(i.amount_due == i.amount_due.to_integral_value() for i in yen)


def test_invoice_numbers_only_on_finalized_ones(sandbox: FlexPriceSandbox) -> None:
    numbers = []
    for inv in sandbox.invoices.values():
        if inv.invoice_status == "FINALIZED":
            assert inv.invoice_number is not None
            assert re.fullmatch(r"INV-\d{6}-\d{5}", inv.invoice_number)
            assert inv.finalized_at is not None
            assert inv.invoice_number[4:10] == inv.finalized_at.strftime("%Y%m")
        if inv.invoice_status in ("DRAFT", "SKIPPED"):
            assert inv.invoice_number is None
        if inv.invoice_number:
            numbers.append(inv.invoice_number)
    assert len(numbers) == len(set(numbers))


def test_due_dates_lie_in_the_past_and_the_future(sandbox: FlexPriceSandbox) -> None:
    due = [i.due_date for i in sandbox.invoices.values() if i.due_date is not None]
    assert any(d < NOW for d in due)
    assert any(d > NOW for d in due)


def test_ids_have_the_flexprice_prefixes(sandbox: FlexPriceSandbox) -> None:
    for inv in sandbox.invoices.values():
        assert inv.id.startswith("inv_")
        assert ID.match(inv.id.removeprefix("inv_"))
        for line in inv.line_items:
            assert ID.match(line.id.removeprefix("inv_line_"))
    assert all(ID.match(c.removeprefix("cust_")) for c in sandbox.customers)
    assert all(ID.match(s.removeprefix("subs_")) for s in sandbox.subscriptions)


def test_created_at_is_a_strict_total_order(sandbox: FlexPriceSandbox) -> None:
    for records in (sandbox.invoices.values(), sandbox.customers.values()):
        stamps = [r.created_at for r in records]
        assert len(stamps) == len(set(stamps))
        assert all(s < NOW for s in stamps)


def test_customers_have_contact_data_metadata_and_wallets(sandbox: FlexPriceSandbox) -> None:
    customers = list(sandbox.customers.values())
    assert sum(1 for c in customers if c.email) >= 40
    assert all(c.address_country and c.address_city for c in customers)
    assert any(c.metadata for c in customers)
    assert len({c.external_id for c in customers}) == len(customers)
    assert sum(1 for c in customers if c.id in sandbox.wallets) >= 30


def test_same_seed_same_shape_whatever_the_clock() -> None:
    first = create_sandbox_app(seed=7, clock=FakeClock()).state.sandbox
    later = FakeClock(datetime(2031, 1, 2, tzinfo=UTC))
    second = create_sandbox_app(seed=7, clock=later).state.sandbox
    assert list(first.invoices) == list(second.invoices)
    assert list(first.customers) == list(second.customers)
    for inv_id, inv in first.invoices.items():
        twin = second.invoices[inv_id]
        assert (inv.amount_due, inv.invoice_status, inv.payment_status, inv.currency) == (
            twin.amount_due,
            twin.invoice_status,
            twin.payment_status,
            twin.currency,
        )
        assert [li.id for li in inv.line_items] == [li.id for li in twin.line_items]


def test_another_seed_gives_other_data() -> None:
    first = create_sandbox_app(seed=1, clock=FakeClock()).state.sandbox
    second = create_sandbox_app(seed=2, clock=FakeClock()).state.sandbox
    assert set(first.invoices).isdisjoint(second.invoices)


def test_reset_restores_the_seed_in_place(sandbox: FlexPriceSandbox) -> None:
    before = {i: inv.payment_status for i, inv in sandbox.invoices.items()}
    some = next(iter(sandbox.invoices.values()))
    some.payment_status = "FAILED"
    sandbox.customers.clear()
    sandbox.reset()
    assert {i: inv.payment_status for i, inv in sandbox.invoices.items()} == before
    assert len(sandbox.customers) >= 40
