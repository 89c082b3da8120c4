"""One measurement: a scenario at one concurrency, against a running stack.

Both sandboxes are reset to their seed, the scenario is prepared (ids collected, one answer
checked), and a load driver process (the scenario's: `bench.loadgen`, or
`bench.events_driver`) warms up; then the counters are read (CPU time of the gateway, the
sandboxes and the driver from /proc; the sandboxes' request counts), the timed phase runs, and
the counters are read again.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import procfs
from bench.client import GatewayClient
from bench.profiling import Profiler
from bench.scenarios import KEY_PLACEHOLDER, Scenario
from bench.stack import Stack, spawn, stop

__all__ = ["Counters", "DriverError", "Settings", "drive", "entry", "measure", "read_event"]

ROOT = Path(__file__).resolve().parent.parent
REQUEST_TIMEOUT_S = 30.0
#: The events driver's wait for its subscriptions to be open and live.
SUBSCRIBE_TIMEOUT_S = 20.0
#: ... and for the deliveries in flight after a phase's last webhook; then what is missing is.
SETTLE_S = 5.0
#: Beyond warm-up or duration plus one request timeout (or the events driver's waits), the
#: driver is stuck: give up.
DRIVER_GRACE_S = REQUEST_TIMEOUT_S + SUBSCRIBE_TIMEOUT_S + SETTLE_S + 10.0


@dataclass(frozen=True)
class Settings:
    """What every measurement of a run shares."""

    duration_s: float
    warmup_s: float
    upstream_latency_ms: int
    workers: int
    #: Subscriptions the `events` scenario opens.
    subscribers: int = 100

    def as_json(self) -> dict[str, Any]:
        return {
            "duration_s": self.duration_s,
            "warmup_s": self.warmup_s,
            "upstream_latency_ms": self.upstream_latency_ms,
            "workers": self.workers,
            "subscribers": self.subscribers,
        }


class DriverError(RuntimeError):
    """The load driver failed, or said something other than the protocol."""


@dataclass(frozen=True)
class Counters:
    """CPU seconds per process of the gateway, the sandboxes and the driver; upstream requests
    per provider."""

    #: CPU seconds per process, by who: "gateway", "driver", and each sandbox by provider.
    cpu_s: dict[str, dict[int, float]]
    upstream: dict[str, int]
    #: Every CPU's busy time, whoever for: what is not ours is someone else's load.
    machine_busy_s: float

    @classmethod
    def read(cls, stack: Stack, driver: int) -> Counters:
        cpu = {"gateway": procfs.cpu_seconds(stack.gateway_pids())}
        for name, pids in stack.sandbox_pids().items():
            cpu[name] = procfs.cpu_seconds(pids)
        cpu["driver"] = procfs.cpu_seconds([driver])
        if stack.spinner_pids():  # --awake: its busy loop is ours, not another's load
            cpu["awake"] = procfs.cpu_seconds(stack.spinner_pids())
        return cls(
            cpu_s=cpu,
            upstream=stack.upstream_requests(),
            machine_busy_s=procfs.machine_busy_seconds(),
        )

    def cpu_since(self, before: Counters) -> dict[str, float]:
        """CPU seconds each spent since `before`."""

        def spent(now: dict[int, float], then: dict[int, float]) -> float:
            # A process that started meanwhile counts whole; one that ended is lost (none
            # should: the servers run throughout).
            return sum(t - then.get(pid, 0.0) for pid, t in now.items())

        return {who: spent(now, before.cpu_s.get(who, {})) for who, now in self.cpu_s.items()}


def read_event(process: subprocess.Popen[bytes], buffer: bytearray, timeout_s: float) -> Any:
    """The driver's next JSON line, or DriverError when it exits or is silent too long."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    fd = process.stdout.fileno()
    while b"\n" not in buffer:
        left = deadline - time.monotonic()
        if left <= 0:
            raise DriverError(f"the load driver said nothing for {timeout_s:.0f} s")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                raise DriverError(f"the load driver exited ({process.wait(timeout=5)})")
            buffer += chunk
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    try:
        return json.loads(line)
    except ValueError as exc:
        raise DriverError(f"the load driver said {line[:200]!r}") from exc


def drive(
    stack: Stack,
    spec: dict[str, Any],
    *,
    cpus: set[int] | None,
    log: Path,
    profiler: Profiler | None,
    name: str,
    module: str = "bench.loadgen",
) -> tuple[dict[str, Any], Counters, Counters]:
    """Run the driver `module` with `spec`: (its result, the counters before and after the
    timed part). With a profiler, the timed part is sampled into the profile `name`. A driver
    may answer the spec with `{"event": "failed", "error": ...}` instead of `warm`: a
    DriverError saying so."""
    process = spawn(
        [sys.executable, "-m", module],
        env=os.environ,
        log=log,
        cpus=cpus,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert process.stdin is not None
    buffer = bytearray()
    try:
        process.stdin.write(json.dumps(spec).encode() + b"\n")
        process.stdin.flush()
        warm = read_event(process, buffer, spec["warmup_s"] + DRIVER_GRACE_S)
        if warm.get("event") == "failed":
            raise DriverError(f"the load driver failed: {warm.get('error')}")
        if warm.get("event") != "warm":
            raise DriverError(f"the load driver said {warm!r}, not warm")
        if profiler is not None:
            profiler.start(stack.gateway_pids()[0], name)
        before = Counters.read(stack, process.pid)
        process.stdin.write(b"go\n")
        process.stdin.flush()
        done = read_event(process, buffer, spec["duration_s"] + DRIVER_GRACE_S)
        after = Counters.read(stack, process.pid)
        if profiler is not None:
            profiler.stop()
        if done.get("event") != "done":
            raise DriverError(f"the load driver said {done!r}, not done")
        result: dict[str, Any] = done["result"]
        return result, before, after
    finally:
        stop(process)
        if profiler is not None:
            profiler.stop()  # after a failure; a no-op when it stopped above


def measure(
    stack: Stack,
    client: GatewayClient,
    scenario: Scenario,
    *,
    concurrency: int,
    settings: Settings,
    cpus: set[int] | None,
    log_dir: Path,
    profiler: Profiler | None = None,
) -> dict[str, Any]:
    """The JSON entry of `scenario` at `concurrency`; the driver runs pinned to `cpus`. With
    a profiler, the gateway is sampled during the timed part (which slows it down).

    Raises DriverError, StackError, or AssertionError when the scenario cannot be prepared."""
    stack.reset_sandboxes()
    workload = scenario.prepare(client)
    spec: dict[str, Any] = {
        "url": f"{stack.gateway_url}/graphql",
        "api_key": stack.api_key,
        "body": workload.body.decode(),
        "key_placeholder": KEY_PLACEHOLDER if workload.fresh_keys else None,
        "must_contain": list(workload.must_contain),
        "concurrency": concurrency,
        "warmup_s": settings.warmup_s,
        "duration_s": settings.duration_s,
        "request_timeout_s": REQUEST_TIMEOUT_S,
        "run_id": f"{scenario.name}-{concurrency}-{time.time_ns()}",
    }
    if scenario.driver == "bench.events_driver":
        spec = {
            "url": stack.gateway_url,
            "query": workload.body.decode(),
            "subscriber_key": stack.subscriber_key,
            "callback_token": stack.callback_token,
            "subscribers": settings.subscribers,
            "concurrency": concurrency,
            "warmup_s": settings.warmup_s,
            "duration_s": settings.duration_s,
            "request_timeout_s": REQUEST_TIMEOUT_S,
            "subscribe_timeout_s": SUBSCRIBE_TIMEOUT_S,
            "settle_s": SETTLE_S,
        }
    result, before, after = drive(
        stack,
        spec,
        cpus=cpus,
        log=log_dir / f"{scenario.driver.rpartition('.')[2]}.log",
        profiler=profiler,
        name=f"{scenario.name}-c{concurrency}",
        module=scenario.driver,
    )
    return entry(stack, scenario, concurrency, settings, result, before, after)


def entry(
    stack: Stack,
    scenario: Scenario,
    concurrency: int,
    settings: Settings,
    result: dict[str, Any],
    before: Counters,
    after: Counters,
) -> dict[str, Any]:
    """The JSON entry of a driver's `result` and the counters around it: the driver's numbers
    per request, the upstream calls, CPU and memory."""
    stack.check_alive()
    requests = result["requests"]
    upstream = {name: after.upstream[name] - before.upstream[name] for name in after.upstream}
    latency_ms = settings.upstream_latency_ms
    floor_ms = scenario.floor_round_trips * latency_ms
    p50 = result["latency_ms"]["p50"]
    cpu = after.cpu_since(before)
    # The time the counters span: the requests' (the events driver's also has the deliveries
    # that followed its last webhook).
    counted_s = result.get("counted_s", result["elapsed_s"])

    def per_request(value: float) -> float | None:
        return value / requests if requests else None

    return {
        "name": scenario.name,
        "concurrency": concurrency,
        "requests": requests,
        "errors": result["errors"],
        "rps": result["rps"],
        "latency_ms": {key: result["latency_ms"][key] for key in ("p50", "p95", "p99")},
        "upstream_requests_per_request": per_request(sum(upstream.values())),
        "upstream_requests_per_request_by_provider": {
            name: per_request(count) for name, count in upstream.items()
        },
        "gateway_cpu_ms_per_request": per_request(cpu["gateway"] * 1000),
        "gateway_peak_rss_mb": procfs.peak_rss_mb(stack.gateway_pids()),
        "floor_ms": floor_ms,
        "overhead_ms_p50": p50 - floor_ms if concurrency == 1 and p50 is not None else None,
        "floor_basis": scenario.floor_basis,
        # Not asked for, but they tell whether the gateway or its neighbours were the limit, and
        # how much of the latency above the floor is the sandboxes' own work.
        "cpu_ms_per_request": {who: per_request(spent * 1000) for who, spent in cpu.items()},
        "cpu_utilisation": {who: spent / counted_s for who, spent in cpu.items()},
        # Cores kept busy by anything else on the machine meanwhile (the harness itself, a
        # profiler, other people's work): numbers taken beside a busy neighbour are suspect.
        "other_load_cores": max(
            0.0, (after.machine_busy_s - before.machine_busy_s - sum(cpu.values())) / counted_s
        ),
        "elapsed_s": result["elapsed_s"],
        "error_samples": result["error_samples"],
        **_events_of(result, cpu["gateway"], scenario.delivery_round_trips * latency_ms),
    }


def _events_of(
    result: dict[str, Any], gateway_cpu_s: float, delivery_floor_ms: int
) -> dict[str, Any]:
    """An events driver's own numbers (`events`), with the gateway's CPU per delivery and the
    delivery latency's floor."""
    events = result.get("events")
    if events is None:
        return {}
    deliveries = events["deliveries"]
    per_delivery = gateway_cpu_s * 1e6 / deliveries if deliveries else None
    return {
        "events": {
            **events,
            "gateway_cpu_us_per_delivery": per_delivery,
            "delivery_floor_ms": delivery_floor_ms,
        }
    }
