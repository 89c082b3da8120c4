"""The GraphQL schema: `build_schema(settings)` and the SDL it prints."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Sequence
from decimal import Decimal

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from gateway.schema.extensions import ErrorPolicy
from gateway.schema.mutation import Mutation
from gateway.schema.nodes import Customer, Invoice
from gateway.schema.query import Query
from gateway.schema.scalars import DATETIME, DECIMAL

__all__ = ["GatewaySchema", "build_schema"]

logger = logging.getLogger("gateway.graphql")

#: graphql-core's hint, as `did_you_mean` writes it: names and enum values cannot hold a "?".
_SUGGESTION = re.compile(r" Did you mean [^?]*\?")


class GatewaySchema(strawberry.Schema):
    @staticmethod
    def remove_field_suggestion(error: GraphQLError) -> None:
        # Strawberry calls this for every error when suggestions are off, but strips only the
        # "Cannot query field" hint; graphql-core also suggests argument, type, enum value and
        # input field names, each a piece of a schema that introspection hides.
        error.message = _SUGGESTION.sub("", error.message)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Strawberry logs every error with its traceback, a refused query or a provider's 404
        # alike. ErrorPolicy already logs what an operator needs (a bug with its traceback and
        # request id, a provider failure in one line); the rest is the client's business.
        for error in errors:
            logger.debug("graphql error: %.200s", error.message)


def build_schema(
    *, introspection: bool = True, limits: Sequence[Callable[[], SchemaExtension]] = ()
) -> strawberry.Schema:
    """The schema. Extensions are passed as classes or factories, never instances: an instance
    shares its state across concurrent requests (see reference/hardening.md §2.3)."""
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        ErrorPolicy,
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ]
    extensions.extend(limits)
    if not introspection:
        extensions.append(DisableIntrospection)
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        types=[Invoice, Customer],
        extensions=extensions,
        scalar_overrides={Decimal: DECIMAL, dt.datetime: DATETIME},
        # Suggestions name fields a client did not ask for; pointless when the schema is hidden.
        config=StrawberryConfig(disable_field_suggestions=not introspection),
    )
