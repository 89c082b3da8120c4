"""How errors leave the schema (`ErrorPolicy`, `shape_error`): coded, client-safe, and never a
stack trace or a secret.

- A `GatewayError` keeps its message and `extensions` (code, field, provider).
- A `ProviderError` becomes its message (written for clients; it never holds a key) with
  `extensions.code` and `extensions.provider`.
- A parse or validation error, or a variable its scalar cannot read, keeps its message and gets
  `GRAPHQL_VALIDATION_FAILED`.
- Anything else is a bug: logged with its traceback and the request id, and shown only as
  "Unexpected error." with `INTERNAL_SERVER_ERROR` and the request id.
Errors collected for partial data (`GatewayContext.partial_errors`) are appended here.

A provider that fails fails every field that needs it: a response keeps the first
`MAX_ERRORS_PER_KIND` errors of one code from one provider, each with its path, and says how
many more there were in one error of that code (`extensions.omitted`, no path) instead of
sending them all (one request once answered 7,858 PROVIDER_BUSY errors, 2.6 MB).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.types.execution import ExecutionResult

from gateway.context import GatewayContext
from gateway.errors import ErrorCode, GatewayError, code_for_provider_error
from gateway.schema.limits import refusal_code
from gateway.telemetry.record import current_record
from providers.errors import ProviderError

__all__ = ["MAX_ERRORS_PER_KIND", "ErrorPolicy", "cap_errors", "shape_error"]

logger = logging.getLogger("gateway.errors")
#: One line per failed provider call (gateway.logs limits how many a second get through).
provider_logger = logging.getLogger("gateway.providers")

#: Errors of one code from one provider a response carries with their paths.
MAX_ERRORS_PER_KIND = 10


def cap_errors(errors: list[GraphQLError]) -> list[GraphQLError]:
    """At most `MAX_ERRORS_PER_KIND` errors per (code, provider), then one that counts the rest.
    Errors that name no provider are all kept (each is about the client's own input)."""
    kept: list[GraphQLError] = []
    seen: Counter[tuple[str, str]] = Counter()
    for error in errors:
        extensions = error.extensions or {}
        code, provider = extensions.get("code"), extensions.get("provider")
        if not isinstance(code, str) or not isinstance(provider, str):
            kept.append(error)
            continue
        seen[(code, provider)] += 1
        if seen[(code, provider)] <= MAX_ERRORS_PER_KIND:
            kept.append(error)
    for (code, provider), count in seen.items():
        if count > MAX_ERRORS_PER_KIND:
            omitted = count - MAX_ERRORS_PER_KIND
            kept.append(
                GraphQLError(
                    f"{omitted} more {code} errors from {provider} are left out of this "
                    "response: the fields they were for are null",
                    extensions={"code": code, "provider": provider, "omitted": omitted},
                )
            )
    return kept


def shape_error(
    error: GraphQLError, request_id: str | None, *, log_provider: bool = True
) -> GraphQLError:
    """The client-safe form of `error`; an error that already has a code is left as it is.
    A provider's failure is logged (one WARNING line) unless `log_provider` is false."""
    if (error.extensions or {}).get("code"):
        return error
    original = error.original_error
    if isinstance(original, GatewayError):
        return error
    if isinstance(original, ProviderError):
        code = code_for_provider_error(original).value
        if log_provider:
            provider_logger.warning(
                "%s failed: %s (%s, request %s)",
                original.provider,
                original.message,
                code,
                request_id,
            )
        return GraphQLError(
            original.message,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": code, "provider": original.provider},
        )
    if isinstance(original, CannotGetOperationTypeError):
        # operationName names no operation of the document: over HTTP Strawberry answers 400
        # before anything runs; over WebSocket the same refusal reaches the client here.
        return GraphQLError(
            original.as_http_error_reason(), nodes=error.nodes, extensions={"code": "BAD_REQUEST"}
        )
    # No exception, or no path and a scalar's refusal (graphql-core wraps it in a GraphQLError):
    # the request itself was refused (syntax, validation, a variable its scalar could not read),
    # and the message is about the client's own document. Anything else is a bug, wherever it
    # was raised.
    refused_variable = isinstance(original, GraphQLError | ValueError | TypeError)
    if original is None or (error.path is None and refused_variable):
        error.extensions = {**(error.extensions or {}), "code": refusal_code(error.message)}
        return error
    logger.error(
        "unexpected error in %s (request %s)",
        ".".join(str(part) for part in error.path or ()) or "the operation",
        request_id,
        exc_info=original,
    )
    return GraphQLError(
        "Unexpected error.",
        nodes=error.nodes,
        path=error.path,
        extensions={"code": ErrorCode.INTERNAL_SERVER_ERROR.value, "requestId": request_id},
    )


class ErrorPolicy(MaskErrors):
    """Shapes every error of a response (`shape_error`), appends the partial errors and caps
    them per code and provider (`cap_errors`)."""

    def __init__(self) -> None:
        super().__init__()

    def _request_id(self) -> str | None:
        context = self.execution_context.context
        return context.request_id if isinstance(context, GatewayContext) else None

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        # A provider's failure is logged as often as the response shows it (`cap_errors`).
        request_id = self._request_id()
        logged: Counter[tuple[type[ProviderError], str]] = Counter()
        shaped = []
        for error in errors:
            original = error.original_error
            if isinstance(original, ProviderError):
                logged[(type(original), original.provider)] += 1
                quiet = logged[(type(original), original.provider)] > MAX_ERRORS_PER_KIND
                shaped.append(shape_error(error, request_id, log_provider=not quiet))
            else:
                shaped.append(shape_error(error, request_id))
        return shaped

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        context = self.execution_context.context
        if isinstance(result, GraphQLExecutionResult | ExecutionResult):
            if result.errors:
                result.errors = self._process_errors(list(result.errors))
            if isinstance(context, GatewayContext) and context.partial_errors:
                result.errors = [*(result.errors or []), *context.partial_errors]
                _log_partial(context)
            if result.errors:
                result.errors = cap_errors(list(result.errors))


def _log_partial(context: GatewayContext) -> None:
    """One WARNING per provider that failed inside an answer others completed (partial data),
    however many fields it failed, and one count each (`gateway.telemetry.metrics`)."""
    failed: dict[str, str] = {}
    for error in context.partial_errors:
        extensions = error.extensions or {}
        provider = str(extensions.get("provider", "?"))
        if provider not in failed:
            failed[provider] = str(extensions.get("code", ""))
            provider_logger.warning(
                "partial answer: %s failed (%s): %s [request %s]",
                provider,
                failed[provider],
                error.message,
                context.request_id,
            )
    record = current_record()
    if record is not None:
        record.partial = list(failed.items())
