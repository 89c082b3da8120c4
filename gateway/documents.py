"""The parsed documents (and their validation results) kept between requests, bounded in bytes.

Parsing and validating a small query is most of its cost, so documents are cached by their text.
Strawberry's `ParserCache` and `ValidationCache` bound only how many they keep (256 here), and a
document can be large: 260 distinct ~950 kB queries (one long string literal each passes the
token limit) took a process from 82 to 558 MB. `DocumentCache` bounds an estimate of the memory
its entries hold, and does not keep a document whose estimate alone exceeds a sixteenth of that.

The estimate: the query text twice (the source, and the values sliced from it) plus
`TOKEN_BYTES` per token, graphql-core keeping every token (comments included) linked from the
document's location for error messages. Measured with tracemalloc on graphql-core 3.3: 180 to
440 bytes per token with the AST nodes, so the estimate is on the safe side.
"""

from __future__ import annotations

import contextlib
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

__all__ = ["DEFAULT_CACHE_BYTES", "TOKEN_BYTES", "DocumentCache", "cached_documents"]

DEFAULT_CACHE_BYTES: Final = 32 * 1024 * 1024
TOKEN_BYTES: Final = 512
#: Entries at most, whatever their size (Strawberry's caches kept 256).
MAX_ENTRIES: Final = 1024
#: Validation results kept per document: one per set of rules (the same set in practice).
_RULE_SETS: Final = 4

_Key = tuple[str, tuple[tuple[str, Any], ...]]
_Rules = tuple[type[ASTValidationRule], ...]


@dataclass(slots=True)
class _Entry:
    document: DocumentNode
    size: int
    validations: dict[_Rules, list[GraphQLError]] = field(default_factory=dict)


def estimated_size(query: str, document: DocumentNode) -> int:
    """What keeping `document` (parsed from `query`) costs, in bytes (see the module doc)."""
    tokens = 0
    token = document.loc.start_token if document.loc else None
    while token is not None:
        tokens += 1
        token = token.next
    return 2 * sys.getsizeof(query) + TOKEN_BYTES * tokens


class DocumentCache:
    """Documents by query text and parse options, least recently used out first, while their
    estimated sizes add up to more than `max_bytes` or there are more than MAX_ENTRIES."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        #: A document bigger than this is parsed and validated on every request, never kept.
        self.max_entry_bytes = max_bytes // 16
        self.size = 0
        self._entries: OrderedDict[_Key, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def parse(self, query: str, options: dict[str, Any]) -> DocumentNode:
        """The document of `query`; raises graphql-core's GraphQLError when it cannot be read
        (never cached: a refusal is cheap to repeat)."""
        key = _key(query, options)
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            return entry.document
        if 2 * sys.getsizeof(query) > self.max_entry_bytes:
            return parse(query, **options)  # too big to keep, whatever it holds
        document = parse(query, **options)
        size = estimated_size(query, document)
        if size <= self.max_entry_bytes:
            self._entries[key] = _Entry(document=document, size=size)
            self.size += size
            while self.size > self.max_bytes or len(self._entries) > MAX_ENTRIES:
                _, dropped = self._entries.popitem(last=False)
                self.size -= dropped.size
        return document

    def validate(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        rules: _Rules,
        *,
        query: str,
        options: dict[str, Any],
    ) -> list[GraphQLError]:
        """The validation errors of `document` under `rules`, remembered with the document
        when it is the one this cache keeps for `query` and `options`."""
        entry = self._entries.get(_key(query, options))
        if entry is None or entry.document is not document:
            return list(validate_document(schema, document, rules))
        errors = entry.validations.get(rules)
        if errors is None:
            errors = list(validate_document(schema, document, rules))
            if len(entry.validations) < _RULE_SETS:
                entry.validations[rules] = errors
        return list(errors)


def _key(query: str, options: dict[str, Any]) -> _Key:
    return query, tuple(sorted(options.items()))


def cached_documents(cache: DocumentCache) -> Callable[[], SchemaExtension]:
    """A factory of the extension that parses and validates through `cache` (pass the factory
    to the schema: extension instances must not be shared between requests)."""

    class CachedDocuments(SchemaExtension):
        def on_parse(self) -> Iterator[None]:
            context = self.execution_context
            if context.query is not None and context.graphql_document is None:
                # A document that cannot be read is left to Strawberry, which parses it again
                # and answers the error as a refusal: raised from here, it escaped that
                # handling over WebSocket (a bare `complete`, no error).
                with contextlib.suppress(GraphQLError):
                    context.graphql_document = cache.parse(
                        context.query, dict(context.parse_options)
                    )
            yield

        def on_validate(self) -> Iterator[None]:
            context = self.execution_context
            if context.query is not None and context.graphql_document is not None:
                context.pre_execution_errors = cache.validate(
                    context.schema._schema,
                    context.graphql_document,
                    tuple(context.validation_rules),
                    query=context.query,
                    options=dict(context.parse_options),
                )
            yield

    return CachedDocuments
