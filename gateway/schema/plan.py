"""Field execution through plans compiled once per selection, graphql-core for everything else.

graphql-core executes every field the same way: a `GraphQLResolveInfo` and a `Path` built,
Strawberry's resolver wrapper (arguments converted, an `Info` built, extensions chained), then
`complete_value` walking the return type. That is 4-8 us a field, and a page of 50 invoices is
about 500 fields. Most of them are plain: a sync resolver that reads its object.

`PlannedExecutor` replaces graphql-core's `execute_fields` (the loop over one object's fields).
For each field of a selection it compiles once, and keeps for as long as the parsed document
lives, a function that resolves the field and completes its whole value (scalars coerced,
lists and objects walked) with no per-field bookkeeping. A field gets one only when every
field in its subtree is **plain**:

- a Strawberry field with no resolver (the attribute), or a sync resolver whose parameters are
  only `self` and `info`, with no GraphQL arguments, no field extensions or permissions;
- no directive anywhere in its subtree (`@include`/`@skip` depend on variables), no `@defer`;
- return types that are scalars, enums, lists, non-nulls and object types (an interface or a
  union is left to graphql-core, which resolves the runtime type).

A plain resolver gets an `info` that has only `context`; reading anything else from it stops
the plan for that field. The plan stops, too, at anything unusual: an exception, a null where
the type says non-null, a value a scalar cannot coerce, an object of the wrong type. Then
graphql-core executes that field again from its resolver, as it would have without a plan,
so errors, their paths and null propagation are graphql-core's own; plain resolvers have no
side effects, so running one twice changes nothing but time. Every other field (the root
fields, anything async, anything with arguments) goes through graphql-core as before, and the
objects it returns get plans for their own plain fields.

`GATEWAY_VERIFY_PLANS=1` (the test suite sets it) executes every planned field through
graphql-core as well and fails the request when the two answers differ.
"""

from __future__ import annotations

import inspect
import operator
import os
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import CoroutineType
from typing import Any, cast

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfoHelpers,
    GraphQLString,
    InlineFragmentNode,
    SelectionSetNode,
    Undefined,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import (
    CollectedFields,
    FieldDetails,
    collect_subfields,
)
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE
from strawberry.types.field import StrawberryField

__all__ = ["PlanMismatch", "PlannedExecutor", "mismatches", "verifying"]

#: One planned field: its value from the parent object and the request's `PlanInfo`.
Planned = Callable[[Any, "PlanInfo"], Any]
FieldDetailsList = list[FieldDetails]
GroupedFieldSet = dict[str, FieldDetailsList]

_DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF


class _Unplanned(Exception):
    """The plan cannot answer this value: graphql-core executes the field instead."""


class PlanMismatch(AssertionError):
    """With verification on, a planned answer differed from graphql-core's."""


class PlanInfo:
    """What a plain resolver gets as `info`: the request's context, nothing else."""

    __slots__ = ("context",)

    def __init__(self, context: Any) -> None:
        self.context = context

    def __getattr__(self, name: str) -> Any:
        # Not an AttributeError: `getattr(info, name, default)` must not quietly differ.
        raise _Unplanned(f"info.{name} is not available to a planned field")


#: Whether plans are checked against graphql-core: GATEWAY_VERIFY_PLANS=1 when the module is
#: imported (read once: `os.environ` per request was 3 % of a `{ __typename }` request).
_VERIFY = os.environ.get("GATEWAY_VERIFY_PLANS", "") == "1"


def verifying() -> bool:
    """Whether plans are checked against graphql-core (GATEWAY_VERIFY_PLANS=1 at import)."""
    return _VERIFY


#: Differences found with verification on (the test suite fails on any).
mismatches: list[str] = []


# -- compiling ------------------------------------------------------------------------------

_PlanTable = dict[tuple[Any, ...], "_ObjectPlan"]


class _DocumentPlans:
    """The plans compiled for each parsed operation, kept as long as the operation itself.

    Plans are found by the ids of the parsed nodes they were compiled from: within one live
    document, the same ids are the same nodes. The document cache decides how long a parsed
    document lives (and a document too large for it lives for one request); its plans go with
    it, so this keeps nothing alive that the cache dropped."""

    def __init__(self) -> None:
        self.by_operation: dict[int, tuple[weakref.ref[Any], _PlanTable]] = {}

    def of(self, operation: Any) -> dict[tuple[Any, ...], _ObjectPlan]:
        key = id(operation)
        found = self.by_operation.get(key)
        if found is not None and found[0]() is operation:
            return found[1]
        plans: dict[tuple[Any, ...], _ObjectPlan] = {}
        self.by_operation[key] = (weakref.ref(operation), plans)
        weakref.finalize(operation, self.by_operation.pop, key, None)
        return plans


_plans = _DocumentPlans()


class _ObjectPlan:
    """One object's selection: for each response key, a planned function or None."""

    __slots__ = ("any_planned", "steps")

    def __init__(self, steps: list[tuple[str, Planned | None]]) -> None:
        self.steps = steps
        self.any_planned = any(planned is not None for _, planned in steps)


def _has_directives(selection_set: SelectionSetNode | None, fragments: dict[str, Any]) -> bool:
    """Whether any selection under `selection_set` (fragments followed) carries a directive."""
    if selection_set is None:
        return False
    seen: set[str] = set()
    pending: list[SelectionSetNode] = [selection_set]
    while pending:
        current = pending.pop()
        for selection in current.selections:
            if selection.directives:
                return True
            if isinstance(selection, FieldNode | InlineFragmentNode):
                if selection.selection_set is not None:
                    pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in seen:
                    continue
                seen.add(name)
                details = fragments.get(name)
                if details is None:
                    return True  # unknown fragment: let graphql-core report it
                definition = details.definition
                if definition.directives or getattr(definition, "variable_definitions", None):
                    return True
                pending.append(definition.selection_set)
    return False


def _resolver(field_def: Any) -> Callable[[Any, PlanInfo], Any] | None:
    """The field's resolution as a plain call, or None when it is not plain."""
    definition = field_def.extensions.get(_DEFINITION) if field_def.extensions else None
    if not isinstance(definition, StrawberryField) or definition.extensions:
        return None
    if field_def.args:
        return None
    resolver = definition.base_resolver
    if resolver is None:
        if definition.default_resolver is not getattr:
            return None
        read = operator.attrgetter(definition.python_name)
        return lambda source, _info: read(source)
    if resolver.is_async or resolver.arguments:
        return None
    if resolver.root_parameter is not None or resolver.parent_parameter is not None:
        return None
    func = resolver.wrapped_func
    if not callable(func) or inspect.iscoroutinefunction(func):
        return None
    params = list(inspect.signature(func).parameters.values())
    wanted: list[str] = []
    self_param, info_param = resolver.self_parameter, resolver.info_parameter
    for param in params:
        if self_param is not None and param.name == self_param.name:
            wanted.append("self")
        elif info_param is not None and param.name == info_param.name:
            wanted.append("info")
        elif param.default is inspect.Parameter.empty:
            return None
    if any(
        p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params[: len(wanted)]
    ):
        return None
    if wanted == ["self"]:
        return lambda source, _info: func(source)
    if wanted == ["self", "info"]:
        return func
    if wanted == ["info"]:
        return lambda _source, info: func(info)
    if not wanted:
        return lambda _source, _info: func()
    return None  # (info, self): no resolver here is written so


class _Compiler:
    """Compiles within one execution (its fragments and variables; plans never depend on
    variables: a subtree with a directive is not planned)."""

    def __init__(self, executor: PlannedExecutor) -> None:
        self.executor = executor

    def object_plan(self, parent_type: GraphQLObjectType, grouped: GroupedFieldSet) -> _ObjectPlan:
        steps = [(key, self.field(parent_type, details)) for key, details in grouped.items()]
        return _ObjectPlan(steps)

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
                raise _Unplanned("an awaitable value")
            if value is None:
                if non_null:
                    raise _Unplanned("null for a non-null type")
                return None
            completed = complete(value, info)
            if completed is None and non_null:
                raise _Unplanned("null for a non-null type")
            return completed

        return planned

    def field_spec(
        self, parent_type: GraphQLObjectType, key: str, details: FieldDetailsList
    ) -> _FieldSpec | None:
        for detail in details:
            if detail.defer_usage is not None or detail.fragment_variable_values is not None:
                return None
        node = details[0].node
        name = node.name.value
        if name == "__typename":
            return _FieldSpec(key, typename=parent_type.name)
        field_def = parent_type.fields.get(name)
        if field_def is None or node.arguments:
            return None
        resolve = _resolver(field_def)
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
        return _FieldSpec(
            key,
            attribute=_attribute(field_def),
            resolve=resolve,
            non_null=non_null,
            same=_same_type(type_),
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
                    raise _Unplanned("null for a non-null type")
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
                    raise _Unplanned("not a list")
                return [item(element, info) for element in value]

            return list_of
        if is_leaf_type(type_):
            assert isinstance(type_, GraphQLLeafType)
            return _leaf(type_)
        if is_object_type(type_):
            assert isinstance(type_, GraphQLObjectType)
            return self.object_value(type_, details)
        return None  # an interface or a union: graphql-core resolves the runtime type

    def object_value(self, type_: GraphQLObjectType, details: FieldDetailsList) -> Planned | None:
        executor = self.executor
        fragments = executor.fragments
        if any(_has_directives(d.node.selection_set, fragments) for d in details):
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
        specs: list[_FieldSpec] = []
        for key, sub_details in collected.grouped_field_set.items():
            spec = self.field_spec(type_, key, sub_details)
            if spec is None:
                return None
            specs.append(spec)
        definition = type_.extensions.get(_DEFINITION) if type_.extensions else None
        return _generate(type_, specs, origin=getattr(definition, "origin", None))


@dataclass(slots=True)
class _FieldSpec:
    """One planned field of an object: how to read it and how to complete its value."""

    key: str
    #: `__typename`: the type's name, a constant.
    typename: str | None = None
    #: The Python attribute a field without a resolver reads (generated as `value.name`).
    attribute: str | None = None
    #: The field's resolution, `resolve(source, info)` (for every field but `__typename`).
    resolve: Callable[[Any, PlanInfo], Any] | None = None
    non_null: bool = False
    #: A leaf's type whose values are their own completion (`str` for String and ID).
    same: type | None = None
    #: Completion of a value that is not None, for the type inside any non-null.
    complete: Planned | None = None


def _attribute(field_def: Any) -> str | None:
    definition = field_def.extensions.get(_DEFINITION) if field_def.extensions else None
    if not isinstance(definition, StrawberryField) or definition.base_resolver is not None:
        return None
    name = definition.python_name
    return name if name.isidentifier() and not name.startswith("__") else None


def _same_type(type_: GraphQLOutputType) -> type | None:
    if type_ is GraphQLString or type_ is GraphQLID:
        return str
    if type_ is GraphQLBoolean:
        return bool
    return None


def _generate(type_: GraphQLObjectType, specs: list[_FieldSpec], *, origin: Any) -> Planned:
    """One object's completion as one generated function: every field read, checked and
    completed in line, no call per field but to its resolver and to nested completions (what
    the closures of `_Compiler.field` do, at half the cost)."""
    env: dict[str, Any] = {
        "_Unplanned": _Unplanned,
        "CoroutineType": CoroutineType,
        "is_type_of": type_.is_type_of,
        "origin": origin,
        "TYPE_CAST": TYPE_CAST_ATTRIBUTE,
    }
    lines = ["def object_of(value, info):", "    if value is None:", "        return None"]
    if type_.is_type_of is not None:
        lines += [
            "    if (type(value) is not origin or hasattr(value, TYPE_CAST)) and "
            "is_type_of(value, None) is not True:",
            "        raise _Unplanned('an object of another type')",
        ]
    lines += [
        "    if isinstance(value, Exception):",
        "        raise _Unplanned('an exception as a value')",
    ]
    entries: list[str] = []
    for n, spec in enumerate(specs):
        if spec.typename is not None:
            entries.append(f"{spec.key!r}: {spec.typename!r}")
            continue
        v = f"v{n}"
        if spec.attribute is not None:
            lines.append(f"    {v} = value.{spec.attribute}")
        else:
            env[f"resolve{n}"] = spec.resolve
            lines += [
                f"    {v} = resolve{n}(value, info)",
                f"    if type({v}) is CoroutineType:",
                f"        {v}.close()",
                "        raise _Unplanned('an awaitable value')",
            ]
        env[f"complete{n}"] = spec.complete
        null = (
            "        raise _Unplanned('null for a non-null type')"
            if spec.non_null
            else "        pass"
        )
        lines += [f"    if {v} is None:", null]
        if spec.same is not None:
            env[f"same{n}"] = spec.same
            lines.append(f"    elif type({v}) is not same{n}:")
        else:
            lines.append("    else:")
        lines.append(f"        {v} = complete{n}({v}, info)")
        if spec.non_null:
            lines += [f"        if {v} is None:", "    " + null]
        entries.append(f"{spec.key!r}: {v}")
    lines.append("    return {" + ", ".join(entries) + "}")
    source = "\n".join(lines)
    exec(compile(source, f"<plan of {type_.name}>", "exec"), env)  # noqa: S102 - our own text
    generated: Planned = env["object_of"]
    return generated


def _leaf(type_: GraphQLLeafType) -> Planned:
    """A scalar's or an enum's completion: `coerce_output_value`, as graphql-core calls it,
    with shortcuts that give the same answer: a `str` is its own String or ID, a `bool` its own
    Boolean, and a Strawberry enum's member its name, found in a table made once."""
    coerce = type_.coerce_output_value
    if type_ is GraphQLString or type_ is GraphQLID:
        same: type = str
    elif type_ is GraphQLBoolean:
        same = bool
    else:
        same = type(None)  # no shortcut: None never reaches the check
    names: dict[Any, str] = {}
    wrapped = getattr(type_, "wrapped_cls", None)
    if isinstance(type_, GraphQLEnumType) and isinstance(wrapped, type):
        for member in cast("Iterable[Any]", wrapped):
            for name, value in type_.values.items():
                if member.value == value.value:
                    names[member] = name
                    break

    def leaf(value: Any, _info: PlanInfo) -> Any:
        if value is None:
            return None
        if type(value) is same:
            return value
        if names:
            name = names.get(value) if type(value) is wrapped else None
            if name is not None:
                return name
        if isinstance(value, Exception):
            raise _Unplanned("an exception as a value")
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise _Unplanned("a value the scalar cannot coerce")
        return coerced

    return leaf


def _plan_key(parent_type: GraphQLObjectType, grouped: GroupedFieldSet) -> tuple[Any, ...]:
    return (
        parent_type.name,
        *((key, *(id(detail.node) for detail in details)) for key, details in grouped.items()),
    )


# -- executing ------------------------------------------------------------------------------


async def _finished_gather(_values: Any) -> list[Any]:
    raise RuntimeError("the operation's execution has finished")


def _finished_track(_values: Any) -> None:
    raise RuntimeError("the operation's execution has finished")


_FINISHED = GraphQLResolveInfoHelpers(_finished_gather, _finished_track)


class PlannedExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with planned fields (the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plan_info = PlanInfo(self.context_value)
        #: This execution's plans by the identity of graphql-core's memoized field sets.
        self._local: dict[int, tuple[GroupedFieldSet, _ObjectPlan]] = {}
        self._verify = _VERIFY
        self._document_plans: dict[tuple[Any, ...], _ObjectPlan] | None = None

    def build_response(self, data: dict[str, Any] | None) -> Any:
        result = super().build_response(data)
        # graphql-core's executor refers to itself (its `async_helpers` are its own bound
        # methods): a cycle only the cyclic collector frees, and through `context_value` it held
        # the request's loaders, pages and answer until a full collection (tens of ms each, and
        # the peak memory). The response is built: drop the helpers, and the request's objects
        # go as soon as the last reference does.
        self.async_helpers = _FINISHED
        return result

    def _plan(self, parent_type: GraphQLObjectType, grouped: GroupedFieldSet) -> _ObjectPlan:
        local = self._local.get(id(grouped))
        if local is not None and local[0] is grouped:
            return local[1]
        key = _plan_key(parent_type, grouped)
        plans = self._document_plans
        if plans is None:
            plans = self._document_plans = _plans.of(self.operation)
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = _Compiler(self).object_plan(parent_type, grouped)
        self._local[id(grouped)] = (grouped, plan)
        return plan

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        plan = self._plan(parent_type, grouped_field_set)
        if not plan.any_planned:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        info = self._plan_info
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for key, planned in plan.steps:
                if planned is not None:
                    try:
                        value = planned(source_value, info)
                    except Exception:  # noqa: S110 - graphql-core executes this field instead
                        pass
                    else:
                        if self._verify:
                            self._check(
                                parent_type, source_value, path, grouped_field_set[key], value
                            )
                        results[key] = value
                        continue
                details = grouped_field_set[key]
                result = self.execute_field(
                    parent_type,
                    source_value,
                    details,
                    Path(path, key, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[key] = result
                    if is_awaitable(result):
                        awaitable_fields.append(key)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def _check(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        details: FieldDetailsList,
        planned: Any,
    ) -> None:
        """With verification on: graphql-core's answer for the same field must be the same."""
        key = details[0].node.alias.value if details[0].node.alias else details[0].node.name.value
        errors_before = len(self.collected_errors.errors)
        expected = self.execute_field(
            parent_type, source_value, details, Path(path, key, parent_type.name), None
        )
        problem = None
        if self.is_awaitable(expected):
            close = getattr(expected, "close", None)
            if close is not None:
                close()
            problem = "graphql-core's answer is awaitable, the plan's is not"
        elif len(self.collected_errors.errors) != errors_before:
            problem = "graphql-core reported an error the plan did not"
        elif expected != planned or _shape(expected) != _shape(planned):
            problem = f"graphql-core answered {expected!r}, the plan {planned!r}"
        if problem is not None:
            message = f"{parent_type.name}.{key}: {problem}"
            mismatches.append(message)
            raise PlanMismatch(message)


def _shape(value: Any) -> Any:
    """The value with its types: `1 == 1.0 == True` must not hide a difference."""
    if isinstance(value, dict):
        return ("dict", tuple((k, _shape(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("list", tuple(_shape(v) for v in value))
    return (type(value).__name__, value)
