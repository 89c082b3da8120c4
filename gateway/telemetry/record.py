"""`RequestRecord`: what is known of the HTTP request being served, for its access line, its
metrics, its trace and every log line written while it runs.

`gateway.telemetry.middleware.Telemetry` makes one per request, current in a context variable
for everything the request runs (the view, resolvers, loaders, upstream calls); the view and the
schema fill in what they learn: the caller, the operation, its outcome.
"""

from __future__ import annotations

import os
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass

from graphql import DocumentNode, OperationDefinitionNode

__all__ = [
    "OK",
    "RequestRecord",
    "current_record",
    "describe_operation",
    "note_outcome",
    "request_id_from",
]

#: The outcome of a request that answered without an error.
OK = "OK"

_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}\Z")
#: An operation's name is kept to this many characters (then "…"): it is a metric label, a span
#: name and a field of every log line, and a client's document may name it with a megabyte.
MAX_OPERATION_NAME_CHARS = 100


def request_id_from(given: bytes) -> str:
    """The caller's `x-request-id` when it is short and plain (it is echoed and logged), else
    128 random bits as 32 hex digits (uuid4().hex's form at a fifth of its cost)."""
    return given.decode("ascii") if _REQUEST_ID.match(given) else os.urandom(16).hex()


@dataclass(slots=True)
class RequestRecord:
    request_id: str
    method: str
    path: str
    #: `host:port` of the client as the server saw it.
    client: str = "-"
    #: `time.perf_counter()` when the request arrived.
    started: float = 0.0
    #: The caller's name (never its key); None when anonymous.
    caller: str | None = None
    #: The operation's name ("" when it has none) and type; None until it is known.
    operation: str | None = None
    operation_type: str | None = None
    #: OK, or the code of the first error the response carries.
    outcome: str | None = None
    #: Whether the operation was executed (False: refused before it ran, or no operation).
    executed: bool = False
    #: The HTTP status answered (0 until the response starts).
    status: int = 0
    #: What a keyed createInvoice found (`gateway.telemetry.metrics`: created, replayed, ...).
    idempotency: str | None = None
    #: (provider, code) of each provider that failed inside an answer others completed.
    partial: list[tuple[str, str]] | None = None

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000.0

    def operation_label(self) -> str | None:
        """`query ListInvoices` (its type, then its name when it has one), None if unknown."""
        if self.operation_type is None:
            return None
        return f"{self.operation_type} {self.operation}" if self.operation else self.operation_type

    def learn_operation(self, document: DocumentNode | None, name: str | None) -> None:
        """The name and type of the operation `name` selects in `document` (when it does); a
        name over MAX_OPERATION_NAME_CHARS is cut."""
        if self.operation_type is None and document is not None:
            operation, self.operation_type = describe_operation(document, name)
            if operation is not None and len(operation) > MAX_OPERATION_NAME_CHARS:
                operation = operation[:MAX_OPERATION_NAME_CHARS] + "…"
            self.operation = operation


_CURRENT: ContextVar[RequestRecord | None] = ContextVar("invoice_gateway_request", default=None)


def current_record() -> RequestRecord | None:
    """The record of the request this task serves, or None outside one."""
    return _CURRENT.get()


def note_outcome(code: str) -> None:
    """The current request was answered with an error coded `code` (the first one counts)."""
    record = _CURRENT.get()
    if record is not None and record.outcome is None:
        record.outcome = code


def describe_operation(document: DocumentNode, name: str | None) -> tuple[str | None, str | None]:
    """(name, type) of the operation `name` selects in `document`: its name is "" when it has
    none; (None, None) when `name` selects nothing."""
    found: OperationDefinitionNode | None = None
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if name is None:
            if found is not None:
                return None, None  # several operations and no name: nothing is selected
            found = definition
        elif definition.name is not None and definition.name.value == name:
            found = definition
            break
    if found is None:
        return None, None
    return (found.name.value if found.name else ""), found.operation.value
