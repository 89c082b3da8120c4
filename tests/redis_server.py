"""A real `redis-server` for a test: on a free 127.0.0.1 port, nothing saved, stopped after.

A machine without the binary fails the test that needs it (never skips it): install it with
`apt-get install redis-server` (`.ci/run` does).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.processes import free_port

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            # PONG, or NOAUTH from a server started with --requirepass: either way it is up.
            return sock.recv(64).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


@contextlib.contextmanager
def redis_server(*args: str) -> Iterator[str]:
    """Start `redis-server` (with extra `args`), wait until it answers PING; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: apt-get install redis-server", pytrace=False)
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1"]
    command += ["--save", "", "--appendonly", "no", *args]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(port):
            if process.poll() is not None:
                raise AssertionError(f"redis-server exited with {process.returncode}")
            if time.monotonic() > deadline:
                raise AssertionError(f"redis-server did not answer in {START_TIMEOUT_S} s")
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
