"""`OperationNameRequired`: a document with several operations runs only the one its request
names."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import OperationDefinitionNode
from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension

__all__ = ["MISSING_OPERATION_NAME", "OperationNameRequired"]


#: graphql-core's message for the same rule (its `execute` applies it, but Strawberry passes
#: it the first operation's name when the request named none).
MISSING_OPERATION_NAME = "Must provide operationName if the document contains multiple operations."


class OperationNameRequired(SchemaExtension):
    """A document with several operations runs only the one its request names (the GraphQL
    spec's GetOperation): without `operationName` it is refused like a validation error, over
    HTTP and WebSocket alike, before anything runs. Strawberry would run the first."""

    def on_validate(self) -> Iterator[None]:
        # Before validation proper: Strawberry checks the validation errors inside this hook's
        # span, so this must run after ValidationCache's (which sets them) and before the yield.
        context = self.execution_context
        document = context.graphql_document
        # Strawberry keeps what the request sent apart from the name it derives; should that
        # attribute go away, every multi-operation document is refused (never the first run).
        named = getattr(context, "_provided_operation_name", None) is not None
        if document is not None and not named:
            operations = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
            if operations > 1:
                error = GraphQLError(MISSING_OPERATION_NAME)
                context.pre_execution_errors = [*(context.pre_execution_errors or ()), error]
        yield
