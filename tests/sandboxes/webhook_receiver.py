"""A webhook receiver for the sandboxes' tests: a tiny Starlette app served on 127.0.0.1 that
keeps what it was sent and answers the statuses it was told to (then 200)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.serving import ServedApp

WAIT_S = 10.0


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """``POST /hook`` (and any path under it) records the request; `statuses` are answered
    first, in order, then 200."""

    def __init__(self, statuses: tuple[int, ...] = ()) -> None:
        self._statuses = list(statuses)
        self._lock = threading.Lock()
        self.received: list[Received] = []
        self.app = Starlette(routes=[Route("/hook{rest:path}", self._hook, methods=["POST"])])
        self.url = ""

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            status = self._statuses.pop(0) if self._statuses else 200
            headers = {k.lower(): v for k, v in request.headers.items()}
            self.received.append(Received(request.url.path, headers, body, status))
        return Response(status_code=status)

    async def wait_for(self, count: int, *, within: float = WAIT_S) -> list[Received]:
        """The first `count` requests, once they have arrived (else AssertionError)."""
        deadline = time.monotonic() + within
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} of {count} webhooks came"
            await asyncio.sleep(0.02)
        return list(self.received[:count])

    async def stays_at(self, count: int, *, settle: float = 0.3) -> list[Received]:
        """Wait `settle` seconds and check that exactly `count` requests came."""
        await asyncio.sleep(settle)
        assert len(self.received) == count, [r.json() for r in self.received]
        return list(self.received)


@contextmanager
def served_receiver(statuses: tuple[int, ...] = ()) -> Iterator[Receiver]:
    receiver = Receiver(statuses)
    with ServedApp(receiver.app) as served:
        receiver.url = f"{served.url}/hook"
        yield receiver


async def register(api: httpx.AsyncClient, url: str, **options: Any) -> dict[str, Any]:
    """`POST /_sandbox/webhooks` of the sandbox `api` calls, for `url`: the endpoint (201)."""
    answer = await api.post("/_sandbox/webhooks", json={"url": url, **options})
    assert answer.status_code == 201, answer.text
    registered: dict[str, Any] = answer.json()
    return registered
