"""Reading a GraphQL request over HTTP, as the view (`gateway.view`) does before Strawberry:
which POSTs it answers itself, their fields refused as Strawberry refuses them, and the coded
answer to a request Strawberry cannot read."""

from __future__ import annotations

import re
from typing import Any

from cross_web import HTTPException  # what strawberry.asgi catches and answers with
from starlette.responses import JSONResponse

from gateway.telemetry.record import note_outcome

__all__ = [
    "lone_surrogate",
    "operation_name",
    "plain_json_post",
    "request_fields",
    "text_only",
    "unreadable",
]

#: The code of a request Strawberry cannot read, by its HTTP status.
_UNREADABLE_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


#: A JSON escape of a UTF-16 surrogate (`\\ud800`): JSON allows one alone, Unicode does not.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")


def lone_surrogate(raw: str | bytes, value: object) -> str | None:
    """Where in `value` (the JSON `raw` decoded) a string holds a lone surrogate, as a path
    (`variables.f`), or None. Python reads `"\\ud800"` into a string that cannot be encoded as
    UTF-8, hashed or answered: the request is refused before anything reads it. Only a body
    that escapes a surrogate is walked."""
    pattern = _SURROGATE_ESCAPE_BYTES if isinstance(raw, bytes) else _SURROGATE_ESCAPE
    if pattern.search(raw) is None:  # type: ignore[arg-type]
        return None
    stack: list[tuple[str, object]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if not _is_unicode(item):
                return path or "the body"
        elif isinstance(item, dict):
            for key, child in item.items():
                if not _is_unicode(key):
                    return f"{path}.<key>" if path else "a key"
                stack.append((f"{path}.{key}" if path else key, child))
        elif isinstance(item, list):
            stack.extend((f"{path}[{n}]", child) for n, child in enumerate(item))
    return None  # pairs only (one character each), or an escaped backslash before `ud800`


def text_only(raw: str | bytes, value: object) -> object:
    """`value` (the JSON `raw` decoded); raises 400, naming the field, when it holds a lone
    surrogate (`lone_surrogate`)."""
    where = lone_surrogate(raw, value)
    if where is not None:
        raise HTTPException(
            400,
            f"`{where[:100]}` holds a lone surrogate (a \\uD800-\\uDFFF escape without its "
            "pair): a JSON string must be Unicode text",
        )
    return value


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def plain_json_post(raw: list[tuple[bytes, bytes]]) -> dict[bytes, bytes] | None:
    """The headers (the first of each name) when the content type is exactly
    `application/json` (parameters aside) and no `accept` header asks for a stream (SSE,
    multipart), else None: Strawberry reads every other one."""
    headers: dict[bytes, bytes] = {}
    for name, value in raw:
        if name == b"accept" and (b"text/event-stream" in value or b"multipart/" in value):
            return None
        headers.setdefault(name, value)
    kind = headers.get(b"content-type")
    if kind is None or kind.split(b";", 1)[0].strip() != b"application/json":
        return None
    return headers


def request_fields(
    data: dict[str, Any],
) -> tuple[str | None, dict[str, Any] | None, dict[str, Any] | None]:
    """`query`, `variables` and `extensions` of a request, refused as Strawberry refuses them."""
    query = data.get("query")
    if not isinstance(query, str | None):
        raise HTTPException(
            400, "The GraphQL operation's `query` must be a string or null, if provided."
        )
    variables = data.get("variables")
    if not isinstance(variables, dict | None):
        raise HTTPException(
            400, "The GraphQL operation's `variables` must be an object or null, if provided."
        )
    extensions = data.get("extensions")
    if not isinstance(extensions, dict | None):
        raise HTTPException(
            400, "The GraphQL operation's `extensions` must be an object or null, if provided."
        )
    return query, variables, extensions


def operation_name(data: dict[str, Any]) -> str | None:
    """`operationName`, which must be a string or null (Strawberry passes anything on, and a
    number or an object was answered as an unknown operation named by its Python form)."""
    name = data.get("operationName")
    if not isinstance(name, str | None):
        raise HTTPException(
            400, "The GraphQL operation's `operationName` must be a string or null, if provided."
        )
    return name


def unreadable(exc: HTTPException, request_id: str | None) -> JSONResponse:
    """A request Strawberry cannot read, answered with a coded GraphQL error."""
    code = getattr(exc, "code", None)  # a coded refusal (gateway.persisted.PersistedRefusal)
    if not isinstance(code, str):
        code = _UNREADABLE_CODES.get(exc.status_code, "BAD_REQUEST")
    extensions = {"code": code}
    note_outcome(code)
    # A coded refusal's own headers (a persisted query's 404 is never to be cached: a CDN
    # would keep answering it once the query is registered).
    headers: dict[str, str] = dict(getattr(exc, "headers", None) or {})
    if request_id:
        extensions["requestId"] = headers["X-Request-ID"] = request_id
    return JSONResponse(
        {"errors": [{"message": exc.reason, "extensions": extensions}]},
        status_code=exc.status_code,
        headers=headers,
    )
