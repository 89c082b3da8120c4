"""What an operation may cost upstream, worked out from its document before anything runs.

`estimate` walks the operation about to run (fragments and aliases included, a missing `first`
read as GATEWAY_DEFAULT_PAGE_SIZE) and counts the upstream calls it can make at most, retries
aside. Arguments are read as execution will read them: variables and literals coerced by
graphql-core to their types (`get_variable_values`, `get_argument_values`), so `first: 100.0`
is 100 and `customers(ids: "ID")` is a list of one id, as the resolvers see them. What a
provider's API needs comes from the provider (`listing_calls`, `call_costs`, `capabilities`);
the model, field by field:

- `Query.invoices`: for each provider its filter can reach, the calls of one page
  (`listing_calls`: FlexPrice one search per status part, Xendit one call, or 10 when it
  filters customers or currencies itself).
- `Customer.invoices` under N customers: per provider, N times the calls of one page; a
  provider that batches customers' first pages (FlexPrice) adds one batch per 1000 customers
  (the customers a batch cannot answer are listed alone, so the N stays).
- `invoice`, `node`, `customer`, `customers` by id, and the `Customer` fields a copy embedded
  in an invoice lacks (Xendit's): one look-up per id, batched per provider and level:
  ceil(ids / `ids_per_call`), so FlexPrice one search per 1000 ids, Xendit one call per id.
- `Invoice.customer`: nothing when invoices embed their customer (both built-in providers do),
  else a look-up.
- `Customer.invoiceSummary`, `Invoice.pdfUrl`: one call per object, where the provider has
  the operation.
- `Query.invoicePreview`: one call. A mutation: `MUTATIONS`, what it costs the provider that
  costs most.
- Anything else: nothing.

A connection holds at most `first` invoices of each provider it reaches, and what its nodes ask
for is multiplied by that: nested `first`s multiply. The estimate is an upper bound; `actual`
(the requests sent, counted by `providers.calls`) is usually below it.
"""

from __future__ import annotations

import math
import weakref
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from gateway.context import GatewayContext
from gateway.errors import ErrorCode, GatewayError
from gateway.ids import GlobalId, NodeType
from gateway.settings import GatewaySettings
from providers.base import InvoiceProvider, Operation
from providers.calls import counting
from providers.models import InvoiceFilter, InvoiceStatus, PaymentStatus

__all__ = ["MUTATIONS", "Estimate", "UpstreamCost", "estimate"]

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
_FULL_CUSTOMER_FIELDS = frozenset({"externalId", "address", "metadata", "createdAt", "raw"})
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


class _TooLarge(Exception):
    pass


@dataclass(frozen=True, slots=True)
class _Objects:
    """What a selection is made on: at most `counts[p]` objects of provider p; `partial`, the
    providers whose customers here are copies embedded in an invoice."""

    counts: Mapping[str, int]
    partial: frozenset[str] = frozenset()


_NONE = _Objects({})


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


class _Walk:
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
        calls = Counter(self.calls)
        for (name, _, _), count in self.ids.items():
            calls[name] += math.ceil(count / max(1, self.providers[name].call_costs.ids_per_call))
        by_provider = {name: calls[name] for name in self.providers if calls[name]}
        return Estimate(total=sum(by_provider.values()), by_provider=by_provider)

    # -- the document ----------------------------------------------------------------------

    def _applies(self, parent: GraphQLNamedType, condition: NamedTypeNode | None) -> bool:
        if condition is None or not isinstance(parent, GraphQLObjectType):
            return True  # an abstract parent: every fragment may apply (an upper bound)
        wanted = self.schema.get_type(condition.name.value)
        if wanted is parent:
            return True
        if isinstance(wanted, GraphQLInterfaceType | GraphQLUnionType):
            return self.schema.is_sub_type(wanted, parent)
        return False

    def _collect(
        self,
        parent: GraphQLNamedType,
        selection_set: SelectionSetNode,
        into: dict[str, list[FieldNode]],
        spread: frozenset[str] = frozenset(),
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                into.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if self._applies(parent, selection.type_condition):
                    self._collect(parent, selection.selection_set, into, spread)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if (
                    fragment
                    and name not in spread
                    and self._applies(parent, fragment.type_condition)
                ):
                    self._collect(parent, fragment.selection_set, into, spread | {name})

    def _arguments(self, definition: GraphQLField, node: FieldNode) -> dict[str, Any] | None:
        """The field's arguments as its resolver gets them; None when they cannot be coerced
        (the field fails before its resolver runs)."""
        try:
            return get_argument_values(definition, node, self.variables)
        except GraphQLError:
            return None

    def select(
        self,
        parent: GraphQLNamedType,
        selection_sets: Sequence[SelectionSetNode],
        objects: _Objects,
        level: int,
    ) -> None:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return
        fields: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            self._collect(parent, selection_set, fields)
        names = {nodes[0].name.value for nodes in fields.values()}
        if parent.name == "Customer" and names & _FULL_CUSTOMER_FIELDS:
            # One look-up per customer, however many of those fields are asked for.
            for name in objects.partial:
                self.ids[(name, NodeType.CUSTOMER, level)] += objects.counts.get(name, 0)
        for nodes in fields.values():
            self.visits += 1
            if self.visits > MAX_VISITS:
                raise _TooLarge
            node = nodes[0]
            definition = parent.fields.get(node.name.value)
            if definition is None:
                continue  # __typename and the like
            args = self._arguments(definition, node)
            if args is None:
                continue
            child = self.field(parent.name, node.name.value, args, objects, level)
            if child is None:
                continue
            child_objects, child_type = child
            sets = [n.selection_set for n in nodes if n.selection_set is not None]
            if sets:
                named = child_type or get_named_type(definition.type)
                self.select(named, sets, child_objects, level + 1)

    # -- the fields --------------------------------------------------------------------------

    def field(
        self, parent: str, name: str, args: dict[str, Any], objects: _Objects, level: int
    ) -> tuple[_Objects, GraphQLNamedType | None] | None:
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
    ) -> tuple[_Objects, GraphQLNamedType | None] | None:
        if name == "invoices":
            return self._listing(args, None), None
        if name in ("invoice", "node", "customer"):
            expect = {"invoice": NodeType.INVOICE, "customer": NodeType.CUSTOMER}.get(name)
            gid = self._decode(args.get("id"), expect)
            if gid is None:
                return None
            self.ids[(gid.provider, gid.type, level)] += 1
            return _Objects({gid.provider: 1}), self.schema.get_type(gid.type.value)
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
            return _Objects(counts), None
        if name == "invoicePreview":
            given = (args.get("input") or {}).get("provider")
            provider = self.providers.get(given.lower()) if isinstance(given, str) else None
            if provider is None or Operation.PREVIEW_INVOICE not in provider.capabilities:
                return None
            self.calls[provider.name] += 1
            return _Objects({provider.name: 1}), None
        return _NONE, None

    def _mutation(
        self, name: str, args: dict[str, Any]
    ) -> tuple[_Objects, GraphQLNamedType | None] | None:
        if name not in MUTATIONS:
            return _NONE, None
        field_name, operation, calls = MUTATIONS[name]
        given = args.get("input")
        gid = self._decode(given.get(field_name) if isinstance(given, dict) else None, None)
        if gid is None or operation not in self.providers[gid.provider].capabilities:
            return _NONE, None  # refused before any call
        self.calls[gid.provider] += calls
        return _Objects({gid.provider: 1}), None

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

    def _listing(self, args: dict[str, Any], customers: _Objects | None) -> _Objects:
        first = self._first(args.get("first"))
        given = args.get("filter")
        given = given if isinstance(given, dict) else {}
        if customers is None:  # Query.invoices: one page of each provider it reaches
            names = self._reachable(given)
            for name in names:
                self.calls[name] += self.providers[name].listing_calls(self._filter(given, name))
            return _Objects(dict.fromkeys(names, first))
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
        return _Objects(counts)

    def _per_object(self, objects: _Objects, operation: Operation) -> None:
        for name, count in objects.counts.items():
            if operation in self.providers[name].capabilities:
                self.calls[name] += count

    def _invoice_customer(self, objects: _Objects, level: int) -> _Objects:
        partial = set()
        for name, count in objects.counts.items():
            embedded = self.providers[name].call_costs.embedded_customer
            if embedded == "partial":
                partial.add(name)
            elif embedded == "none":
                self.ids[(name, NodeType.CUSTOMER, level)] += count
        return _Objects(objects.counts, frozenset(partial))


def estimate(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None,
    *,
    providers: Mapping[str, InvoiceProvider],
    settings: GatewaySettings,
) -> Estimate | None:
    """The upstream calls `operation` can make at most; None when it is too large to walk
    (more than `MAX_VISITS` fields), which is refused as too costly. Variables that their types
    cannot read cost nothing: execution refuses them before any resolver runs."""
    coerced = get_variable_values(
        schema, operation.variable_definitions or (), dict(variables or {}), max_errors=1
    )
    root = schema.get_root_type(operation.operation)
    if root is None or not isinstance(coerced, VariableValues):
        return Estimate(total=0)
    walk = _Walk(schema, fragments, coerced, providers, settings)
    try:
        walk.select(root, [operation.selection_set], _NONE, 0)
    except _TooLarge:
        return None
    return walk.result()


def too_costly(estimated: int | None, limit: int) -> GraphQLError:
    if estimated is None:
        message = (
            f"The operation is too large to estimate (over {MAX_VISITS} fields once its "
            "fragments are expanded): split it"
        )
    else:
        message = (
            f"The operation may make {estimated} upstream calls; the limit is {limit} "
            "(GATEWAY_MAX_COST): ask for fewer items (a smaller `first`), fewer nested "
            "connections, or split it"
        )
    return GraphQLError(
        message,
        extensions={
            "code": ErrorCode.QUERY_TOO_COSTLY.value,
            "cost": {"estimated": estimated, "limit": limit},
        },
    )


class UpstreamCost(SchemaExtension):
    """Counts the operation's upstream calls (`providers.calls`, with its caller and its
    GATEWAY_MAX_UPSTREAM_CALLS), refuses it before execution when its estimate is over
    GATEWAY_MAX_COST (QUERY_TOO_COSTLY: nothing reaches a provider), and reports
    `extensions.cost = {estimated, actual}` on every response."""

    def __init__(self) -> None:
        super().__init__()
        self.estimated: int | None = 0

    def _context(self) -> GatewayContext | None:
        context = self.execution_context.context
        return context if isinstance(context, GatewayContext) else None

    def on_operation(self) -> Iterator[None]:
        context = self._context()
        if context is None:
            yield
            return
        with counting(context.calls):
            yield

    def on_execute(self) -> Iterator[None]:
        context = self._context()
        document = self.execution_context.graphql_document
        if context is not None and document is not None and not self.execution_context.result:
            name = self.execution_context.operation_name
            known, estimated = _remembered(document, name, context)
            if not known:
                operation = get_operation_ast(document, name)
                if operation is None:
                    yield
                    return
                fragments = {
                    d.name.value: d
                    for d in document.definitions
                    if isinstance(d, FragmentDefinitionNode)
                }
                found = estimate(
                    self.execution_context.schema._schema,
                    operation,
                    fragments,
                    self.execution_context.variables,
                    providers=context.providers,
                    settings=context.settings,
                )
                estimated = None if found is None else found.total
                if not operation.variable_definitions:
                    _remember(document, name, context, estimated)
            self.estimated = estimated
            limit = context.settings.max_cost
            if limit and (estimated is None or estimated > limit):
                self.execution_context.result = GraphQLExecutionResult(
                    data=None, errors=[too_costly(estimated, limit)]
                )
        yield

    def get_results(self) -> dict[str, Any]:
        context = self._context()
        if context is None:
            return {}
        return {"cost": {"estimated": self.estimated, "actual": context.calls.made}}


#: The estimates of operations that declare no variables, which depend on nothing but the
#: document, the operation's name, the providers and the settings: by the document's id, with
#: a weak reference to it (an entry goes when its document does: the document cache's
#: documents keep theirs), the providers and settings it was made for, and the estimate (None:
#: too large) per operation name. A repeated query is walked once, not on every request.
_ESTIMATES: dict[
    int,
    tuple[
        weakref.ref[DocumentNode],
        Mapping[str, InvoiceProvider],
        GatewaySettings,
        dict[str | None, int | None],
    ],
] = {}


def _remembered(
    document: DocumentNode, name: str | None, context: GatewayContext
) -> tuple[bool, int | None]:
    entry = _ESTIMATES.get(id(document))
    if (
        entry is None
        or entry[0]() is not document
        or entry[1] is not context.providers
        or entry[2] is not context.settings
        or name not in entry[3]
    ):
        return False, None
    return True, entry[3][name]


def _remember(
    document: DocumentNode, name: str | None, context: GatewayContext, estimated: int | None
) -> None:
    key = id(document)
    entry = _ESTIMATES.get(key)
    if entry is None or entry[0]() is not document:
        weakref.finalize(document, _ESTIMATES.pop, key, None)
    if (
        entry is None
        or entry[0]() is not document
        or entry[1] is not context.providers
        or entry[2] is not context.settings
    ):
        entry = (weakref.ref(document), context.providers, context.settings, {})
        _ESTIMATES[key] = entry
    entry[3][name] = estimated
