"""The seeded data: volume, coverage, determinism, tie-free times, consistent amounts."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

from sandboxes.xendit import XenditSandbox
from sandboxes.xendit.seed import populate
from sandboxes.xendit.store import MASTER_USER_ID, SUB_ACCOUNTS

from .xendit_sandbox_helpers import NOW, FakeClock, master_invoices


def test_volume_per_account(sandbox: XenditSandbox) -> None:
    owners = Counter(i.user_id for i in sandbox.invoices.values())
    customers = Counter(c.user_id for c in sandbox.customers.values())
    assert owners[MASTER_USER_ID] >= 400
    assert customers[MASTER_USER_ID] >= 40
    for account in SUB_ACCOUNTS:
        assert owners[account.user_id] > 0
        assert customers[account.user_id] > 0


def test_every_status_in_every_main_currency(sandbox: XenditSandbox) -> None:
    pairs = {(i.currency, i.status) for i in master_invoices(sandbox)}
    for code in ("IDR", "PHP", "USD"):
        for status in ("PENDING", "PAID", "SETTLED", "EXPIRED"):
            assert (code, status) in pairs


def test_items_fees_and_embedded_customers(sandbox: XenditSandbox) -> None:
    invoices = master_invoices(sandbox)
    assert all(i.items for i in invoices)
    assert any(i.fees for i in invoices)
    assert any(i.customer is None for i in invoices)
    with_customer = [i for i in invoices if i.customer is not None]
    assert len(with_customer) > len(invoices) / 2
    for inv in with_customer:
        assert inv.customer is not None
        assert inv.customer.id in sandbox.customers
        assert sandbox.customers[inv.customer.id].user_id == inv.user_id
    for inv in invoices:
        total = sum((it.price * it.quantity for it in inv.items or []), Decimal(0))
        total += sum((fee.value for fee in inv.fees or []), Decimal(0))
        assert inv.amount == total


def test_external_ids_look_like_orders_and_some_repeat(sandbox: XenditSandbox) -> None:
    ids = [i.external_id for i in master_invoices(sandbox)]
    assert any(e.startswith("order-") for e in ids)
    assert any(e.startswith("INV/") for e in ids)
    assert len(set(ids)) < len(ids)


def test_created_is_strictly_increasing_and_in_the_past(sandbox: XenditSandbox) -> None:
    times = sorted(i.created for i in sandbox.invoices.values())
    assert len(set(times)) == len(times)
    assert times[-1] < NOW
    assert all(t.microsecond % 1000 == 0 for t in times)


def test_status_times_are_consistent(sandbox: XenditSandbox) -> None:
    for inv in sandbox.invoices.values():
        assert inv.updated >= inv.created
        if inv.status == "PENDING":
            assert inv.expiry_date > NOW
            assert inv.expiry_date <= inv.created + timedelta(days=365)
        if inv.status in ("PAID", "SETTLED"):
            assert inv.paid_at is not None
            assert inv.created < inv.paid_at < NOW
            assert inv.payment_channel in inv.payment_methods
        if inv.status == "SETTLED":
            assert inv.settled_at is not None
            assert inv.paid_at is not None
            assert inv.settled_at > inv.paid_at
        if inv.status == "EXPIRED":
            assert inv.expired_at is not None
            assert inv.created < inv.expired_at < NOW


def test_deterministic_per_seed() -> None:
    one = XenditSandbox(seed=3, clock=FakeClock(), populate=populate)
    two = XenditSandbox(seed=3, clock=FakeClock(), populate=populate)
    other = XenditSandbox(seed=4, clock=FakeClock(), populate=populate)
    assert list(one.invoices) == list(two.invoices)
    assert [i.amount for i in one.invoices.values()] == [i.amount for i in two.invoices.values()]
    assert list(one.customers) == list(two.customers)
    assert list(one.invoices) != list(other.invoices)
