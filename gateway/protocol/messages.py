"""The bytes `HttpProtocol` writes or parses itself, outside uvicorn: a coded refusal (431, 408,
503), and a request's head again without its upgrade offer."""

from __future__ import annotations

import json
from collections.abc import Iterable

__all__ = ["head_without_upgrade", "refusal"]

# The headers that offer an upgrade, and the `Connection` options that point at them.
_UPGRADE_HEADERS = frozenset({b"upgrade", b"http2-settings"})


def refusal(
    status: bytes, code: str, message: str, default_headers: Iterable[tuple[bytes, bytes]]
) -> bytes:
    """A whole response that closes the connection: `status`, the server's default headers and
    a JSON body with one coded error, as the gateway's other refusals."""
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    head = [b"HTTP/1.1 " + status + b"\r\n"]
    for name, value in default_headers:
        head += [name, b": ", value, b"\r\n"]
    head += [
        b"content-type: application/json\r\n",
        b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
        b"connection: close\r\n\r\n",
    ]
    return b"".join(head) + body


def head_without_upgrade(
    method: bytes, target: bytes, version: bytes, headers: Iterable[tuple[bytes, bytes]]
) -> bytes:
    """The request head `method target HTTP/version` with `headers`, less the upgrade offer
    (`Upgrade`, `HTTP2-Settings`, and the `Connection` options naming them)."""
    head = [method, b" ", target, b" HTTP/", version, b"\r\n"]
    for name, value in headers:
        if name in _UPGRADE_HEADERS:
            continue
        if name == b"connection":
            options = [o.strip() for o in value.split(b",")]
            kept = [o for o in options if o.lower() not in _UPGRADE_HEADERS]
            if not kept:
                continue
            value = b", ".join(kept)
        head += [name, b": ", value, b"\r\n"]
    head.append(b"\r\n")
    return b"".join(head)
