"""`/healthz` (the process answers) and `/readyz` (`Readiness`: each provider's check, cached and
shared in flight, the idempotency store and the drain)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from async_lru import alru_cache
from starlette.requests import Request
from starlette.responses import JSONResponse

from gateway.auth import admission
from gateway.errors import code_for_provider_error
from gateway.idempotency import IdempotencyStore
from gateway.shutdown import Drain
from gateway.wiring import Wired
from providers.base import InvoiceProvider
from providers.errors import ProviderError

__all__ = ["READY_TIMEOUT_S", "Readiness", "healthz"]

READY_TIMEOUT_S = 5.0


class Readiness:
    """/readyz. Each provider's `check()` (one upstream call) runs at most once per
    `cache_seconds`, and concurrent probes share the one in flight (async-lru's cache: a
    single task, shielded from a probe that goes away, cached from when it ends), so probes,
    however many and from whomever, cost each provider one call per period. The guards' state
    is read fresh each time: it costs no call. Only an admitted caller (`gateway.auth`) sees
    the details; anyone else gets `{"status": ...}` with the same HTTP status."""

    def __init__(
        self,
        providers: Mapping[str, Wired],
        store: IdempotencyStore,
        drain: Drain,
        *,
        cache_seconds: float,
    ) -> None:
        self.providers = providers
        self.store = store
        self.drain = drain
        self.checks = alru_cache(maxsize=1, ttl=cache_seconds)(self._check_all)

    async def _check_all(self) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
        """Each provider's check and the idempotency store's status, checked at once."""
        names = list(self.providers)
        results, keys = await asyncio.gather(
            asyncio.gather(*(self._check(self.providers[name].provider) for name in names)),
            self.store.status(),
        )
        return dict(zip(names, results, strict=True)), keys

    @staticmethod
    async def _check(provider: InvoiceProvider) -> dict[str, Any]:
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                await provider.check()
        except ProviderError as exc:
            return {
                "ready": False,
                "code": code_for_provider_error(exc).value,
                "error": exc.message,
            }
        except TimeoutError:
            return {"ready": False, "code": "PROVIDER_TIMEOUT", "error": "no answer in time"}
        return {"ready": True}

    async def respond(self, request: Request) -> JSONResponse:
        if self.drain.draining:
            return JSONResponse({"status": "draining"}, status_code=503)
        checked, keys = await self.checks()
        # Refused credentials are this instance's configuration: keep traffic away from it.
        # A provider that is down is down for every instance: serve the others (degraded).
        # So is a shared key store: reads and unkeyed creates still work without it.
        misconfigured = any(r.get("code") == "PROVIDER_AUTH_FAILED" for r in checked.values())
        if not checked or misconfigured:
            status, code = "unavailable", 503
        elif all(r["ready"] for r in checked.values()) and keys.get("ready"):
            status, code = "ready", 200
        else:
            status, code = "degraded", 200
        if not admission(request.scope).admitted:
            return JSONResponse({"status": status}, status_code=code)
        body: dict[str, Any] = {}
        for name, result in checked.items():
            wiring = self.providers[name]
            state: dict[str, Any] = {"ready": result["ready"], "sandbox": wiring.on_sandbox}
            state.update((k, v) for k, v in result.items() if k != "ready")
            guards = wiring.provider.upstream_status()
            if guards:
                state["upstream"] = guards
            body[name] = state
        return JSONResponse(
            {"status": status, "providers": body, "idempotency": keys}, status_code=code
        )

    async def close(self) -> None:
        """Cancel a check still in flight (at shutdown, before the providers close)."""
        await self.checks.cache_close()


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})
