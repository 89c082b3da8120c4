"""The domain model every provider maps into and the gateway serves.

Money is `Decimal` plus an upper-case ISO 4217 code, never a float. Timestamps are timezone-aware
UTC. Every invoice and customer keeps where the provider's JSON object is in the body it came in
(`raw_source`): its bytes (`raw_json`) are cut out and decoded into `raw` only when asked for, so
nothing a provider returns is lost and nothing is paid for it until a client asks.

What a provider returns (`Money`, `Address`, `Customer`, `LineItem`, `Invoice`,
`CustomerInvoiceSummary`) is a `DomainRecord`: a frozen msgspec Struct, built without validation at
about a tenth of a pydantic model's cost and never tracked by the collector. Its types are the
mapping's guarantee, kept by construction in each `mapping.py` (money through `records.finite`,
times through `records.utc`) and checked by the provider tests. What the gateway builds from a
client's input (drafts, updates, filters, page requests) stays a frozen, validated pydantic model.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar, overload

import msgspec
from pydantic import BaseModel, ConfigDict, Field

from providers.records import Source, plain_json

__all__ = [
    "EXACT",
    "Address",
    "Customer",
    "CustomerInvoiceSummary",
    "Deferred",
    "DomainRecord",
    "Invoice",
    "InvoiceDraft",
    "InvoiceFilter",
    "InvoicePreviewRequest",
    "InvoiceStatus",
    "InvoiceUpdate",
    "Lazy",
    "LazyInvoices",
    "LineItem",
    "LineItemDraft",
    "Money",
    "Page",
    "PageRequest",
    "PaymentPageOptions",
    "PaymentStatus",
    "PaymentStatusUpdate",
    "RecalculationResult",
    "created_times",
    "ids_of",
    "pick",
]

T = TypeVar("T")

#: Arithmetic that is exact or fails: the default context rounds past 28 digits, silently.
EXACT = decimal.Context(prec=100, traps=[decimal.Inexact, decimal.InvalidOperation])


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InvoiceStatus(StrEnum):
    """Where an invoice is in its life, the same for every provider."""

    DRAFT = "DRAFT"
    OPEN = "OPEN"
    PAID = "PAID"
    VOID = "VOID"
    EXPIRED = "EXPIRED"
    UNKNOWN = "UNKNOWN"


class PaymentStatus(StrEnum):
    """Where the money of an invoice is, the same for every provider."""

    UNPAID = "UNPAID"
    PROCESSING = "PROCESSING"
    PAID = "PAID"
    OVERPAID = "OVERPAID"
    FAILED = "FAILED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"
    SETTLED = "SETTLED"
    UNKNOWN = "UNKNOWN"


class DomainRecord(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A domain record a provider builds (see the module docstring): frozen, not validated, and
    never in a reference cycle, so the collector does not track it."""


class Money(DomainRecord, frozen=True, kw_only=True):
    """An exact amount in major units (dollars, not cents) and its upper-case currency."""

    amount: Decimal
    currency: str


class Address(DomainRecord, frozen=True, kw_only=True):
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


class Customer(DomainRecord, frozen=True, kw_only=True):
    """A customer. `complete` is False for a partial copy embedded in another record (Xendit's
    invoice `customer`): fields the copy lacks are None there, not unknown-to-the-provider."""

    provider: str
    id: str
    external_id: str | None = None
    name: str | None = None
    email: str | None = None
    address: Address | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)
    created_at: dt.datetime | None = None
    #: Where the provider's JSON object of the customer is (`raw_json` cuts it out when read).
    raw_source: Source | None = None
    complete: bool = True

    @property
    def raw_json(self) -> bytes | None:
        """The provider's JSON object of this customer, its bytes as sent (None if unknown)."""
        source = self.raw_source
        return None if source is None else source.json_bytes()

    @property
    def raw(self) -> dict[str, Any]:
        """The provider's JSON for this customer as received, decoded when asked for."""
        return plain_json(self.raw_json)


class LineItem(DomainRecord, frozen=True, kw_only=True):
    id: str | None = None
    description: str | None = None
    quantity: Decimal
    unit_amount: Money | None = None
    amount: Money
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)


class Invoice(DomainRecord, frozen=True, kw_only=False):
    """An invoice. Its fields can be given by position, in this order (the mappings do: a
    Struct of this many fields costs ~2.5 us to build by keyword, ~0.15 us by position);
    everyone else names them."""

    provider: str
    id: str
    status: InvoiceStatus
    payment_status: PaymentStatus
    provider_status: str
    currency: str
    created_at: dt.datetime
    number: str | None = None
    subtotal: Money | None = None
    total: Money | None = None
    amount_due: Money | None = None
    amount_paid: Money | None = None
    amount_remaining: Money | None = None
    tax: Money | None = None
    discount: Money | None = None
    #: A tuple, or a `Deferred` made when first read (the providers' lines).
    line_items: Sequence[LineItem] = ()
    description: str | None = None
    customer_id: str | None = None
    customer: Customer | None = None
    issued_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    paid_at: dt.datetime | None = None
    voided_at: dt.datetime | None = None
    finalized_at: dt.datetime | None = None
    pdf_url: str | None = None
    payment_url: str | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)
    #: Where the provider's JSON object of the invoice is (`raw_json` cuts it out when read).
    raw_source: Source | None = None

    @property
    def raw_json(self) -> bytes | None:
        """The provider's JSON object of this invoice, its bytes as sent (None if unknown)."""
        source = self.raw_source
        return None if source is None else source.json_bytes()

    @property
    def raw(self) -> dict[str, Any]:
        """The provider's JSON for this invoice as received, decoded when asked for."""
        return plain_json(self.raw_json)


class CustomerInvoiceSummary(DomainRecord, frozen=True, kw_only=True):
    """One currency's totals of a customer's invoices."""

    currency: str
    total_invoice_count: int
    unpaid_invoice_count: int
    overdue_invoice_count: int
    total_revenue: Money
    total_unpaid: Money
    total_overdue: Money


class LineItemDraft(_Frozen):
    description: str
    quantity: Decimal
    unit_amount: Decimal

    @property
    def amount(self) -> Decimal:
        """quantity x unit_amount, exactly (raises `decimal.Inexact` rather than round)."""
        return EXACT.multiply(self.quantity, self.unit_amount)


class PaymentPageOptions(_Frozen):
    """How a provider's hosted payment page behaves (Xendit's invoice page, for one).

    A provider without such a page refuses a draft that carries these options.
    """

    payer_email: str | None = None
    success_redirect_url: str | None = None
    failure_redirect_url: str | None = None
    #: Payment methods to offer, in the provider's own names (e.g. Xendit's "BCA", "OVO").
    payment_methods: tuple[str, ...] = ()
    #: How long the page accepts payment; None means the provider's default.
    duration: dt.timedelta | None = None


class InvoiceDraft(_Frozen):
    """A one-off invoice to create; subtotal and total are the exact sum of the lines."""

    customer_id: str
    currency: str
    line_items: tuple[LineItemDraft, ...]
    due_at: dt.datetime | None = None
    description: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    payment_page: PaymentPageOptions | None = None

    @property
    def subtotal(self) -> Decimal:
        """The exact sum of the lines' amounts."""
        total = Decimal(0)
        for line in self.line_items:
            total = EXACT.add(total, line.amount)
        return total


class InvoiceUpdate(_Frozen):
    """Changes to an existing invoice; `None` leaves a field as it is."""

    due_at: dt.datetime | None = None
    metadata: dict[str, str] | None = None
    pdf_url: str | None = None


class PaymentStatusUpdate(_Frozen):
    status: PaymentStatus
    amount: Decimal | None = None


class InvoicePreviewRequest(_Frozen):
    subscription_id: str
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None


class RecalculationResult(_Frozen):
    """What a recalculation did: an invoice updated in place, or a replacement being built."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    invoice: Invoice | None = None
    message: str | None = None


class InvoiceFilter(_Frozen):
    """Conditions that are ANDed; an empty tuple means no condition on that field."""

    statuses: tuple[InvoiceStatus, ...] = ()
    payment_statuses: tuple[PaymentStatus, ...] = ()
    customer_ids: tuple[str, ...] = ()
    currencies: tuple[str, ...] = ()
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None


class PageRequest(_Frozen):
    """`after` is the provider's own opaque position from a previous `Page.end_cursor`."""

    first: int
    after: str | None = None


class Lazy(Sequence[T]):
    """`len` items, each made by `_item(index)` only when first read, and kept. Compares equal
    to any sequence of the same items. The base of `LazyInvoices` (invoices mapped when read)
    and of the paging engine's `LazyTokens` (cursors written when read)."""

    __slots__ = ("_count", "_made")

    def __init__(self, count: int, made: Sequence[T | None] | None = None) -> None:
        self._count = count
        self._made: list[T | None] = list(made) if made else [None] * count

    def _item(self, index: int) -> T:
        raise NotImplementedError

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...

    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        if isinstance(index, slice):
            return tuple(self[n] for n in range(*index.indices(self._count)))
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        made = self._made[index]
        if made is None:
            made = self._made[index] = self._item(index)
        return made

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]


class Deferred(Sequence[T]):
    """A sequence that `build()` makes when it is first used (its length included), and
    keeps. Compares equal to, and hashes as, the tuple of the same items. An invoice's line
    items whose JSON is decoded and mapped only when a client reads them (FlexPrice's)."""

    __slots__ = ("_build", "_items")

    def __init__(self, build: Callable[[], Iterable[T]]) -> None:
        self._build: Callable[[], Iterable[T]] | None = build
        self._items: tuple[T, ...] | None = None

    @property
    def items(self) -> tuple[T, ...]:
        """The items, made now if they were not yet (what `build` raises, this raises)."""
        items = self._items
        if items is None:
            assert self._build is not None
            items = self._items = tuple(self._build())
            self._build = None  # and what it held
        return items

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...

    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        return self.items[index]

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return self.items == tuple(other)

    def __hash__(self) -> int:
        return hash(self.items)

    def __repr__(self) -> str:
        return f"Deferred({self._items!r})" if self._build is None else "Deferred(not made yet)"


class LazyInvoices(Lazy["Invoice"]):
    """A page's invoices as the provider sent them, each mapped to an `Invoice` when first read.

    A merge across providers reads 2 x `first` invoices to keep `first`; this way it maps only
    those it keeps. What the merge and the cursors need is read from the records up front:
    `created_at` (UTC) and `ids`, in the records' order. The provider checks up front what its
    mapping could refuse (an id, a creation time, finite amounts), so that reading an item
    never raises. Compares equal to any sequence of the same invoices.
    """

    __slots__ = ("_build", "_records", "created_at", "ids", "provider")

    def __init__(
        self,
        provider: str,
        records: Sequence[Any],
        build: Callable[[Any], Invoice],
        *,
        created_at: Sequence[dt.datetime],
        ids: Sequence[str],
        built: Sequence[Invoice | None] | None = None,
    ) -> None:
        super().__init__(len(records), built)
        self.provider = provider
        self._records = records
        self._build = build
        self.created_at = created_at
        self.ids = ids

    def _item(self, index: int) -> Invoice:
        return self._build(self._records[index])

    def mapped(self) -> int:
        """How many of the invoices were mapped so far."""
        return sum(1 for built in self._made if built is not None)

    @property
    def records(self) -> Sequence[Any]:
        """The provider's records, unmapped, in order."""
        return self._records

    def __repr__(self) -> str:
        return f"LazyInvoices({self.provider!r}, {len(self)} invoices)"

    def select(self, indexes: Iterable[int]) -> LazyInvoices:
        """The invoices at `indexes`, in that order, still unmapped (mapped ones kept)."""
        chosen = list(indexes)
        return LazyInvoices(
            self.provider,
            [self._records[n] for n in chosen],
            self._build,
            created_at=[self.created_at[n] for n in chosen],
            ids=[self.ids[n] for n in chosen],
            built=[self._made[n] for n in chosen],
        )


def created_times(items: Sequence[Invoice]) -> Sequence[dt.datetime]:
    """Each item's `created_at`, without mapping a `LazyInvoices`."""
    if isinstance(items, LazyInvoices):
        return items.created_at
    return [item.created_at for item in items]


def ids_of(items: Sequence[Invoice]) -> Sequence[str]:
    """Each item's `id`, without mapping a `LazyInvoices`."""
    if isinstance(items, LazyInvoices):
        return items.ids
    return [item.id for item in items]


def pick(
    parts: Sequence[Sequence[Invoice]], chosen: Iterable[tuple[int, int]]
) -> Sequence[Invoice]:
    """`parts[n][index]` for each `(n, index)` of `chosen`, in order: still unmapped when every
    part chosen from is a `LazyInvoices` of one provider (the usual page), else mapped."""
    chosen = list(chosen)
    used = {n for n, _ in chosen}
    if len(used) == 1:
        (only,) = used
        part = parts[only]
        if isinstance(part, LazyInvoices):
            return part.select(index for _, index in chosen)
    return tuple(parts[n][index] for n, index in chosen)


@dataclass(frozen=True)  # not slots: `Page[Invoice](...)` sets `__orig_class__` on a slots class
class Page(Generic[T]):
    """One page of a provider's list, newest first.

    `item_cursors[i]` is the provider's position right after `items[i]` (so a listing merged
    across providers can resume exactly after any item); `end_cursor` is the one after the last.
    A provider builds it (nothing validates it again); `items` may be a `LazyInvoices`.
    """

    items: Sequence[T]
    item_cursors: Sequence[str]
    end_cursor: str | None
    has_next_page: bool
    total_count: int | None = None
