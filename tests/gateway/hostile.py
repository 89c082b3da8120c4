"""A gateway over both in-process sandboxes, served on 127.0.0.1, whose every secret holds a
sentinel; and the checks that a response leaks nothing: for the fuzz run, the bad-input suite
and the concurrent leak test.

Both providers are configured as real ones would be (their keys hold the sentinel, and the
sandboxes demand those keys), and callers need `GATEWAY_API_KEYS` keys that hold it too.
`served_gateway` yields a `Hostile` whose `url` is the gateway's; the sandboxes' counts and
faults are read and set over HTTP at `/sandbox/<name>/_sandbox/...` on the same server, with a
write key (`CONTROL`), as every route there needs one.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr

from gateway.app import create_app
from gateway.ids import GlobalId, NodeType
from gateway.settings import GatewaySettings
from gateway.telemetry.tracing import Tracing
from gateway.wiring import Wired
from providers.flexprice import FlexPriceProvider, FlexPriceSettings
from providers.transport import AsgiTransport, Transport
from providers.xendit import XenditProvider, XenditSettings
from sandboxes.flexprice import create_sandbox_app as flexprice_sandbox
from sandboxes.xendit import create_sandbox_app as xendit_sandbox
from tests.gateway.conftest import FAST
from tests.serving import ServedApp

SENTINEL = "SENTINEL-7c41e9"
FLEXPRICE_KEY = f"sk_live_{SENTINEL}_flexprice"
XENDIT_KEY = f"xnd_production_{SENTINEL}_xendit"
READ_KEY = f"reader-{SENTINEL}-0123456789"
WRITE_KEY = f"writer-{SENTINEL}-0123456789"
API_KEYS = f"dashboard:read:{READ_KEY},billing:write:{WRITE_KEY}"
#: What the sandboxes' control routes under /sandbox/<name> need.
CONTROL = {"authorization": f"Bearer {WRITE_KEY}"}
PROVIDERS = ("flexprice", "xendit")

#: What a response must never show: a traceback, a source file, or a Python exception's name.
_EXCEPTION_NAMES = sorted(
    {
        name
        for name in dir(builtins)
        if name.endswith(("Error", "Exception")) and name != "Exception"
    }
    | {"ValidationError", "HTTPStatusError", "RemoteProtocolError", "ProviderError"}
)
UNMASKED = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|[/\\][\w.-]+\.py\b"
    rf"|\b({'|'.join(_EXCEPTION_NAMES)})\b"
)

Wrapper = Callable[[Transport], Transport]


@dataclass
class Hostile:
    """The served gateway, its providers and the sandboxes behind them."""

    url: str
    flexprice: FlexPriceProvider
    xendit: XenditProvider
    ids: dict[str, list[str]] = field(default_factory=dict)
    #: The gateway's ASGI app, for walking its routes.
    app: Any = None
    #: Each provider's in-process sandbox app.
    sandboxes: dict[str, Any] = field(default_factory=dict)

    def sandbox(self, provider: str) -> Any:
        """The sandbox's in-memory state (for picking ids; counts are read over HTTP)."""
        return self.sandboxes[provider].state.sandbox

    def upstream(self, client: httpx.Client) -> dict[str, int]:
        """API requests each sandbox served since the last `reset_upstream`, over HTTP."""
        totals = {}
        for name in PROVIDERS:
            stats = client.get(f"{self.url}/sandbox/{name}/_sandbox/stats", headers=CONTROL)
            assert stats.status_code == 200, stats.text
            totals[name] = stats.json()["requests_total"]
        return totals

    def reset_upstream(self, client: httpx.Client) -> None:
        for name in PROVIDERS:
            cleared = client.delete(f"{self.url}/sandbox/{name}/_sandbox/stats", headers=CONTROL)
            assert cleared.status_code == 200, cleared.text


def _pick_ids(flexprice: Any, xendit: Any) -> dict[str, list[str]]:
    """Real-looking ids of both providers, a few of each kind, in a fixed order."""

    def encode(kind: NodeType, provider: str, natives: list[str]) -> list[str]:
        return [GlobalId(kind, provider, native).encode() for native in natives]

    master = next(iter(xendit.accounts))  # the account the gateway's key belongs to
    x_invoices = sorted(i.id for i in xendit.invoices.values() if i.user_id == master)
    x_customers = sorted(c.id for c in xendit.customers.values() if c.user_id == master)
    return {
        "flexprice_invoice": encode(NodeType.INVOICE, "flexprice", sorted(flexprice.invoices)[:12]),
        "flexprice_customer": encode(
            NodeType.CUSTOMER, "flexprice", sorted(flexprice.customers)[:8]
        ),
        "xendit_invoice": encode(NodeType.INVOICE, "xendit", x_invoices[:12]),
        "xendit_customer": encode(NodeType.CUSTOMER, "xendit", x_customers[:8]),
    }


@contextlib.contextmanager
def served_gateway(
    *,
    transport: Wrapper | None = None,
    tracing: Tracing | None = None,
    **settings: Any,
) -> Iterator[Hostile]:
    """The gateway over both sandboxes with sentinel keys, served over HTTP on 127.0.0.1.

    `transport` wraps each provider's in-process transport (to fail some calls); `settings`
    are `GatewaySettings` fields (`api_keys` defaults to the sentinel keys)."""
    wrap = transport or (lambda inner: inner)
    flexprice_app = flexprice_sandbox(api_key=FLEXPRICE_KEY)
    xendit_app = xendit_sandbox(api_key=XENDIT_KEY)
    flexprice = FlexPriceProvider(
        settings=FlexPriceSettings(
            api_key=SecretStr(FLEXPRICE_KEY), base_url="http://flexprice.sandbox/v1"
        ),
        transport=wrap(AsgiTransport(flexprice_app)),
        policy=FAST,
    )
    xendit = XenditProvider(
        settings=XenditSettings(secret_key=SecretStr(XENDIT_KEY), base_url="http://xendit.sandbox"),
        transport=wrap(AsgiTransport(xendit_app)),
        policy=FAST,
    )
    options: dict[str, Any] = {"api_keys": API_KEYS, "providers": PROVIDERS, **settings}
    app = create_app(
        settings=GatewaySettings(**options),
        providers={
            "flexprice": Wired(flexprice, sandbox=flexprice_app, sandbox_key=FLEXPRICE_KEY),
            "xendit": Wired(xendit, sandbox=xendit_app, sandbox_key=XENDIT_KEY),
        },
        tracing=tracing,
    )
    try:
        with ServedApp(app) as served:
            yield Hostile(
                url=served.url,
                flexprice=flexprice,
                xendit=xendit,
                ids=_pick_ids(flexprice_app.state.sandbox, xendit_app.state.sandbox),
                app=app,
                sandboxes={"flexprice": flexprice_app, "xendit": xendit_app},
            )
    finally:

        async def close() -> None:
            await asyncio.gather(flexprice.aclose(), xendit.aclose())

        asyncio.run(close())


def leaks(status: int, headers: Mapping[str, str], text: str, *, masked: bool = False) -> list[str]:
    """What is wrong with a response, by the gateway's promises; empty when nothing is.

    A 5xx, the sentinel anywhere (body or headers), an error without `extensions.code`, an
    `INTERNAL_SERVER_ERROR` (a masked bug is still a bug, unless `masked` says bugs are
    expected: then it must carry a request id), or anything that looks like a traceback, a
    source path or a Python exception's name."""
    problems = []
    if status >= 500:
        problems.append(f"HTTP {status}")
    if SENTINEL in text:
        problems.append("the sentinel is in the body")
    problems += [f"the sentinel is in header {k}" for k, v in headers.items() if SENTINEL in v]
    try:
        body = httpx.Response(status, content=text.encode()).json()
    except ValueError:
        return [*problems, f"the body is not JSON: {text[:200]!r}"]
    errors = body.get("errors") if isinstance(body, dict) else None
    for error in errors or []:
        code = (error.get("extensions") or {}).get("code")
        if not code:
            problems.append(f"an error without a code: {error}")
        elif code == "INTERNAL_SERVER_ERROR" and not (
            masked and error["extensions"].get("requestId")
        ):
            problems.append(f"a masked bug: {error}")
        found = UNMASKED.search(str(error.get("message")))
        if found:
            problems.append(f"an unmasked error ({found.group(0)!r}): {error['message'][:300]}")
    return problems
