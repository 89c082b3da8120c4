"""A scripted Xendit behind `HandlerTransport`, and JSON fixtures."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from providers.http import HttpPolicy
from providers.transport import HandlerTransport, Request, Response
from providers.xendit import XenditProvider, XenditSettings

FIXTURES = Path(__file__).parent / "fixtures"
SECRET_KEY = "xnd_production_do_not_print_me"
BASE_URL = "https://xendit.test"
#: Tiny waits: retries happen at once, and no test depends on how long anything takes.
POLICY = HttpPolicy(deadline=5.0, attempts=3, wait_initial=0.001, wait_max=0.01, wait_jitter=0)

Reply = Response | Callable[[Request], Response] | Exception


def fixture_text(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text()


def fixture(name: str) -> dict[str, Any]:
    """A fresh copy of `fixtures/<name>.json` (numbers with Python's default types)."""
    data: dict[str, Any] = json.loads(fixture_text(name))
    return copy.deepcopy(data)


def invoice(**changes: Any) -> dict[str, Any]:
    """The paid invoice fixture with some fields changed."""
    return {**fixture("invoice_paid"), **changes}


def error(status: int, code: str, message: str) -> Response:
    return Response.of(status, json={"error_code": code, "message": message})


class FakeXendit:
    """Answers scripted replies per `METHOD /path`, in order (the last one repeats).

    An unscripted route gets a 404 `INVOICE_NOT_FOUND_ERROR`. Every request is recorded.
    """

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[Request] = []

    def on(self, route: str, *replies: Reply | dict[str, Any] | list[Any]) -> None:
        self.routes[route] = [
            Response.of(200, json=reply) if isinstance(reply, dict | list) else reply
            for reply in replies
        ]

    def handler(self, request: Request) -> Response:
        self.requests.append(request)
        replies = self.routes.get(f"{request.method} {request.url.path}")
        if not replies:
            return error(404, "INVOICE_NOT_FOUND_ERROR", "Invoice not found")
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, Response):
            return reply
        return reply(request)

    @property
    def calls(self) -> list[str]:
        """`METHOD /path?query` of every request, in order."""
        calls = []
        for request in self.requests:
            query = f"?{request.url.raw_query_string}" if request.url.raw_query_string else ""
            calls.append(f"{request.method} {request.url.path}{query}")
        return calls

    def body(self, index: int = -1) -> Any:
        """The JSON body of a recorded request (`None` when it had none)."""
        content = self.requests[index].content
        return json.loads(content) if content else None


def make_provider(fake: FakeXendit, **settings: Any) -> XenditProvider:
    values: dict[str, Any] = {"secret_key": SecretStr(SECRET_KEY), "base_url": BASE_URL}
    return XenditProvider(
        settings=XenditSettings(**{**values, **settings}),
        transport=HandlerTransport(fake.handler),
        policy=POLICY,
    )


@pytest.fixture
def fake() -> FakeXendit:
    return FakeXendit()


@pytest.fixture
async def provider(fake: FakeXendit) -> AsyncIterator[XenditProvider]:
    provider = make_provider(fake)
    yield provider
    await provider.aclose()
