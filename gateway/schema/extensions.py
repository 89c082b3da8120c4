"""How errors leave the schema: coded, client-safe, and never a stack trace or a secret.

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

import inspect
import logging
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from types import TracebackType
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import OperationDefinitionNode
from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.types import ExecutionContext
from strawberry.types.execution import ExecutionResult

from gateway.context import GatewayContext
from gateway.errors import ErrorCode, GatewayError, code_for_provider_error
from gateway.schema.limits import refusal_code
from providers.errors import ProviderError

__all__ = [
    "MAX_ERRORS_PER_KIND",
    "ErrorPolicy",
    "FusedRunner",
    "OperationNameRequired",
    "cap_errors",
    "fuse",
    "shape_error",
]

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
            if result.errors:
                result.errors = cap_errors(list(result.errors))


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


#: Per extension class and hook name: its generator hook, or None when it keeps the default.
_HOOKS: dict[tuple[type[SchemaExtension], str], Callable[[SchemaExtension], Any] | None] = {}


def _generator_hook(cls: type[SchemaExtension], name: str) -> Callable[..., Any] | None:
    """`cls`'s own `name` hook when it is a plain generator function; None when `cls` keeps
    SchemaExtension's (nothing to run). Raises `_NotFusable` for any other kind of hook."""
    key = (cls, name)
    if key not in _HOOKS:
        hook = getattr(cls, name)
        if hook is getattr(SchemaExtension, name):
            _HOOKS[key] = None
        elif inspect.isgeneratorfunction(hook):
            _HOOKS[key] = hook
        else:
            raise _NotFusable(name)
    return _HOOKS[key]


class _NotFusable(Exception):
    """An extension hook that is not a generator function (async, or a plain callable)."""


def _close(hooks: list[Generator[None]], exc: BaseException | None) -> BaseException | None:
    """Resume each entered hook, innermost first, as `contextlib.ExitStack` would: each sees
    the exception of the block (or of the hook inside it), may handle it (by returning: the
    hooks outside it then see none) or raise another. Returns the exception left, if any."""
    for hook in reversed(hooks):
        if exc is None:
            try:
                next(hook)
            except StopIteration:
                continue
            except BaseException as raised:  # propagated by the caller
                exc = raised
                continue
            exc = RuntimeError("an extension hook did not stop after its one yield")
            continue
        try:
            hook.throw(exc)
        except StopIteration:
            exc = None  # the hook handled it
        except BaseException as raised:  # the same or another one
            exc = raised
        else:
            exc = RuntimeError("an extension hook did not stop after throw()")
    return exc


class _Phase:
    """One lifecycle hook (`on_operation`, `on_parse`, ...) of every extension of a request,
    run as plain generators: entered in order, resumed in reverse (`_close`)."""

    __slots__ = ("entered", "hooks", "name")

    def __init__(self, name: str, hooks: list[tuple[Callable[..., Any], SchemaExtension]]):
        self.name = name
        self.hooks = hooks
        self.entered: list[Generator[None]] = []

    def __enter__(self) -> None:
        for hook, extension in self.hooks:
            generator = hook(extension)
            try:
                next(generator)
            except StopIteration:
                self._abandon()
                raise RuntimeError(f"an extension's {self.name} hook did not yield") from None
            except BaseException:
                # As Strawberry's runner: the hooks entered so far never see this exception;
                # they are closed (their `finally` and `with` blocks run).
                self._abandon()
                raise
            self.entered.append(generator)

    def _abandon(self) -> None:
        for generator in reversed(self.entered):
            generator.close()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        left = _close(self.entered, exc)
        # As Strawberry's runner: a hook may replace the exception, never suppress it.
        if left is not None and left is not exc:
            raise left

    async def __aenter__(self) -> None:
        self.__enter__()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(kind, exc, tb)


class FusedRunner(SchemaExtensionsRunner):
    """Strawberry's extension runner, for extensions whose hooks are all generators: each
    phase resumes the hooks directly. Strawberry's own runner wraps every hook of every
    extension in a new `contextlib.contextmanager` and an `ExitStack` on every request (24
    wrappers for the gateway's 6 extensions, with `functools.update_wrapper` and `inspect`
    for each: about a quarter of a `{ __typename }` request's CPU). Same order, same
    exception semantics. `fuse` returns Strawberry's runner when some hook is not a generator.
    Streamed results (`on_stream_result`) keep Strawberry's runner."""

    def __init__(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> None:
        super().__init__(execution_context, extensions)
        self._plan = _plan(tuple(type(extension) for extension in extensions))

    def _phase(self, name: str) -> _Phase:
        extensions = self.extensions
        return _Phase(name, [(hook, extensions[i]) for hook, i in self._plan[name]])

    def operation(self) -> Any:
        return self._phase("on_operation")

    def parsing(self) -> Any:
        return self._phase("on_parse")

    def validation(self) -> Any:
        return self._phase("on_validate")

    def executing(self) -> Any:
        return self._phase("on_execute")


_PHASES = ("on_operation", "on_parse", "on_validate", "on_execute")
#: Per tuple of extension classes: each phase's hooks, with the index of their extension.
_PLANS: dict[
    tuple[type[SchemaExtension], ...], dict[str, list[tuple[Callable[..., Any], int]]]
] = {}
#: Schemas come with a few sets of extension classes; more (tests build many) start afresh.
_MAX_PLANS = 64


def _plan(
    kinds: tuple[type[SchemaExtension], ...],
) -> dict[str, list[tuple[Callable[..., Any], int]]]:
    plan = _PLANS.get(kinds)
    if plan is None:
        plan = {}
        for name in _PHASES:
            hooks = ((_generator_hook(kind, name), i) for i, kind in enumerate(kinds))
            plan[name] = [(hook, i) for hook, i in hooks if hook is not None]
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
            _HOOKS.clear()
        _PLANS[kinds] = plan
    return plan


def fuse(
    execution_context: ExecutionContext, extensions: list[SchemaExtension]
) -> SchemaExtensionsRunner:
    """A `FusedRunner` for `extensions`, or Strawberry's runner when one of their hooks is
    async or a plain callable (which only Strawberry's runner knows how to run)."""
    try:
        return FusedRunner(execution_context, extensions)
    except _NotFusable:
        return SchemaExtensionsRunner(execution_context, extensions)
