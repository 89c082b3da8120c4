"""`persisted_documents(settings)`: the stores and manifest the settings ask for."""

from __future__ import annotations

from gateway.persisted.manifest import load_manifest
from gateway.persisted.redis_store import RedisQueries
from gateway.persisted.resolve import PersistedDocuments
from gateway.persisted.store import MemoryQueries, QueryStore
from gateway.settings import GatewaySettings

__all__ = ["persisted_documents"]


def persisted_documents(settings: GatewaySettings) -> PersistedDocuments:
    """APQ in Redis with GATEWAY_REDIS_URL, else in this process's memory (none with
    GATEWAY_APQ=false); the trusted documents of GATEWAY_TRUSTED_DOCUMENTS, read now. Raises
    `ManifestError` (a ValueError) naming the file and the entry when the manifest is bad."""
    trusted = load_manifest(settings.trusted_documents) if settings.trusted_documents else None
    store: QueryStore | None = None
    if settings.apq and not settings.trusted_documents_only:
        if settings.redis_url is not None:
            store = RedisQueries.from_url(
                settings.redis_url.get_secret_value(), ttl=settings.apq_ttl_seconds
            )
        else:
            store = MemoryQueries(settings.apq_cache_bytes)
    return PersistedDocuments(
        store=store, trusted=trusted, trusted_only=settings.trusted_documents_only
    )
