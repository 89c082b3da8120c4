"""How errors leave the schema: coded, client-safe, and never a stack trace or a secret.

- A `GatewayError` keeps its message and `extensions` (code, field, provider).
- A `ProviderError` becomes its message (written for clients; it never holds a key) with
  `extensions.code` and `extensions.provider`.
- A parse or validation error, or a variable its scalar cannot read, keeps its message and gets
  `GRAPHQL_VALIDATION_FAILED`.
- Anything else is a bug: logged with its traceback and the request id, and shown only as
  "Unexpected error." with `INTERNAL_SERVER_ERROR` and the request id.
Errors collected for partial data (`GatewayContext.partial_errors`) are appended here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types.execution import ExecutionResult

from gateway.context import GatewayContext
from gateway.errors import ErrorCode, GatewayError, code_for_provider_error
from providers.errors import ProviderError

__all__ = ["ErrorPolicy"]

logger = logging.getLogger("gateway.errors")


class ErrorPolicy(MaskErrors):
    def __init__(self) -> None:
        super().__init__()

    def _request_id(self) -> str | None:
        context = self.execution_context.context
        return context.request_id if isinstance(context, GatewayContext) else None

    def _shape(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        # No path: the request itself was refused before any resolver ran (syntax, validation,
        # a variable its scalar could not read); the message is about the client's document.
        request_level = error.path is None and not isinstance(original, GatewayError)
        if original is None or request_level or isinstance(original, GatewayError):
            if not isinstance(original, GatewayError) and not (error.extensions or {}).get("code"):
                error.extensions = {
                    **(error.extensions or {}),
                    "code": ErrorCode.GRAPHQL_VALIDATION_FAILED.value,
                }
            return error
        if isinstance(original, ProviderError):
            logger.warning(
                "%s failed: %s (%s, request %s)",
                original.provider,
                original.message,
                code_for_provider_error(original).value,
                self._request_id(),
            )
            return GraphQLError(
                original.message,
                nodes=error.nodes,
                path=error.path,
                extensions={
                    "code": code_for_provider_error(original).value,
                    "provider": original.provider,
                },
            )
        request_id = self._request_id()
        logger.error(
            "unexpected error in %s (request %s)",
            ".".join(str(part) for part in error.path or ()),
            request_id,
            exc_info=original,
        )
        return GraphQLError(
            "Unexpected error.",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": ErrorCode.INTERNAL_SERVER_ERROR.value, "requestId": request_id},
        )

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._shape(error) for error in errors]

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        context = self.execution_context.context
        if isinstance(result, GraphQLExecutionResult | ExecutionResult):
            if result.errors:
                result.errors = self._process_errors(list(result.errors))
            if isinstance(context, GatewayContext) and context.partial_errors:
                result.errors = [*(result.errors or []), *context.partial_errors]
