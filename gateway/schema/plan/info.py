"""What a compiled plan runs with and how it gives up: `PlanInfo`, the `info` a plain resolver
gets; `Unplanned`, raised when a plan cannot answer a value (graphql-core then executes the
field); and the types the other plan modules share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql.execution.collect_fields import FieldDetails
from strawberry.schema.schema_converter import GraphQLCoreConverter

__all__ = [
    "DEFINITION",
    "FieldDetailsList",
    "GroupedFieldSet",
    "PlanInfo",
    "Planned",
    "Unplanned",
]

#: One planned field: its value from the parent object and the request's `PlanInfo`.
Planned = Callable[[Any, "PlanInfo"], Any]
FieldDetailsList = list[FieldDetails]
GroupedFieldSet = dict[str, FieldDetailsList]

#: Where a GraphQL field or type keeps the Strawberry definition it was made from.
DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF


class Unplanned(Exception):
    """The plan cannot answer this value: graphql-core executes the field instead."""


class PlanInfo:
    """What a plain resolver gets as `info`: the request's context, nothing else."""

    __slots__ = ("context",)

    def __init__(self, context: Any) -> None:
        self.context = context

    def __getattr__(self, name: str) -> Any:
        # Not an AttributeError: `getattr(info, name, default)` must not quietly differ.
        raise Unplanned(f"info.{name} is not available to a planned field")
