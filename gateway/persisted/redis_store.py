"""`RedisQueries`: automatic persisted queries in Redis (`GATEWAY_REDIS_URL`), shared by every
process and host that points at it. A Redis that cannot be asked finds nothing and keeps
nothing: the client is told `PERSISTED_QUERY_NOT_FOUND` and sends the query in full, which
runs; never a 500."""

from __future__ import annotations

import logging
import time

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gateway.idempotency import redacted_url, what_failed

__all__ = ["NAMESPACE", "RedisQueries"]

logger = logging.getLogger("gateway.persisted")

NAMESPACE = "invoice-gateway:apq:v1"
#: Seconds one Redis command may take: a lookup is on every hash-only request's path.
REDIS_TIMEOUT_S = 1.0
REDIS_MAX_CONNECTIONS = 16
#: At most one warning about Redis failing per this many seconds.
WARN_EVERY_S = 10.0


class RedisQueries:
    """One Redis key per query, `invoice-gateway:apq:v1:SHA256`, holding its text, kept `ttl`
    seconds from its last registration. A query's size is bounded by the request's
    (GATEWAY_MAX_BODY_BYTES)."""

    shared = True

    def __init__(self, client: aioredis.Redis, *, ttl: int, where: str = "redis") -> None:
        self.ttl = ttl
        self.where = where
        self._client = client
        self._warned = float("-inf")

    @classmethod
    def from_url(cls, url: str, *, ttl: int) -> RedisQueries:
        """Queries in the Redis at `url`; connects on first use."""
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=REDIS_MAX_CONNECTIONS,
            timeout=REDIS_TIMEOUT_S,
            socket_timeout=REDIS_TIMEOUT_S,
            socket_connect_timeout=REDIS_TIMEOUT_S,
            # One more try of a command whose answer was lost (GET and SET may be repeated),
            # not redis-py's default three: a lookup is on a request's path.
            retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), 1),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
            decode_responses=True,
        )
        return cls(aioredis.Redis.from_pool(pool), ttl=ttl, where=redacted_url(url))

    @staticmethod
    def name(sha256: str) -> str:
        return f"{NAMESPACE}:{sha256}"

    async def get(self, sha256: str) -> str | None:
        try:
            value = await self._client.get(self.name(sha256))
        except (RedisError, OSError) as exc:
            self._warn("find", exc)
            return None
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        return value if isinstance(value, str) else None

    async def put(self, sha256: str, query: str) -> None:
        try:
            await self._client.set(self.name(sha256), query, ex=self.ttl)
        except (RedisError, OSError) as exc:
            self._warn("register", exc)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _warn(self, what: str, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._warned >= WARN_EVERY_S:
            self._warned = now
            logger.warning(
                "could not %s a persisted query: Redis at %s %s (clients send queries in full)",
                what,
                self.where,
                what_failed(exc),
            )
