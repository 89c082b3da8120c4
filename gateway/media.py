"""The media type of a GraphQL answer over HTTP, and its status, as the GraphQL-over-HTTP spec
says (https://graphql.github.io/graphql-over-http/draft/#sec-Body).

A client that accepts `application/graphql-response+json` (before `application/json`, by its
`Accept` order and q-values) gets it, and then a request refused before it ran (a document that
does not parse or validate, a limit, the cost, an operation that cannot be chosen, variables
that cannot be read) is 400 without a `data` entry (500 for a masked bug), while an operation
that ran is 200 even with errors. `application/json` (also for `*/*` and without `Accept`: the
spec's legacy clients) keeps 200 with errors. An `Accept` that allows neither is 406; one that
asks for a stream (SSE, multipart) is left to Strawberry, which streams.
"""

from __future__ import annotations

import functools
from enum import Enum
from typing import Any

from starlette.responses import JSONResponse, Response
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from gateway.errors import ErrorCode
from gateway.telemetry.record import note_outcome

__all__ = [
    "CONTENT_TYPES",
    "GRAPHQL_RESPONSE_JSON",
    "Media",
    "conform",
    "label",
    "negotiate",
    "not_acceptable",
    "streams",
]

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
_JSON = "application/json"


class Media(Enum):
    """What the answer to a request is."""

    #: `application/json`: 200 for every well-formed request, errors or not (today's answer).
    JSON = _JSON
    #: `application/graphql-response+json`: 4xx (no `data`) for a request refused before it ran.
    GRAPHQL_RESPONSE = GRAPHQL_RESPONSE_JSON


#: The Content-Type of each (the spec asks a server to name the encoding).
CONTENT_TYPES = {
    Media.JSON: _JSON,
    Media.GRAPHQL_RESPONSE: f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8",
}


def streams(accept: str | bytes | None) -> bool:
    """Whether the request asks for a stream, by the test `gateway.requests.plain_json_post`
    (and Strawberry's stream transports) apply: such an answer is Strawberry's to choose."""
    if not accept:
        return False
    if isinstance(accept, bytes):
        accept = accept.decode("latin-1")
    return "text/event-stream" in accept or "multipart/" in accept


def negotiate(accept: str | bytes | None) -> Media | None:
    """The media type to answer in, or None when `accept` allows none (406).

    Each media type takes the q-value of the most specific range that matches it (RFC 9110
    12.5.1); the higher wins, then an exact range over a wildcard, then the one listed first. A
    wildcard alone (`*/*`, `application/*`) or no header means `application/json`, as the spec
    says of legacy clients; a range with q=0 refuses its type."""
    if accept is None:
        return Media.JSON
    if isinstance(accept, bytes):
        accept = accept.decode("latin-1")
    return _negotiate(accept)


@functools.lru_cache(maxsize=256)
def _negotiate(accept: str) -> Media | None:
    ranges = _ranges(accept)
    if not ranges:
        return Media.JSON  # an empty header: as good as none
    best: tuple[float, int, int] | None = None
    chosen: Media | None = None
    # application/json first: it wins a tie on the same wildcard (the legacy default).
    for media in (Media.JSON, Media.GRAPHQL_RESPONSE):
        rank = _rank(media.value, ranges)
        if rank is not None and rank[0] > 0 and (best is None or rank > best):
            best, chosen = rank, media
    return chosen


#: (type, subtype, q) of each range of an Accept header, in its order.
_Range = tuple[str, str, float]


def _ranges(accept: str) -> list[_Range]:
    ranges: list[_Range] = []
    for item in accept.split(",")[:64]:  # a header is bounded; its work is too
        kind, *params = item.split(";")
        kind = kind.strip().lower()
        if not kind:
            continue
        major, _, minor = kind.partition("/")
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0  # unreadable: this range offers nothing
                if not 0.0 <= q <= 1.0:
                    q = 0.0
        ranges.append((major.strip(), minor.strip(), q))
    return ranges


def _rank(media: str, ranges: list[_Range]) -> tuple[float, int, int] | None:
    """(q, specificity, -position) of the most specific range of `ranges` matching `media`."""
    major, minor = media.split("/")
    found: tuple[int, float, int] | None = None
    for position, (kind, sub, q) in enumerate(ranges):
        if kind == major and sub == minor:
            specificity = 2
        elif kind == major and sub == "*":
            specificity = 1
        elif kind == "*" and sub == "*":
            specificity = 0
        else:
            continue
        if found is None or specificity > found[0]:
            found = (specificity, q, position)
    if found is None:
        return None
    specificity, q, position = found
    return (q, specificity, -position)


def conform(answer: GraphQLHTTPResponse, result: ExecutionResult, media: Media | None) -> int:
    """The status of `answer` (the shaped `result`) in `media`. In graphql-response+json, an
    answer that ran nothing (no `data`, no error with a path) is 400, or 500 for a masked bug,
    and loses its `data` entry (the GraphQL spec: a request error has none); else 200."""
    if media is not Media.GRAPHQL_RESPONSE or result.data is not None or not result.errors:
        return 200
    if any(error.path for error in result.errors):
        return 200  # a field error that nulled the whole answer: it ran
    answer.pop("data", None)
    codes = {(error.extensions or {}).get("code") for error in result.errors}
    return 500 if ErrorCode.INTERNAL_SERVER_ERROR.value in codes else 400


def label(response: Response, media: Media) -> Response:
    """`response` (a JSON GraphQL answer or refusal) with the Content-Type of `media`."""
    response.headers["content-type"] = CONTENT_TYPES[media]
    return response


def not_acceptable(request_id: str | None) -> JSONResponse:
    """406 for an `Accept` that allows neither media type (the spec's recommended answer)."""
    extensions: dict[str, Any] = {"code": "NOT_ACCEPTABLE"}
    note_outcome("NOT_ACCEPTABLE")
    headers = {}
    if request_id:
        extensions["requestId"] = headers["X-Request-ID"] = request_id
    message = (
        f"The Accept header allows no type this endpoint answers in: {GRAPHQL_RESPONSE_JSON} "
        f"or {_JSON} (or text/event-stream for a subscription)"
    )
    return JSONResponse(
        {"errors": [{"message": message, "extensions": extensions}]},
        status_code=406,
        headers=headers,
    )
