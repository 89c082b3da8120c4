"""Compiling plans: `Compiler` turns one object type's selection into an `ObjectPlan`, a
planned function per field whose whole subtree is plain (`plain`), completed by generated code
(`codegen`); `document_plans` keeps them as long as their parsed operation lives, under
`plan_key`."""

from __future__ import annotations

import weakref
from types import CoroutineType
from typing import TYPE_CHECKING, Any

from graphql import (
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import CollectedFields, collect_subfields

from gateway.schema.plan.codegen import FieldSpec, generate, leaf, same_type
from gateway.schema.plan.info import (
    DEFINITION,
    FieldDetailsList,
    GroupedFieldSet,
    PlanInfo,
    Planned,
    Unplanned,
)
from gateway.schema.plan.plain import attribute_of, has_directives, resolver_of

if TYPE_CHECKING:
    from gateway.schema.plan.executor import PlannedExecutor

__all__ = ["Compiler", "DocumentPlans", "ObjectPlan", "document_plans", "plan_key"]


PlanTable = dict[tuple[Any, ...], "ObjectPlan"]


class DocumentPlans:
    """The plans compiled for each parsed operation, kept as long as the operation itself.

    Plans are found by the ids of the parsed nodes they were compiled from: within one live
    document, the same ids are the same nodes. The document cache decides how long a parsed
    document lives (and a document too large for it lives for one request); its plans go with
    it, so this keeps nothing alive that the cache dropped."""

    def __init__(self) -> None:
        self.by_operation: dict[int, tuple[weakref.ref[Any], PlanTable]] = {}

    def of(self, operation: Any) -> dict[tuple[Any, ...], ObjectPlan]:
        key = id(operation)
        found = self.by_operation.get(key)
        if found is not None and found[0]() is operation:
            return found[1]
        plans: dict[tuple[Any, ...], ObjectPlan] = {}
        self.by_operation[key] = (weakref.ref(operation), plans)
        weakref.finalize(operation, self.by_operation.pop, key, None)
        return plans


document_plans = DocumentPlans()


class ObjectPlan:
    """One object's selection: for each response key, a planned function or None."""

    __slots__ = ("any_planned", "steps")

    def __init__(self, steps: list[tuple[str, Planned | None]]) -> None:
        self.steps = steps
        self.any_planned = any(planned is not None for _, planned in steps)


class Compiler:
    """Compiles within one execution (its fragments and variables; plans never depend on
    variables: a subtree with a directive is not planned)."""

    def __init__(self, executor: PlannedExecutor) -> None:
        self.executor = executor

    def object_plan(self, parent_type: GraphQLObjectType, grouped: GroupedFieldSet) -> ObjectPlan:
        steps = [(key, self.field(parent_type, details)) for key, details in grouped.items()]
        return ObjectPlan(steps)

    def field(self, parent_type: GraphQLObjectType, details: FieldDetailsList) -> Planned | None:
        spec = self.field_spec(parent_type, "", details)
        if spec is None:
            return None
        if spec.typename is not None:
            type_name = spec.typename
            return lambda _source, _info: type_name
        resolve, complete, non_null = spec.resolve, spec.complete, spec.non_null
        assert resolve is not None
        assert complete is not None

        def planned(source: Any, info: PlanInfo) -> Any:
            value = resolve(source, info)
            if type(value) is CoroutineType:
                # A resolver that is sync only when it can be (Invoice.customer): not plain now.
                value.close()
                raise Unplanned("an awaitable value")
            if value is None:
                if non_null:
                    raise Unplanned("null for a non-null type")
                return None
            completed = complete(value, info)
            if completed is None and non_null:
                raise Unplanned("null for a non-null type")
            return completed

        return planned

    def field_spec(
        self, parent_type: GraphQLObjectType, key: str, details: FieldDetailsList
    ) -> FieldSpec | None:
        for detail in details:
            if detail.defer_usage is not None or detail.fragment_variable_values is not None:
                return None
        node = details[0].node
        name = node.name.value
        if name == "__typename":
            return FieldSpec(key, typename=parent_type.name)
        field_def = parent_type.fields.get(name)
        if field_def is None or node.arguments:
            return None
        resolve = resolver_of(field_def)
        if resolve is None:
            return None
        type_ = field_def.type
        non_null = is_non_null_type(type_)
        if non_null:
            assert isinstance(type_, GraphQLNonNull)
            type_ = type_.of_type
        complete = self.output(type_, details)
        if complete is None:
            return None
        return FieldSpec(
            key,
            attribute=attribute_of(field_def),
            resolve=resolve,
            non_null=non_null,
            same=same_type(type_),
            complete=complete,
        )

    def output(self, type_: GraphQLOutputType, details: FieldDetailsList) -> Planned | None:
        if is_non_null_type(type_):
            assert isinstance(type_, GraphQLNonNull)
            inner = self.output(type_.of_type, details)
            if inner is None:
                return None

            def non_null(value: Any, info: PlanInfo) -> Any:
                completed = inner(value, info)
                if completed is None:
                    raise Unplanned("null for a non-null type")
                return completed

            return non_null
        if is_list_type(type_):
            assert isinstance(type_, GraphQLList)
            item = self.output(type_.of_type, details)
            if item is None:
                return None

            def list_of(value: Any, info: PlanInfo) -> Any:
                if value is None:
                    return None
                if not isinstance(value, list | tuple):
                    raise Unplanned("not a list")
                return [item(element, info) for element in value]

            return list_of
        if is_leaf_type(type_):
            assert isinstance(type_, GraphQLLeafType)
            return leaf(type_)
        if is_object_type(type_):
            assert isinstance(type_, GraphQLObjectType)
            return self.object_value(type_, details)
        return None  # an interface or a union: graphql-core resolves the runtime type

    def object_value(self, type_: GraphQLObjectType, details: FieldDetailsList) -> Planned | None:
        executor = self.executor
        fragments = executor.fragments
        if any(has_directives(d.node.selection_set, fragments) for d in details):
            return None
        collected: CollectedFields = collect_subfields(
            executor.schema,
            fragments,
            executor.variable_values,
            executor.operation,
            type_,
            details,
            executor.hide_suggestions,
        )
        if collected.new_defer_usages or collected.forbidden_directive_instances:
            return None
        specs: list[FieldSpec] = []
        for key, sub_details in collected.grouped_field_set.items():
            spec = self.field_spec(type_, key, sub_details)
            if spec is None:
                return None
            specs.append(spec)
        definition = type_.extensions.get(DEFINITION) if type_.extensions else None
        return generate(type_, specs, origin=getattr(definition, "origin", None))


def plan_key(parent_type: GraphQLObjectType, grouped: GroupedFieldSet) -> tuple[Any, ...]:
    return (
        parent_type.name,
        *((key, *(id(detail.node) for detail in details)) for key, details in grouped.items()),
    )
