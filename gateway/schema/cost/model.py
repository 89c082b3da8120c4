"""The per-field cost model of the estimate: what each field costs upstream and what its
selection is made on (`FieldCosts.field`), from what each provider says its API needs
(`listing_calls`, `call_costs`, `capabilities`); `MUTATIONS`, what each mutation costs; and
`Estimate`, the result. `gateway.schema.cost.walk` drives it over a document."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import FragmentDefinitionNode, GraphQLNamedType, GraphQLSchema
from graphql.execution.values import VariableValues

from gateway.errors import GatewayError
from gateway.ids import GlobalId, NodeType
from gateway.settings import GatewaySettings
from providers.base import InvoiceProvider, Operation
from providers.models import InvoiceFilter, InvoiceStatus, PaymentStatus

__all__ = [
    "FULL_CUSTOMER_FIELDS",
    "MAX_VISITS",
    "MUTATIONS",
    "NOTHING",
    "Estimate",
    "FieldCosts",
    "Objects",
    "TooLarge",
]

#: Each mutation: the input field naming its provider (by a global ID), the operation the
#: provider must have, and the calls it makes at most, retries aside.
MUTATIONS: dict[str, tuple[str, Operation, int]] = {
    # Xendit: the customer, the look-up of the key, the create (FlexPrice: the create, and
    # the look-up of the key after a 409).
    "createInvoice": ("customerId", Operation.CREATE_INVOICE, 3),
    "updateInvoice": ("id", Operation.UPDATE_INVOICE, 1),
    "finalizeInvoice": ("id", Operation.FINALIZE_INVOICE, 2),  # then read back
    "voidInvoice": ("id", Operation.VOID_INVOICE, 2),  # then read back
    "updateInvoicePaymentStatus": ("id", Operation.UPDATE_PAYMENT_STATUS, 1),
    "attemptInvoicePayment": ("id", Operation.ATTEMPT_PAYMENT, 2),  # then read back
    "recalculateInvoice": ("id", Operation.RECALCULATE_INVOICE, 3),  # read, recalculate, read
    "triggerInvoiceCommunication": ("id", Operation.TRIGGER_COMMUNICATION, 2),  # then read
}

#: The fields of a customer a copy embedded in an invoice lacks (`Customer._full`).
FULL_CUSTOMER_FIELDS = frozenset({"externalId", "address", "metadata", "createdAt", "raw"})
#: Fields the walk visits at most: far above what the depth, alias and token limits let a
#: document reach; past it the operation is refused rather than walked on.
MAX_VISITS = 20_000
_STATUSES = frozenset(status.value for status in InvoiceStatus)
_PAYMENTS = frozenset(status.value for status in PaymentStatus)


@dataclass(frozen=True, slots=True)
class Estimate:
    """Upstream calls an operation can make, at most: in all and per provider."""

    total: int
    by_provider: Mapping[str, int] = field(default_factory=dict)


class TooLarge(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Objects:
    """What a selection is made on: at most `counts[p]` objects of provider p; `partial`, the
    providers whose customers here are copies embedded in an invoice."""

    counts: Mapping[str, int]
    partial: frozenset[str] = frozenset()


NOTHING = Objects({})


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


class FieldCosts:
    """The cost of each field, counted as a walk visits it: calls per provider, and ids to look
    up per provider, node type and level (one loader batch per level)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues,
        providers: Mapping[str, InvoiceProvider],
        settings: GatewaySettings,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.providers = providers
        self.settings = settings
        self.calls: Counter[str] = Counter()
        #: (provider, node type, level) -> ids looked up; one loader batch per level.
        self.ids: Counter[tuple[str, NodeType, int]] = Counter()
        self.visits = 0

    def result(self) -> Estimate:
        """The calls counted so far, the look-ups batched as the loaders batch them."""
        calls = Counter(self.calls)
        for (name, _, _), count in self.ids.items():
            calls[name] += math.ceil(count / max(1, self.providers[name].call_costs.ids_per_call))
        by_provider = {name: calls[name] for name in self.providers if calls[name]}
        return Estimate(total=sum(by_provider.values()), by_provider=by_provider)

    def field(
        self, parent: str, name: str, args: dict[str, Any], objects: Objects, level: int
    ) -> tuple[Objects, GraphQLNamedType | None] | None:
        """The cost of one field, and what its selection is made on (None: nothing runs)."""
        if parent == "Query":
            return self._root(name, args, level)
        if parent == "Mutation":
            return self._mutation(name, args)
        if parent == "Customer" and name == "invoices":
            return self._listing(args, objects), None
        if parent == "Customer" and name == "invoiceSummary":
            self._per_object(objects, Operation.CUSTOMER_INVOICE_SUMMARY)
        elif name == "pdfUrl":
            self._per_object(objects, Operation.INVOICE_PDF)
        elif name == "customer" and parent in ("Invoice", "InvoicePreview", "InvoiceContent"):
            return self._invoice_customer(objects, level), None
        return objects, None

    def _root(
        self, name: str, args: dict[str, Any], level: int
    ) -> tuple[Objects, GraphQLNamedType | None] | None:
        if name == "invoices":
            return self._listing(args, None), None
        if name in ("invoice", "node", "customer"):
            expect = {"invoice": NodeType.INVOICE, "customer": NodeType.CUSTOMER}.get(name)
            gid = self._decode(args.get("id"), expect)
            if gid is None:
                return None
            self.ids[(gid.provider, gid.type, level)] += 1
            return Objects({gid.provider: 1}), self.schema.get_type(gid.type.value)
        if name == "customers":
            ids = args.get("ids")
            if not isinstance(ids, list) or len(ids) > self.settings.max_page_size:
                return None  # refused before any call
            counts: Counter[str] = Counter()
            for value in ids:
                gid = self._decode(value, NodeType.CUSTOMER)
                if gid is not None:
                    self.ids[(gid.provider, gid.type, level)] += 1
                    counts[gid.provider] += 1
            return Objects(counts), None
        if name == "invoicePreview":
            given = (args.get("input") or {}).get("provider")
            provider = self.providers.get(given.lower()) if isinstance(given, str) else None
            if provider is None or Operation.PREVIEW_INVOICE not in provider.capabilities:
                return None
            self.calls[provider.name] += 1
            return Objects({provider.name: 1}), None
        return NOTHING, None

    def _mutation(
        self, name: str, args: dict[str, Any]
    ) -> tuple[Objects, GraphQLNamedType | None] | None:
        if name not in MUTATIONS:
            return NOTHING, None
        field_name, operation, calls = MUTATIONS[name]
        given = args.get("input")
        gid = self._decode(given.get(field_name) if isinstance(given, dict) else None, None)
        if gid is None or operation not in self.providers[gid.provider].capabilities:
            return NOTHING, None  # refused before any call
        self.calls[gid.provider] += calls
        return Objects({gid.provider: 1}), None

    def _decode(self, value: object, expect: NodeType | None) -> GlobalId | None:
        if not isinstance(value, str):
            return None
        try:
            gid = GlobalId.decode(value, field="id", expect=expect)
        except GatewayError:
            return None  # refused before any call
        return gid if gid.provider in self.providers else None

    def _first(self, value: object) -> int:
        if value is None or isinstance(value, bool) or not isinstance(value, int):
            return self.settings.default_page_size
        return max(0, min(value, self.settings.max_page_size))

    def _filter(self, given: Mapping[str, Any], provider: str) -> InvoiceFilter:
        """The domain filter, as far as it decides the calls (statuses, customers, currencies)."""
        customers = []
        for value in _strings(given.get("customerId")):
            gid = self._decode(value, NodeType.CUSTOMER)
            if gid is not None and gid.provider == provider:
                customers.append(gid.native_id)
        return InvoiceFilter(
            statuses=tuple(
                InvoiceStatus(v) for v in _strings(given.get("status")) if v in _STATUSES
            ),
            payment_statuses=tuple(
                PaymentStatus(v) for v in _strings(given.get("paymentStatus")) if v in _PAYMENTS
            ),
            customer_ids=tuple(customers),
            currencies=tuple(v.strip().upper() for v in _strings(given.get("currency"))),
        )

    def _reachable(self, given: Mapping[str, Any]) -> list[str]:
        names = list(self.providers)
        if given.get("provider") is not None:
            wanted = {name.lower() for name in _strings(given.get("provider"))}
            names = [name for name in names if name in wanted]
        if given.get("customerId") is not None:
            decoded = (self._decode(v, NodeType.CUSTOMER) for v in _strings(given["customerId"]))
            owners = {gid.provider for gid in decoded if gid is not None}
            names = [name for name in names if name in owners]
        return names

    def _listing(self, args: dict[str, Any], customers: Objects | None) -> Objects:
        first = self._first(args.get("first"))
        given = args.get("filter")
        given = given if isinstance(given, dict) else {}
        if customers is None:  # Query.invoices: one page of each provider it reaches
            names = self._reachable(given)
            for name in names:
                self.calls[name] += self.providers[name].listing_calls(self._filter(given, name))
            return Objects(dict.fromkeys(names, first))
        counts: dict[str, int] = {}
        for name, parents in customers.counts.items():
            provider = self.providers.get(name)
            if provider is None or not parents:
                continue
            one = self._filter(given, name).model_copy(update={"customer_ids": ("<customer>",)})
            page = provider.listing_calls(one)
            calls = parents * page  # each customer alone (all of them when a batch answers none)
            batch = provider.call_costs.customers_per_listing
            if batch > 1 and parents > 1 and args.get("after") is None:
                calls += page * math.ceil(parents / batch)
            self.calls[name] += calls
            counts[name] = parents * first
        return Objects(counts)

    def _per_object(self, objects: Objects, operation: Operation) -> None:
        for name, count in objects.counts.items():
            if operation in self.providers[name].capabilities:
                self.calls[name] += count

    def _invoice_customer(self, objects: Objects, level: int) -> Objects:
        partial = set()
        for name, count in objects.counts.items():
            embedded = self.providers[name].call_costs.embedded_customer
            if embedded == "partial":
                partial.add(name)
            elif embedded == "none":
                self.ids[(name, NodeType.CUSTOMER, level)] += count
        return Objects(objects.counts, frozenset(partial))
