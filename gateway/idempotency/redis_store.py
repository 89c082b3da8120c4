"""`RedisStore`: keys shared in Redis by every process and host that points at it
(`GATEWAY_REDIS_URL`): claims with a renewed lease, completion and release by Lua scripts, and
what a failure is called in words a client may read."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import AuthenticationError, MaxConnectionsError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gateway.idempotency.scripts import COMPLETE, RELEASE, RENEW
from gateway.idempotency.store import (
    Claim,
    ClaimPending,
    KeyReused,
    StoreUnavailable,
    give_up_at,
    redacted_url,
)

__all__ = ["NAMESPACE", "RedisStore", "what_failed"]

logger = logging.getLogger("gateway.idempotency")

NAMESPACE = "invoice-gateway:idempotency:v1"
#: Seconds one Redis command may take (connect, or send and answer).
REDIS_TIMEOUT_S = 2.0
#: Connections to Redis per process; a command waits up to `REDIS_TIMEOUT_S` for one.
REDIS_MAX_CONNECTIONS = 32
#: How often a waiter looks at a key that is held: from the first to the last, doubling.
POLL_FIRST_S = 0.01
POLL_MOST_S = 0.2


def _encode(value: dict[str, str]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


@dataclass(slots=True)
class _Held:
    """A claim this process owns: the exact value it wrote, and the task renewing its lease."""

    value: str
    renewing: asyncio.Task[None]


class RedisStore:
    """Keys in Redis, shared by every gateway process and host that points at it.

    One Redis key per caller and idempotency key, `invoice-gateway:idempotency:v1:CALLER:HASH`
    (CALLER percent-encoded, HASH the SHA-256 of the client's key), holding JSON: the caller, the
    fingerprint of the input, and the state, `pending` (with the owner's random token) or
    `done` (with the invoice's id). Never a secret, never an invoice.

    - `claim` is `SET NX PX lease`: exactly one request, in any process, owns a key. Its owner
      renews the lease while its create runs, but never past the `until` it claimed with (the
      create's deadline); a claim whose owner died lapses after `lease` seconds and may be
      taken over (the provider's own record of the key then answers).
    - A request that finds the key held with the same fingerprint polls until it is done (and
      gets its invoice's id), freed (and tries to own it), or `wait` seconds passed or its
      `until` came (`ClaimPending`); another fingerprint is `KeyReused` at once.
    - `complete` replaces the claim with `done`, kept `ttl` seconds; `abandon` deletes it, or,
      when the create's outcome is in doubt, stops renewing it: it lapses after `lease`.
    - Redis unreachable or failing: `claim` raises `StoreUnavailable`; there is no fall-back
      to this process's memory, which would let two processes create with one key.
    """

    shared = True

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        ttl: float,
        lease: float,
        wait: float,
        where: str = "redis",
    ) -> None:
        self.ttl = ttl
        self.lease = lease
        self.wait = wait
        self.where = where
        self._client = client
        self._complete = client.register_script(COMPLETE)
        self._release = client.register_script(RELEASE)
        self._renew = client.register_script(RENEW)
        self._held: dict[str, _Held] = {}

    @classmethod
    def from_url(cls, url: str, *, ttl: float, lease: float, wait: float) -> RedisStore:
        """A store on the Redis at `url` (`redis://`, `rediss://` or `unix://`). Connects on
        first use: a Redis that is down at start-up is reported by `/readyz` and by creates."""
        # A bounded pool that makes a command wait for a connection (up to the timeout):
        # redis-py's default pool fails at once past its size, under a burst of repeats.
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=REDIS_MAX_CONNECTIONS,
            timeout=REDIS_TIMEOUT_S,
            socket_timeout=REDIS_TIMEOUT_S,
            socket_connect_timeout=REDIS_TIMEOUT_S,
            # A command whose answer was lost is sent again; every command here may be
            # (`claim` recognises its own value when its SET was carried out after all).
            retry=Retry(ExponentialBackoff(cap=0.1, base=0.01), 2),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
            decode_responses=True,
        )
        client = aioredis.Redis.from_pool(pool)  # closing the client closes the pool
        return cls(client, ttl=ttl, lease=lease, wait=wait, where=redacted_url(url))

    def name(self, caller: str, key: str) -> str:
        """The Redis key of `key` for `caller`."""
        digest = hashlib.sha256(key.encode()).hexdigest()
        return f"{NAMESPACE}:{quote(caller, safe='')}:{digest}"

    @contextlib.asynccontextmanager
    async def _asking(self) -> AsyncIterator[None]:
        try:
            yield
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(
                f"the idempotency store (Redis at {self.where}) {what_failed(exc)}"
            ) from exc

    async def claim(
        self, caller: str, key: str, fingerprint: str, *, until: float | None = None
    ) -> Claim:
        name = self.name(caller, key)
        pending = _encode(
            {
                "caller": caller,
                "fingerprint": fingerprint,
                "owner": secrets.token_hex(16),
                "state": "pending",
            }
        )
        loop = asyncio.get_running_loop()
        give_up = give_up_at(loop.time(), self.wait, until)
        delay = POLL_FIRST_S
        while True:
            async with self._asking():
                if await self._client.set(name, pending, nx=True, px=self._ms(self.lease)):
                    found: str | None = pending
                else:
                    value = await self._client.get(name)
                    found = value.decode() if isinstance(value, bytes) else value
            if found == pending:  # ours, also when a retried SET had been carried out
                self._hold(name, pending, until)
                return Claim()
            if found is not None:
                entry = self._decode(found)
                if entry.get("fingerprint") != fingerprint:
                    raise KeyReused(key)
                if entry.get("state") == "done" and isinstance(entry.get("invoice"), str):
                    return Claim(done=entry["invoice"])
            # Held by a request in flight (or freed a moment ago): look again.
            left = give_up - loop.time()
            if left <= 0:
                raise ClaimPending(key)
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, POLL_MOST_S)

    async def complete(self, caller: str, key: str, invoice_id: str) -> None:
        name = self.name(caller, key)
        held = await self._let_go(name)
        if held is None:
            return
        done = _encode(
            {
                "caller": caller,
                "fingerprint": self._decode(held.value).get("fingerprint", ""),
                "invoice": invoice_id,
                "state": "done",
            }
        )
        try:
            kept = await self._complete(keys=[name], args=[held.value, done, self._ms(self.ttl)])
        except (RedisError, OSError) as exc:
            logger.warning("could not remember an idempotency key in Redis: %s", exc)
            return
        if not kept:
            logger.warning("an idempotency key's claim lapsed before its create finished")

    async def abandon(self, caller: str, key: str, *, in_doubt: bool = False) -> None:
        name = self.name(caller, key)
        held = await self._let_go(name)
        if held is None or in_doubt:
            # In doubt, the claim is no longer renewed and lapses after its lease: until then
            # repeats wait, from any process, and then find what the provider made, if it did.
            return
        try:
            await self._release(keys=[name], args=[held.value])
        except (RedisError, OSError) as exc:  # its lease lapses instead
            logger.warning("could not free an idempotency key in Redis: %s", exc)

    async def status(self) -> dict[str, object]:
        state: dict[str, object] = {"store": "redis", "across_processes": True, "url": self.where}
        try:
            async with asyncio.timeout(REDIS_TIMEOUT_S * 2):
                await self._client.ping()
        except (RedisError, OSError, TimeoutError) as exc:
            return {**state, "ready": False, "error": what_failed(exc)}
        return {**state, "ready": True}

    async def aclose(self) -> None:
        for name in list(self._held):
            await self._let_go(name)
        await self._client.aclose()

    def _hold(self, name: str, value: str, until: float | None) -> None:
        self._held[name] = _Held(value, asyncio.create_task(self._keep(name, value, until)))

    async def _let_go(self, name: str) -> _Held | None:
        held = self._held.pop(name, None)
        if held is not None:
            held.renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await held.renewing
        return held

    async def _keep(self, name: str, value: str, until: float | None) -> None:
        """Renew the lease of a claim while its create runs, three times a lease, and never
        past `until`: from then on the claim lapses within one lease, even if its request is
        stuck and never lets go of it."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.lease / 3)
            if until is not None and loop.time() >= until:
                return
            try:
                if not await self._renew(keys=[name], args=[value, self._ms(self.lease)]):
                    return  # lapsed and taken over: nothing of ours to keep
            except (RedisError, OSError) as exc:
                logger.warning("could not renew an idempotency key's lease: %s", exc)

    @staticmethod
    def _ms(seconds: float) -> int:
        return max(1, round(seconds * 1000))

    def _decode(self, raw: str) -> dict[str, Any]:
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise StoreUnavailable(
                f"the idempotency store (Redis at {self.where}) holds a value the gateway did "
                f"not write under {NAMESPACE}"
            )
        return value


#: What went wrong, in words a client may read (never an exception's name or text, which may
#: hold an address or a password): the first class in an error's ancestry found here.
_FAILURES: tuple[tuple[type[BaseException], str], ...] = (
    (AuthenticationError, "refused the gateway's credentials"),
    (MaxConnectionsError, "has no connection free"),
    (RedisTimeoutError, "did not answer in time"),
    (TimeoutError, "did not answer in time"),
    (RedisConnectionError, "cannot be reached"),
    (OSError, "cannot be reached"),
)


def what_failed(error: BaseException) -> str:
    for kind, words in _FAILURES:
        if isinstance(error, kind):
            return words
    return "answered with an error"
