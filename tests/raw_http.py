"""Reading HTTP/1.1 answers off a raw socket, for tests that must send bytes no client library
would (upgrade offers, dripped or oversized heads) on a connection that may stay open."""

from __future__ import annotations

import socket
import time

DEADLINE_S = 20.0


def read_response(
    sock: socket.socket, *, deadline_s: float = DEADLINE_S
) -> tuple[bytes, dict[bytes, bytes], bytes]:
    """(status line, headers with lower-case names, body) of one Content-Length response,
    whose head and body may arrive in separate packets, within `deadline_s`. The bytes after
    it, if any, are the next response's: a caller that reads one response must find none."""
    deadline = time.monotonic() + deadline_s
    data = b""
    while b"\r\n\r\n" not in data:
        assert time.monotonic() < deadline, data[:200]
        chunk = sock.recv(65536)
        assert chunk, f"the server closed the connection: {data[:200]!r}"
        data += chunk
    raw_head, body = data.split(b"\r\n\r\n", 1)
    status, *lines = raw_head.split(b"\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(b":", 1) for line in lines)}
    length = int(headers[b"content-length"])
    while len(body) < length:
        assert time.monotonic() < deadline, body[:200]
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection mid-body"
        body += chunk
    assert len(body) == length, "nothing may follow the one response"
    return status, headers, body
