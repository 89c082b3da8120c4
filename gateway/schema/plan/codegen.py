"""The completion of planned values: `generate` writes one function per object selection that
reads, checks and completes every field in line (`FieldSpec` says how, per field), and `leaf`
completes a scalar's or an enum's value as graphql-core would, with shortcuts."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import CoroutineType
from typing import Any, cast

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    Undefined,
)
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE

from gateway.schema.plan.info import PlanInfo, Planned, Unplanned

__all__ = ["FieldSpec", "generate", "leaf", "same_type"]


@dataclass(slots=True)
class FieldSpec:
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


def same_type(type_: GraphQLOutputType) -> type | None:
    if type_ is GraphQLString or type_ is GraphQLID:
        return str
    if type_ is GraphQLBoolean:
        return bool
    return None


def generate(type_: GraphQLObjectType, specs: list[FieldSpec], *, origin: Any) -> Planned:
    """One object's completion as one generated function: every field read, checked and
    completed in line, no call per field but to its resolver and to nested completions (what
    the closures of `compiler.Compiler.field` do, at half the cost)."""
    env: dict[str, Any] = {
        "Unplanned": Unplanned,
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
            "        raise Unplanned('an object of another type')",
        ]
    lines += [
        "    if isinstance(value, Exception):",
        "        raise Unplanned('an exception as a value')",
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
                "        raise Unplanned('an awaitable value')",
            ]
        env[f"complete{n}"] = spec.complete
        null = (
            "        raise Unplanned('null for a non-null type')"
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


def leaf(type_: GraphQLLeafType) -> Planned:
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
            raise Unplanned("an exception as a value")
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise Unplanned("a value the scalar cannot coerce")
        return coerced

    return leaf
