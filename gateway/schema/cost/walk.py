"""The walk of an operation's document for its estimate: `estimate` visits every field the
operation selects, fragments and aliases included, with its arguments coerced as execution will
coerce them, and counts each through the cost model (`gateway.schema.cost.model`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graphql import (
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
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values

from gateway.ids import NodeType
from gateway.schema.cost.model import (
    FULL_CUSTOMER_FIELDS,
    MAX_VISITS,
    NOTHING,
    Estimate,
    FieldCosts,
    Objects,
    TooLarge,
)
from gateway.settings import GatewaySettings
from providers.base import InvoiceProvider

__all__ = ["Walk", "estimate"]


class Walk(FieldCosts):
    """One operation's walk: the document's selections, each field costed as it is reached."""

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
        objects: Objects,
        level: int,
    ) -> None:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return
        fields: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            self._collect(parent, selection_set, fields)
        names = {nodes[0].name.value for nodes in fields.values()}
        if parent.name == "Customer" and names & FULL_CUSTOMER_FIELDS:
            # One look-up per customer, however many of those fields are asked for.
            for name in objects.partial:
                self.ids[(name, NodeType.CUSTOMER, level)] += objects.counts.get(name, 0)
        for nodes in fields.values():
            self.visits += 1
            if self.visits > MAX_VISITS:
                raise TooLarge
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
    walk = Walk(schema, fragments, coerced, providers, settings)
    try:
        walk.select(root, [operation.selection_set], NOTHING, 0)
    except TooLarge:
        return None
    return walk.result()
