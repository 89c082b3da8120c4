"""Input objects built by `gateway.schema.input_building` are the objects Strawberry's own
conversion builds: for every input type of the schema, with every field sent, with only the
required ones, and with every nullable one null; nested inputs and lists included."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    coerce_input_value,
)
from strawberry.types.arguments import convert_argument
from strawberry.types.base import StrawberryObjectDefinition

from gateway.schema import build_schema
from gateway.schema.input_building import install

SCHEMA = build_schema()
INPUTS = sorted(
    (entry.definition for entry in SCHEMA.schema_converter.type_map.values()),
    key=lambda definition: definition.name,
)
INPUTS = [d for d in INPUTS if isinstance(d, StrawberryObjectDefinition) and d.is_input]

SCALARS = {
    "String": "text",
    "ID": "an-id",
    "Int": 3,
    "Float": 1.5,
    "Boolean": False,
    "Decimal": "12.50",
    "DateTime": "2026-01-02T03:04:05Z",
}


def _value(type_: GraphQLInputType, shape: str) -> Any:
    """An input value of `type_` as a client sends it (JSON): `full` sends every field,
    `required` only the non-null ones, `nulls` null for every nullable one."""
    if isinstance(type_, GraphQLNonNull):
        return _value(type_.of_type, shape)
    if isinstance(type_, GraphQLList):
        return [_value(type_.of_type, shape), _value(type_.of_type, shape)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLScalarType):
        return SCALARS[type_.name]
    assert isinstance(type_, GraphQLInputObjectType)
    value: dict[str, Any] = {}
    for name, field in type_.fields.items():
        required = isinstance(field.type, GraphQLNonNull)
        if shape == "full" or required:
            value[name] = _value(field.type, shape)
        elif shape == "nulls":
            value[name] = None
    return value


@contextmanager
def strawberry_conversion(definitions: list[StrawberryObjectDefinition]) -> Iterator[None]:
    """Strawberry's own conversion for the while: every builder taken off, then put back."""
    saved = [(d, d.from_input) for d in definitions]
    for definition in definitions:
        definition.from_input = None
    try:
        yield
    finally:
        for definition, builder in saved:
            definition.from_input = builder


def test_every_input_type_of_the_schema_gets_a_builder() -> None:
    assert INPUTS, "the schema has input types"
    assert install(SCHEMA) == []
    assert all(definition.from_input is not None for definition in INPUTS)


@pytest.mark.parametrize("shape", ["full", "required", "nulls"])
@pytest.mark.parametrize("definition", INPUTS, ids=lambda definition: definition.name)
def test_a_built_input_is_the_one_strawberry_builds(
    definition: StrawberryObjectDefinition, shape: str
) -> None:
    graphql_type = SCHEMA._schema.get_type(definition.name)
    assert isinstance(graphql_type, GraphQLInputObjectType)
    # What a resolver's arguments hold: the client's JSON as graphql-core coerces it.
    value = coerce_input_value(_value(graphql_type, shape), graphql_type)
    registry, config = SCHEMA.schema_converter.scalar_registry, SCHEMA.config
    ours = convert_argument(value, definition.origin, registry, config)
    with strawberry_conversion(INPUTS):
        theirs = convert_argument(value, definition.origin, registry, config)
    assert type(ours) is type(theirs) is definition.origin
    assert ours == theirs
    assert repr(ours) == repr(theirs)  # the same field values, nested ones included


@strawberry.input
class Odd:
    """An input with a field the builders leave to Strawberry (it decodes a GlobalID)."""

    node: strawberry.relay.GlobalID | None = None


@strawberry.type
class OddQuery:
    @strawberry.field
    def echo(self, odd: Odd) -> str:
        return str(odd.node)


def test_a_type_the_builders_do_not_know_keeps_strawberrys_conversion() -> None:
    schema = strawberry.Schema(query=OddQuery)
    assert install(schema) == ["Odd"]
    assert Odd.__strawberry_definition__.from_input is None  # type: ignore[attr-defined]
    result = schema.execute_sync('{ echo(odd: { node: "VHlwZToxMjM=" }) }')
    assert result.errors is None
    assert result.data == {"echo": "VHlwZToxMjM="}
