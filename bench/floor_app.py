"""The floors' apps (`bench/floors.py`): what serving a request costs with no gateway in it.

`FLOOR_MODE` picks one, `FLOOR_UPSTREAM` (a URL) and `FLOOR_AUTHORIZATION` (its header) say
what `proxy` and `proxy-decode` fetch:

- `serve`: read the body, answer `{"data":{"__typename":"Query"}}`;
- `proxy`: the same, after one GET of `FLOOR_UPSTREAM` through a bare `aiohttp.ClientSession`
  (one pooled connection, the body read whole);
- `proxy-decode`: `proxy`, and the body decoded into the Xendit adapter's wire records as the
  gateway decodes it (`providers.records.decode_list`).

Run by uvicorn as `serve` runs the gateway (uvloop, httptools, no access log).
"""

from __future__ import annotations

import os
from typing import Any

import aiohttp

from providers.records import decode_list
from providers.xendit.wire import Invoice

__all__ = ["MODES", "app"]

MODES = ("serve", "proxy", "proxy-decode")
ANSWER = b'{"data":{"__typename":"Query"}}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(ANSWER))]

_mode = os.environ.get("FLOOR_MODE", "serve")
_upstream = os.environ.get("FLOOR_UPSTREAM", "")
_authorization = {"authorization": os.environ.get("FLOOR_AUTHORIZATION", "")}
_session: aiohttp.ClientSession | None = None


async def _lifespan(receive: Any, send: Any) -> None:
    global _session
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if _session is not None:
                await _session.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _session
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    if _mode != "serve":
        if _session is None:
            _session = aiohttp.ClientSession()
        async with _session.get(_upstream, headers=_authorization) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"the upstream answered {response.status}")
        if _mode == "proxy-decode":
            decode_list(Invoice, body)
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": ANSWER})
