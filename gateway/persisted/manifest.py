"""Trusted documents: a manifest of the documents a client may name by id, read once at start-up
into every process's memory (the file is the source of truth; there is nothing to share).

Two formats are read:
- Apollo's persisted query manifest (`generate-persisted-query-manifest`):
  `{"format": "apollo-persisted-query-manifest", "version": 1,
  "operations": [{"id", "name", "type", "body"}]}`;
- the map of id to document that GraphQL Codegen's client preset (`persisted-documents.json`),
  Relay (`persisted_queries.json`) and Hive write: `{"<id>": "<document>"}`.

Every document must parse, and an id that looks like a SHA-256 (64 hex digits, alone or as
`sha256:<hex>`) must be the SHA-256 of its document: else start-up fails naming the file and
the entry (`ManifestError`), never a request later.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from graphql import GraphQLError, parse

__all__ = ["ManifestError", "TrustedDocuments", "document_key", "load_manifest"]

APOLLO_FORMAT: Final = "apollo-persisted-query-manifest"
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
#: The longest id read from a manifest or a request.
MAX_ID_LENGTH: Final = 256


class ManifestError(ValueError):
    """The manifest cannot be used; the message names the file and the entry."""


def document_key(document_id: str) -> str:
    """How an id is looked up: a SHA-256, alone or as the GraphQL-over-HTTP appendix's
    `sha256:<hex>`, in lower case and without its prefix; any other id as it is."""
    if document_id[:7].lower() == "sha256:" and _SHA256.fullmatch(document_id[7:]):
        return document_id[7:].lower()
    if _SHA256.fullmatch(document_id):
        return document_id.lower()
    return document_id


class TrustedDocuments:
    """Documents by id (`document_key`), and the set of their texts."""

    def __init__(self, documents: dict[str, str], *, source: str = "") -> None:
        self.source = source
        self._by_id = documents
        self._texts = frozenset(documents.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, document_id: str) -> str | None:
        return self._by_id.get(document_key(document_id))

    def holds(self, query: str) -> bool:
        """Whether `query` is, character for character, one of the trusted documents."""
        return query in self._texts


def load_manifest(path: str) -> TrustedDocuments:
    """The trusted documents of the manifest at `path`; raises `ManifestError`."""
    where = f"GATEWAY_TRUSTED_DOCUMENTS ({path})"
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ManifestError(f"{where} cannot be read: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ManifestError(f"{where} is not JSON: {exc}") from None
    documents: dict[str, str] = {}
    for entry, document_id, body in _entries(data, where):
        if not document_id or len(document_id) > MAX_ID_LENGTH:
            raise ManifestError(f"{where}: {entry}: the id must be 1 to {MAX_ID_LENGTH} characters")
        try:
            parse(body)
        except GraphQLError as exc:
            raise ManifestError(
                f"{where}: {entry}: the document does not parse: {exc.message}"
            ) from None
        key = document_key(document_id)
        if _SHA256.fullmatch(key) and hashlib.sha256(body.encode()).hexdigest() != key:
            raise ManifestError(
                f"{where}: {entry}: the id is a SHA-256 but not its document's "
                f"({hashlib.sha256(body.encode()).hexdigest()})"
            )
        if documents.get(key, body) != body:
            raise ManifestError(f"{where}: {entry}: the id names another document already")
        documents[key] = body
    return TrustedDocuments(documents, source=path)


def _entries(data: Any, where: str) -> Iterator[tuple[str, str, str]]:
    """(entry's name for messages, id, document) of each entry of either format."""
    if not isinstance(data, dict):
        raise ManifestError(f"{where} must be a JSON object")
    if "format" in data or "operations" in data:
        if data.get("format") != APOLLO_FORMAT or data.get("version") != 1:
            raise ManifestError(
                f'{where}: "format" must be "{APOLLO_FORMAT}" and "version" 1 (got '
                f"{str(data.get('format'))[:64]!r}, {str(data.get('version'))[:16]!r})"
            )
        operations = data.get("operations")
        if not isinstance(operations, list):
            raise ManifestError(f'{where}: "operations" must be a list')
        for index, operation in enumerate(operations):
            entry = f"operations[{index}]"
            if not isinstance(operation, dict):
                raise ManifestError(f"{where}: {entry} must be an object")
            document_id, body = operation.get("id"), operation.get("body")
            if not isinstance(document_id, str) or not isinstance(body, str):
                raise ManifestError(f'{where}: {entry}: "id" and "body" must be strings')
            name = operation.get("name")
            yield (f"{entry} ({str(name)[:64]})" if name else entry), document_id, body
        return
    for document_id, body in data.items():
        entry = f"entry {document_id[:80]!r}"
        if not isinstance(body, str):
            raise ManifestError(f"{where}: {entry}: the document must be a string")
        yield entry, document_id, body
