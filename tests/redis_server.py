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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

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


@dataclass
class DurableRedis:
    """A `redis-server` that fsyncs every write into its directory: `kill()` (SIGKILL: no
    saving on the way out) and `start()` again on the same port, from the same files."""

    url: str
    kill: Callable[[], None]
    start: Callable[[], None]


@contextlib.contextmanager
def durable_redis_server(directory: Path) -> Iterator[DurableRedis]:
    """`redis-server --appendonly yes --appendfsync always` in `directory`, on a free port:
    what it acknowledged survives `kill()`. Every process it started is stopped after."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: apt-get install redis-server", pytrace=False)
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory)]
    command += ["--save", "", "--appendonly", "yes", "--appendfsync", "always"]
    running: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        running.append(process)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(port):
            if process.poll() is not None:
                raise AssertionError(f"redis-server exited with {process.returncode}")
            if time.monotonic() > deadline:
                raise AssertionError(f"redis-server did not answer in {START_TIMEOUT_S} s")
            time.sleep(0.02)

    def kill() -> None:
        running[-1].kill()
        running[-1].wait(timeout=STOP_TIMEOUT_S)

    start()
    try:
        yield DurableRedis(url=f"redis://127.0.0.1:{port}/0", kill=kill, start=start)
    finally:
        for process in running:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)
