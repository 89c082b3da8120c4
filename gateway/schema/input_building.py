"""Input objects built by a function made once per input type, through Strawberry's
`from_input` hook, instead of by Strawberry's own conversion.

Strawberry converts an argument's input object on every call: for each field it converts the
field's name, resolves its annotation and checks it for generics again (`convert_argument`),
about a quarter of executing a one-invoice listing with a filter. What that conversion does
depends only on the type, so `install` works it out once per input type of a schema and gives
the type a builder that does the same: every field without a default set to None, each field
the client sent converted (a leaf or an enum as it is, a list copied, an input object by its own
builder, null and unset kept), then the class called with them. A type with a field it does not
know (a `Maybe`, a `GlobalID`, a union of inputs...) keeps Strawberry's conversion;
tests/gateway/test_input_building.py compares both on every input type.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import strawberry
from strawberry.relay import GlobalID
from strawberry.scalars import is_scalar
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

__all__ = ["Builder", "install"]

Convert = Callable[[Any], Any]
#: What `StrawberryObjectDefinition.from_input` is called with: the class, the input value by
#: GraphQL field name, and Strawberry's `InputContext` (not needed here).
Builder = Callable[[type, Mapping[str, Any], Any], Any]


class _Unsupported(Exception):
    """A field type this module does not convert: the input type keeps Strawberry's way."""


def _same(value: Any) -> Any:
    return value


def _copied(value: Any) -> Any:
    return value if value is None or value is UNSET else list(value)


class _Compiler:
    def __init__(self, schema: strawberry.Schema) -> None:
        self.registry = schema.schema_converter.scalar_registry
        self.name_of = schema.config.name_converter.from_field
        #: Each input type's builder, made on first need (inputs may refer to each other).
        self.builders: dict[type, Builder] = {}
        self.refused: set[type] = set()

    def is_leaf(self, type_: Any) -> bool:
        if type_ is GlobalID:
            return False  # Strawberry decodes it: not ours to copy
        if isinstance(type_, LazyType):
            return self.is_leaf(type_.resolve_type())
        return isinstance(type_, StrawberryEnumDefinition) or is_scalar(type_, self.registry)

    def converter(self, type_: Any) -> Convert:
        """How Strawberry's `convert_argument` converts a value of `type_`, as a function."""
        if isinstance(type_, StrawberryMaybe):
            raise _Unsupported("Maybe")
        if isinstance(type_, StrawberryOptional):
            return self.converter(type_.of_type)  # None and UNSET pass in every converter
        if isinstance(type_, StrawberryList):
            item = type_.of_type
            if self.is_leaf(item) or (
                isinstance(item, StrawberryOptional) and self.is_leaf(item.of_type)
            ):
                return _copied
            convert = self.converter(item)
            return lambda value: (
                value if value is None or value is UNSET else [convert(x) for x in value]
            )
        if self.is_leaf(type_):
            return _same
        if isinstance(type_, LazyType):
            return self.converter(type_.resolve_type())
        if has_enum_definition(type_):
            return _same  # its definition is a leaf
        if has_object_definition(type_):
            definition = type_.__strawberry_definition__
            if not isinstance(definition, StrawberryObjectDefinition) or not definition.is_input:
                raise _Unsupported("not an input")
            cls: type = type_
            nested = self.builder(cls)
            return lambda value: (
                value if value is None or value is UNSET else nested(cls, value, None)
            )
        raise _Unsupported(repr(type_))

    def builder(self, cls: type) -> Builder:
        found = self.builders.get(cls)
        if found is not None:
            return found
        if cls in self.refused:
            raise _Unsupported(cls.__name__)
        definition: StrawberryObjectDefinition = cls.__strawberry_definition__  # type: ignore[attr-defined]
        if definition.from_input is not None and not _is_ours(definition.from_input):
            raise _Unsupported("builds its own value")
        fields: list[tuple[str, str, Convert]] = []
        # Filled in below: a type that refers to itself finds its builder already here.
        implicit: dict[str, Any] = {}

        def build(type_: type, value: Mapping[str, Any], _context: Any) -> Any:
            kwargs = dict(implicit)
            for graphql_name, python_name, convert in fields:
                if graphql_name in value:
                    kwargs[python_name] = convert(value[graphql_name])
            return type_(**kwargs)

        build.__gateway_input_builder__ = True  # type: ignore[attr-defined]
        self.builders[cls] = build
        try:
            for field in definition.fields:
                if (
                    field.default_value is dataclasses.MISSING
                    and field.default_factory is dataclasses.MISSING
                ):
                    implicit[field.python_name] = None
                convert = self.converter(field.resolve_type(type_definition=definition))
                fields.append((self.name_of(field), field.python_name, convert))
        except _Unsupported:
            del self.builders[cls]
            self.refused.add(cls)
            raise
        return build


def _is_ours(builder: Any) -> bool:
    return getattr(builder, "__gateway_input_builder__", False) is True


def install(schema: strawberry.Schema) -> list[str]:
    """Give every input type of `schema` that this module can build a builder (its
    definition's `from_input`); returns the names of the types that keep Strawberry's
    conversion. Idempotent: a type's builder is made anew (the schema's name converter and
    scalars may differ from the last schema's)."""
    compiler = _Compiler(schema)
    kept: list[str] = []
    for entry in schema.schema_converter.type_map.values():
        definition = entry.definition
        if not isinstance(definition, StrawberryObjectDefinition) or not definition.is_input:
            continue
        try:
            builder = compiler.builder(definition.origin)
        except _Unsupported:
            kept.append(definition.name)
            continue
        definition.from_input = builder
    return kept
