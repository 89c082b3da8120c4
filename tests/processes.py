"""The `invoice-gateway` console script as a test runs it: a real process on a free 127.0.0.1
port, waited for (bounded) until it answers, stopped afterwards.

Its stderr goes to a file, never to a pipe: a pipe nobody reads fills up with the warnings a
busy or faulty run logs, and then blocks the process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

SCRIPT = str(Path(sys.executable).parent / "invoice-gateway")
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without the gateway's and providers' settings, plus `extra`."""
    prefixes = ("FLEXPRICE_", "XENDIT_", "GATEWAY_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    # Stopped by SIGTERM at the end of each test: no load balancer to wait for.
    return {**env, "GATEWAY_SHUTDOWN_DRAIN_SECONDS": "0", **extra}


@dataclass
class Started:
    """A running `invoice-gateway` and the file its stderr goes to."""

    process: subprocess.Popen[bytes]
    log: Path

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> str:
        """SIGTERM, wait (bounded; killed past it), and what it wrote to stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        return self.stderr()


@contextlib.contextmanager
def running(
    args: list[str],
    env: dict[str, str],
    ready_url: str,
    *,
    log: Path | None = None,
    out: Path | None = None,
) -> Iterator[Started]:
    """`invoice-gateway ARGS` until `ready_url` answers below 500 (at most START_TIMEOUT_S);
    stopped on the way out. Its stderr goes to `log`, or to a temporary file; its stdout
    (uvicorn's access log) to `out`, or nowhere."""
    with contextlib.ExitStack() as cleanup:
        if log is None:
            folder = cleanup.enter_context(tempfile.TemporaryDirectory())
            log = Path(folder) / "stderr.log"
        with log.open("wb") as err, contextlib.ExitStack() as files:
            stdout = files.enter_context(out.open("wb")) if out else subprocess.DEVNULL
            process = subprocess.Popen([SCRIPT, *args], env=env, stdout=stdout, stderr=err)
        started = Started(process, log)
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                if process.poll() is not None:
                    raise AssertionError(f"{args} exited: {started.stderr()[-2000:]}")
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(ready_url, timeout=1.0).status_code < 500:
                        break
                if time.monotonic() > deadline:
                    raise AssertionError(f"{args} did not start in {START_TIMEOUT_S} s")
                time.sleep(0.05)
            yield started
        finally:
            started.stop()
