"""A client that offers an upgrade to HTTP/2 (`Upgrade: h2c`, as Java's default HttpClient
does on its first POST) gets its answer over HTTP/1.1, body and all, through real sockets."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.gateway.hostile import READ_KEY, Hostile, served_gateway
from tests.raw_http import read_response

QUERY = json.dumps(
    {"query": "{ invoices(first: 2) { edges { node { provider number total { amount } } } } }"}
).encode()
# What Java's HttpClient sends (its HTTP2-Settings are its default SETTINGS frame).
OFFER = (
    b"Connection: Upgrade, HTTP2-Settings\r\n"
    b"Upgrade: h2c\r\n"
    b"HTTP2-Settings: AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA\r\n"
)
DEADLINE_S = 20.0


@pytest.fixture(scope="module")
def gateway() -> Iterator[Hostile]:
    with served_gateway() as served:
        yield served


def head(gateway: Hostile, *, extra: bytes, length: int | None) -> bytes:
    host = gateway.url.removeprefix("http://").encode()
    framing = (
        b"Transfer-Encoding: chunked\r\n" if length is None else b"Content-Length: %d\r\n" % length
    )
    return (
        b"POST /graphql HTTP/1.1\r\nHost: " + host + b"\r\n"
        b"Authorization: Bearer " + READ_KEY.encode() + b"\r\n"
        b"Content-Type: application/json\r\n" + framing + extra + b"\r\n"
    )


def invoices_of(body: bytes) -> list[dict[str, Any]]:
    answer = json.loads(body)
    assert "errors" not in answer, answer
    return [edge["node"] for edge in answer["data"]["invoices"]["edges"]]


def test_a_post_offering_h2c_is_answered_over_http_1_1_with_its_body(gateway: Hostile) -> None:
    with socket.create_connection(("127.0.0.1", int(gateway.url.rsplit(":", 1)[1])), 10) as sock:
        sock.settimeout(DEADLINE_S)
        # The head, then the body in two writes: the body arrives after the offer was read.
        sock.sendall(head(gateway, extra=OFFER, length=len(QUERY)))
        time.sleep(0.05)
        sock.sendall(QUERY[:7])
        time.sleep(0.05)
        sock.sendall(QUERY[7:])
        status, headers, body = read_response(sock)
        assert status == b"HTTP/1.1 200 OK", body
        assert b"upgrade" not in headers
        nodes = invoices_of(body)
        assert len(nodes) == 2
        assert all(node["number"] and node["total"]["amount"] for node in nodes)

        # The connection stays HTTP/1.1 and keeps serving: one offer more, then a plain request.
        sock.sendall(head(gateway, extra=OFFER, length=len(QUERY)) + QUERY)
        assert invoices_of(read_response(sock)[2]) == nodes
        sock.sendall(head(gateway, extra=b"", length=len(QUERY)) + QUERY)
        assert invoices_of(read_response(sock)[2]) == nodes


def test_a_chunked_post_offering_h2c_keeps_its_body(gateway: Hostile) -> None:
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(QUERY), QUERY)
    with socket.create_connection(("127.0.0.1", int(gateway.url.rsplit(":", 1)[1])), 10) as sock:
        sock.settimeout(DEADLINE_S)
        sock.sendall(head(gateway, extra=OFFER, length=None) + chunked)
        status, _, body = read_response(sock)
        assert status == b"HTTP/1.1 200 OK", body
        assert len(invoices_of(body)) == 2


def test_connect_is_refused_not_tunnelled(gateway: Hostile) -> None:
    with socket.create_connection(("127.0.0.1", int(gateway.url.rsplit(":", 1)[1])), 10) as sock:
        sock.settimeout(DEADLINE_S)
        sock.sendall(b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n")
        status, _, body = read_response(sock)
        assert status.startswith(b"HTTP/1.1 400"), body
