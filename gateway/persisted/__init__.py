"""Persisted documents: automatic persisted queries (Apollo's protocol, registered in memory or
in Redis) and trusted documents (a manifest of allowed documents by id), resolved into a query
text before GraphQL sees a request (`PersistedDocuments.resolve`)."""

from __future__ import annotations

from gateway.persisted.http import PersistedView
from gateway.persisted.manifest import ManifestError, TrustedDocuments, load_manifest
from gateway.persisted.redis_store import RedisQueries
from gateway.persisted.resolve import PersistedDocuments, PersistedRefusal, Resolved
from gateway.persisted.setup import persisted_documents
from gateway.persisted.store import MemoryQueries, QueryStore

__all__ = [
    "ManifestError",
    "MemoryQueries",
    "PersistedDocuments",
    "PersistedRefusal",
    "PersistedView",
    "QueryStore",
    "RedisQueries",
    "Resolved",
    "TrustedDocuments",
    "load_manifest",
    "persisted_documents",
]
