"""What a client can hold before its request is read, through raw sockets on 127.0.0.1: the
size of the request head (431), the time to send it (408, slowloris), the time to send the
whole request (408), and the connections open at once (the longest waiting makes room; 503
only when all have a request in progress). The gateway is served as `serve` serves it
(tests/serving.py passes the settings' limits). Regressions: an 8 MB header was read whole,
connections dripping a header line every few seconds stayed open for as long as they dripped, a
body dripping after a 401 kept its connection forever, and 20 connections that sent nothing but
part of a head kept every other caller out (503). No test asserts a duration: the timeouts here
are what the settings ask for, and every wait is bounded.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.gateway.hostile import READ_KEY, Hostile, served_gateway
from tests.raw_http import read_response

DEADLINE_S = 20.0
QUERY = json.dumps({"query": "{ __typename }"}).encode()


@pytest.fixture(scope="module")
def gateway() -> Iterator[Hostile]:
    # Short timeouts and a small connection cap, so that the tests reach them.
    with served_gateway(
        headers_timeout_seconds=1.0, request_timeout_seconds=3.0, max_connections=20
    ) as served:
        yield served


@pytest.fixture(scope="module")
def crowded() -> Iterator[Hostile]:
    # A small connection cap and timeouts no test reaches: connections stay until closed.
    with served_gateway(
        headers_timeout_seconds=60.0, request_timeout_seconds=60.0, max_connections=20
    ) as served:
        yield served


def address(gateway: Hostile) -> tuple[str, int]:
    host, port = gateway.url.removeprefix("http://").split(":")
    return host, int(port)


@contextlib.contextmanager
def connection(gateway: Hostile) -> Iterator[socket.socket]:
    sock = socket.create_connection(address(gateway), timeout=DEADLINE_S)
    try:
        yield sock
    finally:
        sock.close()


def request_head(gateway: Hostile, extra: bytes = b"") -> bytes:
    return (
        b"POST /graphql HTTP/1.1\r\nHost: " + gateway.url.removeprefix("http://").encode() + b"\r\n"
        b"Authorization: Bearer " + READ_KEY.encode() + b"\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: %d\r\n" % len(QUERY) + extra + b"\r\n"
    )


def answer(sock: socket.socket) -> tuple[int, bytes]:
    """(status, body) of the one response the server sends before it closes, within the
    deadline; the connection must end after it."""
    deadline = time.monotonic() + DEADLINE_S
    data = b""
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            break
        if not chunk:
            break
        data += chunk
    else:
        raise AssertionError(f"the connection stayed open: {data[:200]!r}")
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 "), data[:200]
    return int(head.split(b" ")[1]), body


def send_all(sock: socket.socket, data: bytes) -> None:
    """Send what the server reads; it may close the connection midway (that is the point)."""
    with contextlib.suppress(ConnectionResetError, BrokenPipeError):
        sock.sendall(data)


def code_of(body: bytes) -> str:
    code: str = json.loads(body)["errors"][0]["extensions"]["code"]
    return code


@pytest.mark.parametrize("size", [8_000_000, 17_000])
def test_a_header_over_the_limit_is_431_and_the_connection_closed(
    gateway: Hostile, size: int
) -> None:
    with connection(gateway) as sock:
        send_all(sock, request_head(gateway, b"X-Padding: " + b"a" * size + b"\r\n") + QUERY)
        status, body = answer(sock)
    assert status == 431
    assert code_of(body) == "REQUEST_HEADER_FIELDS_TOO_LARGE"


def test_many_headers_over_the_limit_together_are_431(gateway: Hostile) -> None:
    headers = b"".join(b"X-H%d: %s\r\n" % (n, b"v" * 90) for n in range(200))  # 20 kB
    with connection(gateway) as sock:
        send_all(sock, request_head(gateway, headers) + QUERY)
        status, _ = answer(sock)
    assert status == 431


def test_an_unfinished_header_is_refused_before_it_is_read_whole(gateway: Hostile) -> None:
    # Never ends: the server must answer while it still arrives, not buffer it.
    with connection(gateway) as sock:
        send_all(sock, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Endless: ")
        for _ in range(64):  # 4 MB at most
            try:
                sock.sendall(b"a" * 65536)
            except (ConnectionResetError, BrokenPipeError):
                break
        status, _ = answer(sock)
    assert status == 431


def test_headers_within_the_limit_are_served(gateway: Hostile) -> None:
    with connection(gateway) as sock:
        send_all(sock, request_head(gateway, b"X-Padding: " + b"a" * 12_000 + b"\r\n") + QUERY)
        data = sock.recv(65536)
    assert data.startswith(b"HTTP/1.1 200 "), data[:200]


def test_a_connection_dripping_its_headers_is_closed_after_the_header_timeout(
    gateway: Hostile,
) -> None:
    with connection(gateway) as sock:
        send_all(sock, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        for n in range(40):  # a header line every 0.2 s: 8 s, were it never closed
            time.sleep(0.2)
            try:
                sock.sendall(b"X-Drip-%d: 1\r\n" % n)
            except (ConnectionResetError, BrokenPipeError):
                break
            if time.monotonic() - started > 3:
                break
        status, body = answer(sock)
    assert status == 408
    assert code_of(body) == "REQUEST_TIMEOUT"


def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(
    gateway: Hostile,
) -> None:
    with connection(gateway) as sock:
        status, _ = answer(sock)
    assert status == 408


def test_a_request_sent_in_time_is_served_and_the_connection_kept(gateway: Hostile) -> None:
    with connection(gateway) as sock:
        for _ in range(2):  # the timer starts again for the next request on the connection
            send_all(sock, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(sock)[0] == b"HTTP/1.1 200 OK"
            time.sleep(0.6)


def test_connections_over_the_cap_are_refused_with_503(gateway: Hostile) -> None:
    with contextlib.ExitStack() as stack:
        # Each has a request in progress (its head read, its body still arriving), so none
        # can make room for the new one (connections without one can: the test below).
        held = []
        for _ in range(20):
            sock = stack.enter_context(connection(gateway))
            send_all(sock, request_head(gateway) + QUERY[:5])
            held.append(sock)
        time.sleep(0.2)  # let the server read their heads
        with connection(gateway) as extra:
            status, body = answer(extra)
        assert status == 503
        assert code_of(body) == "SERVER_BUSY"
        assert all(still_open(sock) for sock in held)
    # Once they are gone, a new connection is served again.
    assert healthz(gateway) == 200


def still_open(sock: socket.socket) -> bool:
    """Whether the server keeps the connection (nothing arrives within a short wait)."""
    sock.settimeout(0.5)
    try:
        return sock.recv(65536) != b""
    except TimeoutError:
        return True
    except (ConnectionResetError, BrokenPipeError):
        return False
    finally:
        sock.settimeout(DEADLINE_S)


def healthz(gateway: Hostile) -> int:
    """The status of GET /healthz on a new connection, once the server has room again."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        response = httpx.get(f"{gateway.url}/healthz", timeout=DEADLINE_S)
        if response.status_code == 200 or time.monotonic() > deadline:
            return response.status_code
        time.sleep(0.05)


def test_at_the_cap_the_connection_waiting_longest_makes_room(crowded: Hostile) -> None:
    with contextlib.ExitStack() as stack:
        held = []
        for _ in range(20):  # each sends part of a head and waits: no request in progress
            sock = stack.enter_context(connection(crowded))
            send_all(sock, b"GET /healthz HTTP/1.1\r\n")
            held.append(sock)
            time.sleep(0.05)  # so the server sees them in this order
        with connection(crowded) as extra:
            send_all(extra, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            status, _ = answer(extra)
        # It was 503 for every new caller while the 20 held on.
        assert status == 200
        kept = [still_open(sock) for sock in held]
        assert kept == [False] + [True] * 19  # the oldest made room, the others stay
        send_all(held[-1], b"Host: x\r\nConnection: close\r\n\r\n")
        assert answer(held[-1])[0] == 200


def drip_until_closed(sock: socket.socket, seconds: float = 8.0) -> bool:
    """Send a byte every 0.2 s for at most `seconds`; whether the server ended the connection
    (what it answered first, if anything, is not read: an RST may take it)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            sock.sendall(b" ")
        except (ConnectionResetError, BrokenPipeError):
            return True
        if not still_open(sock):
            return True
    return False


def body_head(gateway: Hostile, length: int) -> bytes:
    return request_head(gateway).replace(
        b"Content-Length: %d" % len(QUERY), b"Content-Length: %d" % length
    )


def test_a_body_that_stops_arriving_is_408_after_the_request_timeout(gateway: Hostile) -> None:
    with connection(gateway) as sock:
        send_all(sock, body_head(gateway, 900) + QUERY)  # then nothing: the app waits for more
        status, body = answer(sock)
    assert status == 408
    assert code_of(body) == "REQUEST_TIMEOUT"
    assert healthz(gateway) == 200


def test_a_body_dripping_past_the_request_timeout_is_cut_off(gateway: Hostile) -> None:
    with connection(gateway) as sock:
        send_all(sock, body_head(gateway, 900) + QUERY)
        # A byte every 0.2 s: 180 s for the whole body, each byte within any idle timeout.
        assert drip_until_closed(sock)


def test_a_body_still_dripping_after_a_401_is_cut_off(gateway: Hostile) -> None:
    with connection(gateway) as sock:
        send_all(
            sock,
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000\r\n\r\n{",
        )
        assert sock.recv(65536).startswith(b"HTTP/1.1 401 ")  # answered before the body
        # Without a key: a byte every 0.2 s kept the connection open for as long as it came.
        assert drip_until_closed(sock)
