"""What query a request runs when it names a persisted document, before GraphQL sees it:
`PersistedDocuments.resolve`, the same for a POST, a GET, SSE and the WebSocket.

- `documentId` (the GraphQL-over-HTTP appendix's field) names a trusted document
  (`GATEWAY_TRUSTED_DOCUMENTS`).
- `extensions.persistedQuery` (`{"version": 1, "sha256Hash": HEX}`, Apollo's persisted-queries
  link) names a trusted document by its SHA-256, or a query registered by automatic persisted
  queries: with its query, the hash is checked and, once the query ran, the query registered;
  without it, a registered query runs, or `PERSISTED_QUERY_NOT_FOUND` asks for the query.
- With `GATEWAY_TRUSTED_DOCUMENTS_ONLY`, a query runs only when it is a trusted document, and
  nothing is registered.

What comes out is a query text: it is parsed, validated, limited and costed as the same query
sent in full (the key gate has admitted the request before any of this).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Final

from cross_web import HTTPException  # what strawberry.asgi catches and answers with

from gateway.errors import ErrorCode
from gateway.persisted.manifest import MAX_ID_LENGTH, TrustedDocuments
from gateway.persisted.store import QueryStore

__all__ = ["NOT_FOUND", "PersistedDocuments", "PersistedRefusal", "Resolved"]

#: The message clients look for (Apollo's link and Relay's match it, or the code).
NOT_FOUND: Final = "PersistedQueryNotFound"
NOT_SUPPORTED: Final = "PersistedQueryNotSupported"
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


class PersistedRefusal(HTTPException):
    """A request refused for what it says of a persisted document: an HTTP status, and a code."""

    def __init__(self, status_code: int, code: ErrorCode | str, reason: str) -> None:
        super().__init__(status_code, reason)
        self.code = str(code)
        #: No answer about a persisted document may be cached: it changes once one is
        #: registered (Apollo Server says the same of its own).
        self.headers = {"Cache-Control": "no-store"}


@dataclass(frozen=True, slots=True)
class Resolved:
    """The query to run, and the hash to register it under once it ran (None: nothing to
    register)."""

    query: str | None
    register: str | None = None


_PLAIN = Resolved(None)


class PersistedDocuments:
    def __init__(
        self,
        *,
        store: QueryStore | None,
        trusted: TrustedDocuments | None = None,
        trusted_only: bool = False,
    ) -> None:
        #: Where automatic persisted queries are registered; None: APQ is off.
        self.store = store
        self.trusted = trusted
        self.trusted_only = trusted_only

    async def resolve(
        self, query: str | None, extensions: dict[str, Any] | None, document_id: Any
    ) -> Resolved:
        """The query `query`, `extensions` and `documentId` of a request ask for; raises
        `PersistedRefusal`. `Resolved(query)` when the request names no persisted document."""
        persisted = extensions.get("persistedQuery") if extensions else None
        if document_id is not None:
            return self._by_id(query, persisted, document_id)
        if persisted is not None:
            return await self._apq(query, persisted)
        if query is not None and self.trusted_only:
            assert self.trusted is not None  # the settings refuse only-mode without a manifest
            if not self.trusted.holds(query):
                raise _only()
        return Resolved(query) if query is not None else _PLAIN

    def _by_id(self, query: str | None, persisted: Any, document_id: Any) -> Resolved:
        if not isinstance(document_id, str) or not 0 < len(document_id) <= MAX_ID_LENGTH:
            raise PersistedRefusal(
                400,
                ErrorCode.BAD_REQUEST,
                f"`documentId` must be a string of 1 to {MAX_ID_LENGTH} characters",
            )
        if query is not None or persisted is not None:
            raise PersistedRefusal(
                400,
                ErrorCode.BAD_REQUEST,
                "Send `documentId` alone: not with `query` or `extensions.persistedQuery`",
            )
        body = self.trusted.get(document_id) if self.trusted is not None else None
        if body is None:
            where = (
                "GATEWAY_TRUSTED_DOCUMENTS"
                if self.trusted is not None
                else "no GATEWAY_TRUSTED_DOCUMENTS are configured"
            )
            raise PersistedRefusal(
                404,
                ErrorCode.PERSISTED_QUERY_NOT_FOUND,
                f"No trusted document has this `documentId` ({where})",
            )
        return Resolved(body)

    async def _apq(self, query: str | None, persisted: Any) -> Resolved:
        sha256 = _hash_of(persisted)
        trusted = self.trusted.get(sha256) if self.trusted is not None else None
        if query is not None and _sha256_of(query) != sha256:
            raise PersistedRefusal(
                400,
                ErrorCode.PERSISTED_QUERY_HASH_MISMATCH,
                "`extensions.persistedQuery.sha256Hash` is not the SHA-256 of `query` (its "
                "UTF-8 bytes, as hex): nothing was run",
            )
        if trusted is not None:
            return Resolved(trusted)  # a query sent with it is this very text (same hash)
        if self.trusted_only:
            if query is None:
                raise PersistedRefusal(404, ErrorCode.PERSISTED_QUERY_NOT_FOUND, NOT_FOUND)
            raise _only()
        if self.store is None:
            raise PersistedRefusal(400, ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED, NOT_SUPPORTED)
        if query is not None:
            return Resolved(query, register=sha256)
        found = await self.store.get(sha256)
        if found is None:
            raise PersistedRefusal(404, ErrorCode.PERSISTED_QUERY_NOT_FOUND, NOT_FOUND)
        return Resolved(found)

    async def register(self, resolved: Resolved, result_errors: list[Any] | None) -> None:
        """Register the query of `resolved` once it ran: when none of `result_errors` refused
        it before execution (a query that does not parse, validate or pass the limits is
        never kept)."""
        if resolved.register is None or resolved.query is None or self.store is None:
            return
        if result_errors and any(error.path is None for error in result_errors):
            return
        await self.store.put(resolved.register, resolved.query)

    async def aclose(self) -> None:
        if self.store is not None:
            await self.store.aclose()


def _hash_of(persisted: Any) -> str:
    if not isinstance(persisted, dict):
        raise PersistedRefusal(
            400, ErrorCode.BAD_REQUEST, "`extensions.persistedQuery` must be an object"
        )
    version = persisted.get("version")
    if type(version) is not int or version != 1:
        raise PersistedRefusal(
            400,
            ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED,
            f"{NOT_SUPPORTED}: `extensions.persistedQuery.version` must be 1, the only "
            "version the gateway speaks",
        )
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise PersistedRefusal(
            400,
            ErrorCode.BAD_REQUEST,
            "`extensions.persistedQuery.sha256Hash` must be 64 hexadecimal digits (the SHA-256 "
            "of the query)",
        )
    return sha256.lower()


def _sha256_of(query: str) -> str:
    """The hex SHA-256 of `query`'s UTF-8 bytes; a lone surrogate (JSON's `\\ud800`, which no
    UTF-8 holds) is refused rather than hashed some other way than the client did."""
    try:
        return hashlib.sha256(query.encode()).hexdigest()
    except UnicodeEncodeError:
        raise PersistedRefusal(
            400,
            ErrorCode.BAD_REQUEST,
            "`query` holds a lone surrogate (\\uD800-\\uDFFF), which is not Unicode text: it "
            "has no SHA-256 to check `extensions.persistedQuery.sha256Hash` against",
        ) from None


def _only() -> PersistedRefusal:
    return PersistedRefusal(
        403,
        ErrorCode.TRUSTED_DOCUMENT_REQUIRED,
        "Only trusted documents run here (GATEWAY_TRUSTED_DOCUMENTS_ONLY): name one with "
        "`documentId` or `extensions.persistedQuery`",
    )
