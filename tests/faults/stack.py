"""The gateway and its sandboxes, each served by uvicorn on 127.0.0.1 in the running loop.

Every hop is real HTTP: clients -> gateway (uvicorn) -> sandbox (uvicorn), the gateway's
providers on their ordinary aiohttp transport. A sandbox's injected reset is a connection that
uvicorn really drops, after the handler ran. One event loop runs all of it, so a test can read
a sandbox's store between two awaits and see a consistent state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Generator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.app import create_app
from gateway.ids import GlobalId, NodeType
from gateway.settings import GatewaySettings
from providers.base import InvoiceProvider
from providers.flexprice import FlexPriceProvider, FlexPriceSettings
from providers.http import HttpPolicy
from providers.xendit import XenditProvider, XenditSettings
from sandboxes.flexprice import DEFAULT_API_KEY as FLEXPRICE_KEY
from sandboxes.flexprice import create_sandbox_app as flexprice_sandbox
from sandboxes.kit.faults import ConnectionDropped
from sandboxes.xendit import DEFAULT_API_KEY as XENDIT_KEY
from sandboxes.xendit import create_sandbox_app as xendit_sandbox
from sandboxes.xendit.store import MASTER_USER_ID

__all__ = ["PROVIDERS", "LateCreates", "Sandbox", "Stack", "gateway", "sandboxes", "serve", "stack"]

PROVIDERS = ("flexprice", "xendit")
STARTUP_POLLS = 1000  # 10 ms polls for a server to bind
SHUTDOWN_TIMEOUT_S = 15.0  # a bound on stopping a server, not a measured duration
GRACE_S = 5  # uvicorn cancels requests still running after this on shutdown


class _DroppedConnections(logging.Filter):
    """uvicorn logs each injected reset as an ASGI exception: expected here, so not logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


_QUIET_RESETS = _DroppedConnections()


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # The test runner owns the signals: Ctrl-C must stop it, not only this server.
        yield


@contextlib.asynccontextmanager
async def serve(app: Any, *, lifespan: Literal["on", "off"] = "off") -> AsyncIterator[str]:
    """Serve `app` on an ephemeral 127.0.0.1 port in this loop; yields its base URL."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan=lifespan,
        timeout_graceful_shutdown=GRACE_S,
    )
    logging.getLogger("uvicorn.error").addFilter(_QUIET_RESETS)
    server = _Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(STARTUP_POLLS):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        if not server.started:
            raise RuntimeError("the server did not start")
        host, port = server.servers[0].sockets[0].getsockname()[:2]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, SHUTDOWN_TIMEOUT_S)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives `body` (already read from `receive`) once, whole, then whatever
    `receive` gives: for a wrapper that held a request back before passing it on."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class LateCreates:
    """A fault the sandboxes lack: a create the provider carries out only after its client
    gave up waiting for it, `after` seconds after the client hung up (a create still running
    at the provider when the gateway's deadline passed). `None` turns it off.

    The sandboxes' own latency and hold come before the handler reads the body, so there a
    create whose client left is never made. Here the body is read at once and the create goes
    ahead once the client has gone (or after `HOLD_S` if it never goes). Timed from the hang-up,
    not from arrival, so a busy event loop cannot move it before or after the gateway's timeout.
    """

    HOLD_S = 30.0

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.after: float | None = None
        self.pending = 0  # creates held back, or being carried out
        self.held_back = 0  # creates held back so far

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        after = self.after
        is_create = (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and str(scope["path"]).rstrip("/") in _CREATE_PATHS
        )
        if after is None or not is_create:
            await self.app(scope, receive, send)
            return
        self.pending += 1
        self.held_back += 1
        try:
            await self._late(scope, receive, send, after=after)
        finally:
            self.pending -= 1

    async def _late(self, scope: Scope, receive: Receive, send: Send, *, after: float) -> None:
        chunks: list[bytes] = []
        message = await receive()
        while message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
            message = await receive()
        else:
            return  # gone before the whole request arrived: nothing to create
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.HOLD_S):
                while (await receive())["type"] != "http.disconnect":
                    pass
        await asyncio.sleep(after)
        replay = replaying(b"".join(chunks), receive)
        await self.app(scope, replay, send)

    async def quiet(self) -> None:
        """Wait until every create held back has been handled (bounded)."""
        for _ in range(STARTUP_POLLS):
            if not self.pending:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{self.pending} creates held back were never handled")


_CREATE_PATHS = frozenset({"/v1/invoices", "/v2/invoices"})


@dataclass
class Sandbox:
    """One served sandbox: its app (and store), its URL, and a client of its control routes.

    `set_faults` takes the sandbox's own fault settings, plus `late_create_ms` (see
    `LateCreates`), which the test applies itself.
    """

    name: str
    app: Starlette
    url: str
    control: httpx.AsyncClient
    late: LateCreates

    @property
    def store(self) -> Any:
        return self.app.state.sandbox

    @property
    def held(self) -> int:
        """Requests the `hang` fault is holding right now."""
        held: int = self.app.state.controls.faults.held
        return held

    async def set_faults(self, settings: Mapping[str, object]) -> None:
        faults = dict(settings)
        late = faults.pop("late_create_ms", None)
        assert late is None or isinstance(late, int | float)
        self.late.after = None if late is None else late / 1000
        response = await self.control.put("/_sandbox/faults", json=faults)
        assert response.status_code == 200, response.text

    async def clear_faults(self) -> None:
        self.late.after = None
        response = await self.control.delete("/_sandbox/faults")
        assert response.status_code == 200, response.text

    async def requests_served(self) -> int:
        stats = (await self.control.get("/_sandbox/stats")).json()
        total: int = stats["requests_total"]
        return total

    def invoice_ids(self) -> set[str]:
        return set(self.store.invoices)

    def customer_ids(self) -> list[str]:
        """Customers a create can name, sorted (Xendit: the key's own account only)."""
        customers = self.store.customers.values()
        if self.name == "xendit":
            return sorted(c.id for c in customers if c.user_id == MASTER_USER_ID)
        return sorted(c.id for c in customers)

    def customer_gid(self, native_id: str) -> str:
        return GlobalId(NodeType.CUSTOMER, self.name, native_id).encode()

    def invoice_gid(self, native_id: str) -> str:
        return GlobalId(NodeType.INVOICE, self.name, native_id).encode()


@dataclass
class Stack:
    """The served gateway (`url`, `http` a client of it) and the sandboxes behind it."""

    url: str
    http: httpx.AsyncClient
    sandboxes: dict[str, Sandbox]
    providers: dict[str, InvoiceProvider]


_SANDBOX_APPS = {"flexprice": flexprice_sandbox, "xendit": xendit_sandbox}


def _provider(name: str, url: str, policy: HttpPolicy) -> InvoiceProvider:
    # Configured as for a standalone sandbox: a key and a base URL, the aiohttp transport.
    if name == "flexprice":
        settings = FlexPriceSettings(api_key=FLEXPRICE_KEY, base_url=f"{url}/v1")
        return FlexPriceProvider(settings=settings, policy=policy)
    xendit = XenditSettings(secret_key=XENDIT_KEY, base_url=url)
    return XenditProvider(settings=xendit, policy=policy)


@contextlib.asynccontextmanager
async def sandboxes(names: Iterable[str], *, seed: int = 0) -> AsyncIterator[dict[str, Sandbox]]:
    """Fresh sandboxes, served; yields them by name."""
    async with contextlib.AsyncExitStack() as stack_:
        served: dict[str, Sandbox] = {}
        for name in names:
            app = _SANDBOX_APPS[name](seed=seed)
            late = LateCreates(app)
            url = await stack_.enter_async_context(serve(late))
            # A fresh connection per control call: a kept one can be closed by the server
            # (its keep-alive timeout) just as the next call is sent, a ReadError that has
            # nothing to do with the faults under test (seen under load at the end of a run).
            fresh = httpx.Limits(max_keepalive_connections=0)
            client = httpx.AsyncClient(base_url=url, limits=fresh)
            control = await stack_.enter_async_context(client)
            served[name] = Sandbox(name=name, app=app, url=url, control=control, late=late)
        yield served


@contextlib.asynccontextmanager
async def gateway(
    served: Mapping[str, Sandbox],
    *,
    policies: Mapping[str, HttpPolicy],
    client_timeout: float = 60.0,
) -> AsyncIterator[Stack]:
    """The gateway over `served`, each provider with its policy, served with its lifespan
    (which closes the providers); `Stack.http` has room for many concurrent requests."""
    providers = {name: _provider(name, s.url, policies[name]) for name, s in served.items()}
    app = create_app(
        settings=GatewaySettings(providers=tuple(providers)),
        providers=providers,
    )
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with (
        serve(app, lifespan="on") as url,
        httpx.AsyncClient(base_url=url, timeout=client_timeout, limits=limits) as http,
    ):
        yield Stack(url=url, http=http, sandboxes=dict(served), providers=providers)


@contextlib.asynccontextmanager
async def stack(
    *, policies: Mapping[str, HttpPolicy], seed: int = 0, client_timeout: float = 60.0
) -> AsyncIterator[Stack]:
    """Served sandboxes for the providers `policies` names, and the gateway over them."""
    async with (
        sandboxes(policies, seed=seed) as served,
        gateway(served, policies=policies, client_timeout=client_timeout) as running,
    ):
        yield running
