"""The estimate at work: `UpstreamCost`, the schema extension that counts an operation's upstream
calls, refuses it before it runs when its estimate is over GATEWAY_MAX_COST (`too_costly`), and
reports `extensions.cost`; estimates are remembered per document, operation and variables."""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import DocumentNode, FragmentDefinitionNode, GraphQLError
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from gateway.context import GatewayContext
from gateway.errors import ErrorCode
from gateway.schema.cost.model import MAX_VISITS
from gateway.schema.cost.walk import estimate
from gateway.settings import GatewaySettings
from gateway.telemetry.record import current_record
from providers.base import InvoiceProvider
from providers.calls import counting

__all__ = ["UpstreamCost", "too_costly"]


def too_costly(estimated: int | None, limit: int) -> GraphQLError:
    if estimated is None:
        message = (
            f"The operation is too large to estimate (over {MAX_VISITS} fields once its "
            "fragments are expanded): split it"
        )
    else:
        message = (
            f"The operation may make {estimated} upstream calls; the limit is {limit} "
            "(GATEWAY_MAX_COST): ask for fewer items (a smaller `first`), fewer nested "
            "connections, or split it"
        )
    return GraphQLError(
        message,
        extensions={
            "code": ErrorCode.QUERY_TOO_COSTLY.value,
            "cost": {"estimated": estimated, "limit": limit},
        },
    )


class UpstreamCost(SchemaExtension):
    """Counts the operation's upstream calls (`providers.calls`, with its caller and its
    GATEWAY_MAX_UPSTREAM_CALLS), refuses it before execution when its estimate is over
    GATEWAY_MAX_COST (QUERY_TOO_COSTLY: nothing reaches a provider), and reports
    `extensions.cost = {estimated, actual}` on every response."""

    def __init__(self) -> None:
        super().__init__()
        self.estimated: int | None = 0

    def _context(self) -> GatewayContext | None:
        context = self.execution_context.context
        return context if isinstance(context, GatewayContext) else None

    def on_operation(self) -> Iterator[None]:
        context = self._context()
        if context is None:
            yield
            return
        with counting(context.calls):
            yield
        record = current_record()
        if record is not None:
            execution = self.execution_context
            record.learn_operation(execution.graphql_document, execution.operation_name)

    def on_execute(self) -> Iterator[None]:
        context = self._context()
        document = self.execution_context.graphql_document
        if context is not None and document is not None and not self.execution_context.result:
            name = self.execution_context.operation_name
            key = _key(document, name, self.execution_context.variables)
            known, estimated = _remembered(key, document, context)
            if not known:
                operation = get_operation_ast(document, name)
                if operation is None:
                    yield
                    return
                fragments = {
                    d.name.value: d
                    for d in document.definitions
                    if isinstance(d, FragmentDefinitionNode)
                }
                found = estimate(
                    self.execution_context.schema._schema,
                    operation,
                    fragments,
                    self.execution_context.variables,
                    providers=context.providers,
                    settings=context.settings,
                )
                estimated = None if found is None else found.total
                _remember(key, document, context, estimated)
            self.estimated = estimated
            limit = context.settings.max_cost
            if limit and (estimated is None or estimated > limit):
                self.execution_context.result = GraphQLExecutionResult(
                    data=None, errors=[too_costly(estimated, limit)]
                )
        if not self.execution_context.result and (record := current_record()) is not None:
            record.executed = True
        yield

    def get_results(self) -> dict[str, Any]:
        context = self._context()
        if context is None:
            return {}
        return {"cost": {"estimated": self.estimated, "actual": context.calls.made}}


#: Variables whose JSON is longer than this are walked every time rather than kept.
MAX_KEPT_VARIABLES_CHARS = 512
#: Estimates kept at once, over every document (the oldest goes first): bounded in all,
#: whatever number of documents and variables clients send.
MAX_KEPT_ESTIMATES = 4096

_Key = tuple[int, str | None, str | None]

#: The estimates, which depend on nothing but the document, the operation's name, its
#: variables, the providers and the settings: by (the document's id, the operation's name, the
#: variables as sorted JSON or None without any), with a weak reference to the document (so a
#: reused id is not mistaken for it), the providers and settings the estimate was made for, and
#: the estimate (None: too large). A repeated query is walked once, not on every request: with
#: its variables too, as typed clients send every operation (their `after` cursors make new
#: keys). At most MAX_KEPT_ESTIMATES, in the order they were made.
_ESTIMATES: dict[
    _Key,
    tuple[weakref.ref[DocumentNode], Mapping[str, InvoiceProvider], GatewaySettings, int | None],
] = {}


def _key(
    document: DocumentNode, name: str | None, variables: Mapping[str, Any] | None
) -> _Key | None:
    """Where the estimate of this operation is kept; None when its variables are too long to
    keep (it is walked every time)."""
    if not variables:
        return id(document), name, None
    try:
        # json, not msgspec: it writes NaN as NaN (json.loads reads it), not as null.
        encoded = json.dumps(variables, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):  # pragma: no cover - a request's JSON always encodes
        return None
    return (id(document), name, encoded) if len(encoded) <= MAX_KEPT_VARIABLES_CHARS else None


def _remembered(
    key: _Key | None, document: DocumentNode, context: GatewayContext
) -> tuple[bool, int | None]:
    kept = None if key is None else _ESTIMATES.get(key)
    if (
        kept is None
        or kept[0]() is not document
        or kept[1] is not context.providers
        or kept[2] is not context.settings
    ):
        return False, None
    return True, kept[3]


def _remember(
    key: _Key | None, document: DocumentNode, context: GatewayContext, estimated: int | None
) -> None:
    if key is None:
        return
    while len(_ESTIMATES) >= MAX_KEPT_ESTIMATES:
        del _ESTIMATES[next(iter(_ESTIMATES))]
    _ESTIMATES[key] = (weakref.ref(document), context.providers, context.settings, estimated)
