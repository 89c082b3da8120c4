"""The GraphQL schema: `build_schema(settings)` and the SDL it prints."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection, SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from gateway.context import GatewayContext
from gateway.documents import DocumentCache, cached_documents
from gateway.schema.cost import UpstreamCost
from gateway.schema.events import Subscription
from gateway.schema.extensions import ErrorPolicy, OperationNameRequired, fuse
from gateway.schema.input_building import install as install_input_builders
from gateway.schema.limits import refusal_code
from gateway.schema.mutation import Mutation
from gateway.schema.nodes import Customer, Invoice
from gateway.schema.plan import PlannedExecutor
from gateway.schema.query import Query
from gateway.schema.scalars import DATETIME, DECIMAL

__all__ = ["GatewaySchema", "SubscriptionNeedsAStream", "build_schema"]

logger = logging.getLogger("gateway.graphql")

#: graphql-core's hint, as `did_you_mean` writes it: names and enum values cannot hold a "?".
_SUGGESTION = re.compile(r" Did you mean [^?]*\?")


def _refusal(error: GraphQLError) -> bool:
    # As ErrorPolicy tells them apart: no path, and no exception but the client's document's.
    refused = isinstance(error.original_error, GraphQLError | ValueError | TypeError)
    return error.path is None and (error.original_error is None or refused)


class SubscriptionNeedsAStream(InvalidOperationTypeError):
    """A subscription sent to be run once (a GET, or a POST that accepts no stream)."""

    def as_http_error_reason(self, method: str) -> str:
        return (
            "A subscription needs a stream: send it with Accept: text/event-stream (GraphQL "
            "over SSE), or over the WebSocket (graphql-transport-ws)"
        )


class GatewaySchema(strawberry.Schema):
    @staticmethod
    def remove_field_suggestion(error: GraphQLError) -> None:
        # Strawberry calls this for every error when suggestions are off, but strips only the
        # "Cannot query field" hint; graphql-core also suggests argument, type, enum value and
        # input field names, each a piece of a schema that introspection hides.
        error.message = _SUGGESTION.sub("", error.message)

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        # A subscription is only ever subscribed to (a stream: SSE or the WebSocket); executed
        # once, as Strawberry would for a GET or POST without a stream, it answered a masked
        # error. Refused instead (InvalidOperationTypeError: 400, or the view's own words).
        allowed = set(allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES)
        allowed.discard(OperationType.SUBSCRIPTION)
        try:
            return await super().execute(
                query,
                variable_values=variable_values,
                context_value=context_value,
                root_value=root_value,
                operation_name=operation_name,
                allowed_operation_types=allowed,
                operation_extensions=operation_extensions,
            )
        except InvalidOperationTypeError as exc:
            if exc.operation_type is OperationType.SUBSCRIPTION:
                raise SubscriptionNeedsAStream(exc.operation_type) from None
            raise

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return fuse(execution_context, extensions)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Strawberry logs every error with its traceback, a refused query or a provider's 404
        # alike. ErrorPolicy already logs what an operator needs (a bug with its traceback and
        # request id, a provider failure in one line). A refused operation (no error has a
        # path: nothing ran) is one INFO line with its query; gateway.logs keeps such lines
        # short and few, as anyone can send them.
        if errors and all(_refusal(error) for error in errors):
            context = execution_context.context if execution_context else None
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            logger.info(
                "refused operation (%s, request %s): %s%s; query: %s",
                refusal_code(errors[0].message),
                context.request_id if isinstance(context, GatewayContext) else None,
                errors[0].message,
                more,
                (execution_context.query if execution_context else None) or "",
            )
            return
        for error in errors:
            logger.debug("graphql error: %s", error.message)


def build_schema(
    *,
    introspection: bool = True,
    limits: Sequence[Callable[[], SchemaExtension]] = (),
    documents: DocumentCache | None = None,
) -> strawberry.Schema:
    """The schema. Extensions are passed as classes or factories, never instances: an instance
    shares its execution context across concurrent requests, so one request's error can reach
    another's response (strawberry issue #4369). Parsed and validated documents are kept in
    `documents` (a `DocumentCache` of its default size when None)."""
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        ErrorPolicy,
        UpstreamCost,
        cached_documents(documents if documents is not None else DocumentCache()),
        OperationNameRequired,  # after the cache's validation, which sets the errors
    ]
    extensions.extend(limits)
    if not introspection:
        extensions.append(DisableIntrospection)
    schema = GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Invoice, Customer],
        extensions=extensions,
        scalar_overrides={Decimal: DECIMAL, dt.datetime: DATETIME},
        execution_context_class=PlannedExecutor,
        # Suggestions name fields a client did not ask for; pointless when the schema is hidden.
        config=StrawberryConfig(disable_field_suggestions=not introspection),
    )
    install_input_builders(schema)  # input objects built without Strawberry's per-call work
    return schema
