"""The servers of a benchmark run: both sandboxes standalone and the gateway in front of them,
each its own process in its own process group, on 127.0.0.1 ports picked by binding port 0.

`Stack` is a context manager: leaving it stops every process it started (SIGTERM to the group,
then SIGKILL after a bounded wait), whatever went wrong.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from bench import procfs

__all__ = ["Stack", "StackError", "cli_command", "free_port", "spawn", "stop"]

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
#: The sandbox's answer to the control routes, and the gateway's to /readyz, must come fast.
CONTROL_TIMEOUT_S = 10.0
#: Our own settings for the gateway; whatever the caller's shell has for these is dropped.
OWNED_PREFIXES = ("GATEWAY_", "FLEXPRICE_", "XENDIT_")
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: The key each standalone sandbox accepts (made up: a sandbox holds nothing real).
SANDBOX_KEYS = {"flexprice": "sk_bench_flexprice", "xendit": "xnd_development_bench"}


class StackError(RuntimeError):
    """A server did not start, or a control call failed; the message says which and where its
    log is."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def cli_command() -> list[str]:
    """How to run `invoice-gateway`: the console script beside this Python, else on PATH."""
    beside = Path(sys.executable).parent / "invoice-gateway"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("invoice-gateway")
    if found:
        return [found]
    raise StackError("invoice-gateway is not installed: run pip install -e '.[bench]' first")


def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    log: Path | None,
    cpus: set[int] | None,
    stdin: int | None = None,
    stdout: int | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start `argv` in a new session (so its whole group can be stopped), its output to `log`
    unless `stdout` is given, pinned to `cpus` when given (children inherit the pinning)."""
    sink = open(log, "ab") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    try:
        process = subprocess.Popen(  # noqa: S603 - our own commands, as a list, no shell
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=stdout if stdout is not None else sink,
            stderr=sink,
            start_new_session=True,
        )
    finally:
        if log is not None and not isinstance(sink, int):
            sink.close()
    if cpus:
        # OSError: it already exited, and whoever waits for it will say so.
        with contextlib.suppress(OSError):
            os.sched_setaffinity(process.pid, cpus)
    return process


#: A loop that only runs when nothing else on its CPU wants to (SCHED_IDLE).
_SPINNER = "import os\nos.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))\nwhile True: pass"


def _spin(cpus: set[int] | None, log: Path) -> subprocess.Popen[bytes]:
    """A busy loop on `cpus` at the lowest priority there is: it yields its CPU the moment the
    gateway wants it, so the gateway's work is unchanged, but the CPU never goes idle. On a
    virtual machine an idle CPU is handed back to the host, and waking it again costs the next
    request (`--awake` in bench/README.md). A diagnosis, not a way to serve."""
    if not cpus:
        raise StackError("--awake needs pinning (--pin) to know which CPU to keep awake")
    return spawn([sys.executable, "-c", _SPINNER], env=os.environ, log=log, cpus=cpus)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop `process` and its group: SIGTERM, then SIGKILL if still there after a bounded wait."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):  # the group is gone already
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
            break
        except subprocess.TimeoutExpired:
            continue
    # A leader that exited before its group: make sure stragglers do not outlive the run.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


@dataclass(frozen=True)
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path


class Stack:
    """Two standalone sandboxes with `latency_ms` on every API call, and the gateway (with
    `workers` processes) pointed at them through the environment, callable with `api_key`;
    subscribable with `subscriber_key` (a read key: twice `subscribers` subscriptions at
    once, at least 100); Xendit's invoice callbacks carry `callback_token` (`gateway_environ`).

    `gateway_cpus` and `other_cpus` pin the gateway, and the sandboxes, to CPUs (None: no
    pinning). Logs go to `log_dir`."""

    def __init__(
        self,
        *,
        log_dir: Path,
        latency_ms: int,
        workers: int,
        gateway_cpus: set[int] | None,
        other_cpus: set[int] | None,
        gateway_env: Mapping[str, str] | None = None,
        floor: str | None = None,
        awake: bool = False,
        subscribers: int = 0,
    ) -> None:
        self.log_dir = log_dir
        #: A `bench.floor_app` mode served instead of the gateway (`bench/floors.py`).
        self.floor = floor
        #: Keep the gateway's CPUs from idling (a SCHED_IDLE spinner on them: see `_spin`).
        self.awake = awake
        self.gateway_env = dict(gateway_env or {})
        self.latency_ms = latency_ms
        self.workers = workers
        self.gateway_cpus = gateway_cpus
        self.other_cpus = other_cpus
        self.api_key = secrets.token_hex(24)
        #: A `read` key for the `events` scenario's subscribers (a frontend's kind of key).
        self.subscriber_key = secrets.token_hex(24)
        #: What Xendit's invoice callbacks to the gateway carry in `x-callback-token`.
        self.callback_token = secrets.token_hex(24)
        #: Subscriptions the `events` scenario opens at once (its subscriber key's limit).
        self.subscribers = subscribers
        self.sandboxes: dict[str, Server] = {}
        self.gateway: Server | None = None
        self._started: list[subprocess.Popen[bytes]] = []
        self._spinner: subprocess.Popen[bytes] | None = None
        self._http = httpx.Client(timeout=CONTROL_TIMEOUT_S)

    def __enter__(self) -> Stack:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop everything started, the gateway first (it holds connections to the others).
        A second Ctrl-C meanwhile is ignored: it must not leave a server behind."""
        try:
            held = {sig: signal.signal(sig, signal.SIG_IGN) for sig in _STOP_SIGNALS}
        except ValueError:  # not the main thread: signals are not ours to hold
            held = {}
        try:
            for process in reversed(self._started):
                stop(process)
            self._started.clear()
            self._http.close()
        finally:
            for sig, handler in held.items():
                signal.signal(sig, handler)

    # -- start-up --------------------------------------------------------------------------

    def _start(self) -> None:
        command = cli_command()
        keys = SANDBOX_KEYS
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(OWNED_PREFIXES)}
        for name, key in keys.items():
            port = free_port()
            log = self.log_dir / f"sandbox-{name}.log"
            argv = [
                *command,
                "sandbox",
                name,
                "--host",
                HOST,
                "--port",
                str(port),
                "--latency-ms",
                str(self.latency_ms),
                "--api-key",
                key,
            ]
            process = spawn(argv, env=base_env, log=log, cpus=self.other_cpus)
            self._started.append(process)
            self.sandboxes[name] = Server(name, process, f"http://{HOST}:{port}", log)
        for server in self.sandboxes.values():
            self._wait(server, "/_sandbox/stats")
        if self.awake:
            self._spinner = _spin(self.gateway_cpus, self.log_dir / "awake.log")
            self._started.append(self._spinner)
        port = free_port()
        if self.floor is not None:
            self._start_floor(port, base_env, keys["xendit"])
            return
        urls = {name: server.url for name, server in self.sandboxes.items()}
        env = {**base_env, **self.gateway_environ(urls)}
        argv = [*command, "serve", "--host", HOST, "--port", str(port)]
        argv += ["--workers", str(self.workers)]
        log = self.log_dir / "gateway.log"
        process = spawn(argv, env=env, log=log, cpus=self.gateway_cpus)
        self._started.append(process)
        self.gateway = Server("gateway", process, f"http://{HOST}:{port}", log)
        self._wait(self.gateway, "/readyz")
        if self.workers > 1:
            self._wait_for_workers()

    def gateway_environ(self, sandbox_urls: Mapping[str, str]) -> dict[str, str]:
        """The gateway's settings (beside the caller's environment, whose `GATEWAY_*`,
        `FLEXPRICE_*` and `XENDIT_*` are dropped): both providers for real on the sandboxes at
        `sandbox_urls`, a write key for the requests, a read key for the `events` scenario's
        subscribers, and the callback token of Xendit's invoice callbacks."""
        return {
            "GATEWAY_PROVIDERS": ",".join(SANDBOX_KEYS),
            "GATEWAY_API_KEYS": f"bench:write:{self.api_key},"
            f"bench-subscriber:read:{self.subscriber_key}",
            # Twice the subscribers: a run's subscriptions may still be ending in the gateway
            # when the next run opens its own.
            "GATEWAY_MAX_SUBSCRIPTIONS_PER_CALLER": str(max(100, 2 * self.subscribers)),
            "FLEXPRICE_BASE_URL": f"{sandbox_urls['flexprice']}/v1",
            "FLEXPRICE_API_KEY": SANDBOX_KEYS["flexprice"],
            "XENDIT_BASE_URL": sandbox_urls["xendit"],
            "XENDIT_SECRET_KEY": SANDBOX_KEYS["xendit"],
            "XENDIT_CALLBACK_TOKEN": self.callback_token,
            **self.gateway_env,
        }

    def _start_floor(self, port: int, base_env: Mapping[str, str], xendit_key: str) -> None:
        """`bench.floor_app` under uvicorn as `serve` runs the gateway (uvloop, httptools, no
        access log), fetching Xendit's 50-invoice page (the gateway asks for 51) if it proxies."""
        token = base64.b64encode(f"{xendit_key}:".encode()).decode()
        env = {
            **base_env,
            "FLOOR_MODE": str(self.floor),
            "FLOOR_UPSTREAM": f"{self.sandboxes['xendit'].url}/v2/invoices?limit=51",
            "FLOOR_AUTHORIZATION": f"Basic {token}",
            "PYTHONPATH": str(ROOT),
        }
        argv = [sys.executable, "-m", "uvicorn", "bench.floor_app:app", "--host", HOST]
        argv += ["--port", str(port), "--loop", "uvloop", "--http", "httptools"]
        argv += ["--no-access-log", "--log-level", "warning", "--no-server-header"]
        log = self.log_dir / "floor.log"
        process = spawn(argv, env=env, log=log, cpus=self.gateway_cpus, cwd=ROOT)
        self._started.append(process)
        self.gateway = Server("floor", process, f"http://{HOST}:{port}", log)
        self._wait(self.gateway, "/readyz")

    def _wait(self, server: Server, path: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if server.process.poll() is not None:
                raise StackError(
                    f"{server.name} exited with {server.process.returncode} before it was "
                    f"ready; the end of {server.log}:\n{_tail(server.log)}"
                )
            try:
                if self._http.get(server.url + path, timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise StackError(
                    f"{server.name} was not ready in {START_TIMEOUT_S:.0f} s; the end of "
                    f"{server.log}:\n{_tail(server.log)}"
                )
            time.sleep(0.05)

    def _wait_for_workers(self) -> None:
        # /readyz answered by one worker says nothing of the others: wait until uvicorn's
        # master has them all (they are its children running the app).
        assert self.gateway is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while len(procfs.descendants(self.gateway.process.pid)) < self.workers:
            if time.monotonic() > deadline:
                raise StackError(f"the gateway did not start {self.workers} workers in time")
            time.sleep(0.1)
        time.sleep(1.0)  # each worker imports the app and starts its lifespan

    # -- what a run reads and resets -------------------------------------------------------

    @property
    def gateway_url(self) -> str:
        assert self.gateway is not None
        return self.gateway.url

    def gateway_pids(self) -> list[int]:
        assert self.gateway is not None
        return procfs.process_tree(self.gateway.process.pid)

    def spinner_pids(self) -> list[int]:
        """The `--awake` busy loop's process, if there is one."""
        return [self._spinner.pid] if self._spinner is not None else []

    def sandbox_pids(self) -> dict[str, list[int]]:
        return {name: procfs.process_tree(s.process.pid) for name, s in self.sandboxes.items()}

    def check_alive(self) -> None:
        """Raise StackError naming the first server that exited."""
        for server in [*self.sandboxes.values(), *([self.gateway] if self.gateway else [])]:
            if server.process.poll() is not None:
                raise StackError(
                    f"{server.name} exited with {server.process.returncode}; the end of "
                    f"{server.log}:\n{_tail(server.log)}"
                )

    def reset_sandboxes(self) -> None:
        """Back to the seed (stats zeroed; the start-up latency stays)."""
        for server in self.sandboxes.values():
            self._control("POST", server, "/_sandbox/reset")

    def upstream_requests(self) -> dict[str, int]:
        """Requests each sandbox's API has answered since its last reset."""
        counts: dict[str, int] = {}
        for name, server in self.sandboxes.items():
            stats = self._control("GET", server, "/_sandbox/stats")
            total = stats["requests_total"]
            if not isinstance(total, int):
                raise StackError(f"the {name} sandbox's stats have no requests_total: {stats}")
            counts[name] = total
        return counts

    def _control(self, method: str, server: Server, path: str) -> dict[str, object]:
        try:
            response = self._http.request(method, server.url + path)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise StackError(f"{method} {path} on the {server.name} sandbox failed: {exc}") from exc
        body: dict[str, object] = response.json()
        return body
