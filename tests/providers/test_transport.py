"""providers.transport: what each transport sends and reads, on loopback and in process."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import subprocess
import sys
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from yarl import URL

from providers.errors import ProviderBadResponse, ProviderConnectionLost, ProviderUnavailable
from providers.http import HttpPolicy
from providers.transport import (
    AsgiTransport,
    ConnectionLost,
    Request,
    Response,
    ResponseTooLarge,
    Timeouts,
    UnreadableResponse,
)
from providers.xendit.client import XenditClient
from tests.providers.test_http import aiohttp_upstream, loopback_server

ROOT = Path(__file__).resolve().parents[2]
TIMEOUTS = Timeouts(connect=5, read=5)
GZIP_HEAD = b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: %d\r\n\r\n"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def recording_server(answers: list[bytes], heads: list[bytes]) -> Handler:
    """Answers each request on a connection with the next of `answers` (the last repeats),
    recording each request head; closes when the client does."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for _ in range(100):
                head = await reader.readuntil(b"\r\n\r\n")
                heads.append(head)
                answer = answers[min(len(heads), len(answers)) - 1]
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    return handle


# -- the network transport ----------------------------------------------------------------------


def test_serving_and_calling_providers_never_imports_httpx() -> None:
    """The gateway's runtime needs neither httpx nor httpx-aiohttp (test dependencies only)."""
    script = textwrap.dedent(
        """
        import asyncio, sys
        from gateway.app import create_app, providers_from_environment
        from gateway.settings import GatewaySettings
        from providers.models import InvoiceFilter, PageRequest

        async def main():
            settings = GatewaySettings()
            providers = providers_from_environment(settings, {})
            create_app(settings=settings, providers=providers)
            for wired in providers.values():
                page = await wired.provider.list_invoices(InvoiceFilter(), PageRequest(first=2))
                assert len(page.items) == 2
                await wired.provider.aclose()

        asyncio.run(main())
        clients = ("httpx", "httpcore", "httpx_aiohttp")
        print(sorted(m for m in sys.modules if m.split(".")[0] in clients))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


async def test_cookies_a_provider_sets_are_never_sent_back() -> None:
    """One connection pool serves every caller: a cookie kept from one answer would go out with
    the next caller's request."""
    heads: list[bytes] = []
    answers = [
        b"HTTP/1.1 200 OK\r\nset-cookie: session=caller-a; Path=/\r\ncontent-length: 2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}",
    ]
    async with loopback_server(recording_server(answers, heads)) as port:
        upstream = aiohttp_upstream(port, HttpPolicy(attempts=1))
        try:
            await upstream.request("GET", "/first", retry=False)
            await upstream.request("GET", "/second", retry=False)
        finally:
            await upstream.aclose()
    assert len(heads) == 2
    assert b"cookie" not in heads[1].lower()


async def test_credentials_in_the_base_url_are_never_sent_nor_shown() -> None:
    """Only the client's own authorization goes out: user info in XENDIT_BASE_URL neither
    replaces it nor clashes with it, and no repr shows it."""
    heads: list[bytes] = []
    answers = [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n[]"]
    async with loopback_server(recording_server(answers, heads)) as port:
        client = XenditClient.connect(
            base_url=f"http://someone:hunter2@127.0.0.1:{port}",
            secret_key=SecretStr("xnd_key"),
            policy=HttpPolicy(attempts=1),
        )
        try:
            assert await client.list_invoices({"limit": "1"}) == []
            assert "hunter2" not in repr(client)
        finally:
            await client.aclose()
    (head,) = heads
    assert b"hunter2" not in head
    lines = head.decode().split("\r\n")[1:]
    fields = [line.split(": ", 1) for line in lines if line]
    assert [value for name, value in fields if name.lower() == "authorization"] == [
        "Basic eG5kX2tleTo="  # base64 of "xnd_key:"
    ]


async def test_an_encoded_body_is_capped_at_its_decoded_size() -> None:
    """A small compressed answer that inflates past the cap is refused, never held whole."""
    inflated = gzip.compress(b"0" * (4 * 1024 * 1024))
    head = b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: %d\r\n\r\n" % len(
        inflated
    )
    async with loopback_server(recording_server([head + inflated], [])) as port:
        upstream = aiohttp_upstream(port, HttpPolicy(attempts=1, max_response_bytes=64 * 1024))
        try:
            with pytest.raises(ProviderBadResponse, match="larger than 65536 bytes"):
                await upstream.request("GET", "/bomb", retry=False)
        finally:
            await upstream.aclose()


async def test_an_encoded_body_within_the_cap_is_read_decoded() -> None:
    body = b'{"a": "' + b"x" * 5000 + b'"}'
    packed = gzip.compress(body)
    head = GZIP_HEAD % len(packed)
    async with loopback_server(recording_server([head + packed], [])) as port:
        upstream = aiohttp_upstream(port, HttpPolicy(attempts=1))
        try:
            response = await upstream.request("GET", "/small", retry=False)
        finally:
            await upstream.aclose()
    assert response.content == body


async def test_a_body_cut_short_is_a_lost_connection() -> None:
    answer = b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{}"

    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(answer)
            await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async with loopback_server(cut) as port:
        upstream = aiohttp_upstream(port, HttpPolicy(attempts=1))
        try:
            with pytest.raises(ProviderConnectionLost):
                await upstream.request("GET", "/cut", retry=False)
        finally:
            await upstream.aclose()


async def test_a_closed_upstream_sends_nothing_and_says_the_provider_is_unavailable() -> None:
    heads: list[bytes] = []
    answers = [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    async with loopback_server(recording_server(answers, heads)) as port:
        upstream = aiohttp_upstream(port, HttpPolicy(attempts=3, wait_initial=0.001))
        await upstream.request("GET", "/open", retry=True)
        await upstream.aclose()
        with pytest.raises(ProviderUnavailable, match="acme could not be reached"):
            await upstream.request("GET", "/closed", retry=True)
        await upstream.aclose()  # twice is fine
    assert len(heads) == 1


# -- in process ---------------------------------------------------------------------------------


def request(url: str, *, method: str = "GET", content: bytes | None = None) -> Request:
    return Request(method, URL(url, encoded=True), {"accept": "application/json"}, content)


async def test_the_app_sees_the_request_as_a_server_would_pass_it() -> None:
    seen: list[dict[str, Any]] = []
    bodies: list[bytes] = []
    after: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(dict(scope))
        bodies.append((await receive())["body"])
        await send({"type": "http.response.start", "status": 201, "headers": [(b"x-a", b"1")]})
        await send({"type": "http.response.body", "body": b"he", "more_body": True})
        await send({"type": "http.response.body", "body": b"llo"})
        after.append((await receive())["type"])  # the client has its answer and left

    transport = AsgiTransport(app, root_path="/sandbox/acme")
    url = "http://gw.test:8080/sandbox/acme/v1/things/a%2Fb?x=1&y=%20"
    response = await transport.send(
        request(url, method="POST", content=b"{}"), timeouts=TIMEOUTS, max_bytes=100
    )
    assert (response.status_code, response.headers["x-a"], response.content) == (201, "1", b"hello")
    (scope,) = seen
    assert scope["method"] == "POST"
    assert scope["path"] == "/sandbox/acme/v1/things/a/b"
    assert scope["raw_path"] == b"/sandbox/acme/v1/things/a%2Fb"
    assert scope["root_path"] == "/sandbox/acme"
    assert scope["query_string"] == b"x=1&y=%20"
    assert scope["server"] == ("gw.test", 8080)
    headers = dict(scope["headers"])
    assert headers[b"host"] == b"gw.test:8080"
    assert headers[b"content-length"] == b"2"
    assert bodies == [b"{}"]
    assert after == ["http.disconnect"]


async def test_an_apps_dropped_connection_is_a_lost_connection_and_other_errors_are_its_own() -> (
    None
):
    async def dropping(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise ConnectionResetError("dropped")

    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("a bug in the app")

    async def silent(scope: Any, receive: Any, send: Any) -> None:
        return None

    with pytest.raises(ConnectionLost):
        await AsgiTransport(dropping).send(request("http://a/"), timeouts=TIMEOUTS, max_bytes=10)
    with pytest.raises(RuntimeError, match="a bug in the app"):
        await AsgiTransport(broken).send(request("http://a/"), timeouts=TIMEOUTS, max_bytes=10)
    with pytest.raises(UnreadableResponse):
        await AsgiTransport(silent).send(request("http://a/"), timeouts=TIMEOUTS, max_bytes=10)


async def test_an_apps_answer_over_the_cap_is_too_large() -> None:
    async def big(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(10):
            await send({"type": "http.response.body", "body": b"x" * 10, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    with pytest.raises(ResponseTooLarge):
        await AsgiTransport(big).send(request("http://a/"), timeouts=TIMEOUTS, max_bytes=99)
    answer = await AsgiTransport(big).send(request("http://a/"), timeouts=TIMEOUTS, max_bytes=100)
    assert answer == Response(200, {}, b"x" * 100)
