"""The GraphQL schema: `build_schema(settings)` and the SDL it prints."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import strawberry
from strawberry.extensions import (
    DisableIntrospection,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from gateway.schema.extensions import ErrorPolicy
from gateway.schema.mutation import Mutation
from gateway.schema.nodes import Customer, Invoice
from gateway.schema.query import Query
from gateway.schema.scalars import DECIMAL

__all__ = ["build_schema"]


def build_schema(*, introspection: bool = True) -> strawberry.Schema:
    """The schema. Extensions are passed as classes or factories, never instances: an instance
    shares its state across concurrent requests (see reference/hardening.md §2.3)."""
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        ErrorPolicy,
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=[Invoice, Customer],
        extensions=extensions,
        scalar_overrides={Decimal: DECIMAL},
        # Suggestions name fields a client did not ask for; pointless when the schema is hidden.
        config=StrawberryConfig(disable_field_suggestions=not introspection),
    )
