"""`python bench/run.py`: start the stack, run every scenario at every concurrency, report.

One stack (two sandboxes and the gateway, `bench.stack`) serves the whole run, so the
gateway's peak memory is over every scenario run so far; `bench.measurement` measures each
(scenario, concurrency). Every process started is stopped on the way out.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import sys
import tempfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any

from bench import report
from bench.client import GatewayClient
from bench.measurement import DriverError, Settings, measure
from bench.profiling import Profiler
from bench.scenarios import ALL_SCENARIOS, FLOORS, Scenario
from bench.stack import Stack, StackError

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
#: Cores busy with work not ours during a run, above which its numbers are called perturbed.
OTHER_LOAD_WARNING = 0.25
VERSIONS_OF = ("strawberry-graphql", "graphql-core", "uvicorn", "starlette", "aiohttp", "pydantic")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python bench/run.py",
        description="Benchmark the gateway against two standalone sandboxes (bench/README.md).",
    )
    parser.add_argument(
        "--scenario",
        nargs="+",
        choices=sorted(ALL_SCENARIOS),
        default=None,
        metavar="NAME",
        help="scenarios to run (default: all but those marked *): "
        + ", ".join(name + ("" if s.default else "*") for name, s in ALL_SCENARIOS.items()),
    )
    parser.add_argument("--duration", type=float, default=10.0, help="timed seconds (10)")
    parser.add_argument(
        "--warmup",
        type=float,
        default=2.0,
        help="seconds of uncounted load before each timed run (2; at most --duration)",
    )
    parser.add_argument(
        "--concurrency",
        nargs="+",
        type=int,
        default=[1, 32],
        metavar="N",
        help="concurrent requests, each sent back to back (1 32)",
    )
    parser.add_argument(
        "--subscribers",
        type=int,
        default=100,
        metavar="S",
        help="subscriptions the events scenario holds open over SSE while webhooks arrive (100)",
    )
    parser.add_argument(
        "--upstream-latency-ms",
        type=int,
        default=20,
        metavar="L",
        help="latency of every sandbox API call (20)",
    )
    parser.add_argument("--workers", type=int, default=1, help="gateway worker processes (1)")
    parser.add_argument(
        "--pin",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="pin the gateway to its own CPU(s) and everything else to the rest (default: on "
        "when there are at least 2 CPUs)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="DIR",
        help="sample the gateway with py-spy during each timed run into DIR (slows it: "
        "profile and measure in separate runs)",
    )
    parser.add_argument(
        "--gateway-env",
        action="append",
        default=[],
        metavar="GATEWAY_NAME=VALUE",
        help="a gateway setting for this run, e.g. GATEWAY_ACCESS_LOG=false (repeatable; only "
        "GATEWAY_* names; shown under the table)",
    )
    parser.add_argument(
        "--floor",
        nargs="+",
        choices=sorted(FLOORS),
        default=None,
        metavar="MODE",
        help="measure bench/floor_app.py in MODE instead of the gateway, one stack each: "
        f"{', '.join(FLOORS)} (replaces --scenario)",
    )
    parser.add_argument(
        "--awake",
        action="store_true",
        help="keep the gateway's CPU from idling with a lowest-priority busy loop (needs "
        "pinning): how much of concurrency 1 is the CPU waking up (a diagnosis)",
    )
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="write JSON here")
    parser.add_argument(
        "--png",
        type=Path,
        default=ROOT / "bench" / "results" / "latest.png",
        metavar="PATH",
        help="draw throughput and p99 against concurrency here (bench/results/latest.png)",
    )
    return parser


def _cpu_split(pin: bool | None, workers: int) -> tuple[set[int] | None, set[int] | None]:
    """(the gateway's CPUs, everyone else's), or (None, None) without pinning."""
    cpus = sorted(os.sched_getaffinity(0))
    if pin is None:
        pin = len(cpus) >= 2
    if not pin or len(cpus) < 2:
        return None, None
    take = max(1, min(workers, len(cpus) - 1))
    return set(cpus[:take]), set(cpus[take:])


def _machine(gateway_cpus: set[int] | None, other_cpus: set[int] | None) -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for name in VERSIONS_OF:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "pinning": None
        if gateway_cpus is None
        else {"gateway": sorted(gateway_cpus), "others": sorted(other_cpus or ())},
        "versions": versions,
    }


def _stop_on_signals() -> None:
    # SIGTERM (and SIGINT, which a shell may have set to be ignored for a background job)
    # become exceptions, so the `with Stack(...)` below stops every process it started.
    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def _run_stack(
    args: argparse.Namespace,
    floor: str | None,
    scenarios: list[Scenario],
    *,
    settings: Settings,
    gateway_env: dict[str, str],
    cpus: tuple[set[int] | None, set[int] | None],
    log_dir: Path,
) -> list[dict[str, Any]]:
    """Start a stack (the gateway, or the floor app in mode `floor`), measure `scenarios` at
    every concurrency on it, stop it; return the entries."""
    gateway_cpus, other_cpus = cpus
    results: list[dict[str, Any]] = []
    with (
        Stack(
            log_dir=log_dir,
            latency_ms=args.upstream_latency_ms,
            workers=args.workers,
            gateway_cpus=gateway_cpus,
            other_cpus=other_cpus,
            gateway_env=gateway_env,
            floor=floor,
            awake=args.awake,
            subscribers=args.subscribers,
        ) as stack,
        GatewayClient(stack.gateway_url, api_key=stack.api_key) as client,
    ):
        profiler = None
        if args.profile is not None:
            profiler = Profiler(args.profile, cpus=other_cpus, log=log_dir / "py-spy.log")
        for scenario in scenarios:
            for concurrency in args.concurrency:
                print(f"run.py: {scenario.name} x {concurrency} ...", file=sys.stderr)
                entry = measure(
                    stack,
                    client,
                    scenario,
                    concurrency=concurrency,
                    settings=settings,
                    cpus=other_cpus,
                    log_dir=log_dir,
                    profiler=profiler,
                )
                results.append(entry)
                if entry["other_load_cores"] > OTHER_LOAD_WARNING:
                    print(
                        f"run.py:   warning: other processes kept "
                        f"{entry['other_load_cores']:.2f} cores busy meanwhile: these "
                        "numbers are perturbed",
                        file=sys.stderr,
                    )
                for sample in entry["error_samples"]:
                    print(f"run.py:   error: {sample}", file=sys.stderr)
    return results


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    _stop_on_signals()
    if (
        args.duration <= 0
        or args.warmup < 0
        or min(args.concurrency) < 1
        or args.workers < 1
        or args.subscribers < 1
    ):
        print(
            "run.py: --duration, --concurrency, --workers and --subscribers must be positive",
            file=sys.stderr,
        )
        return 2
    gateway_env: dict[str, str] = {}
    for item in args.gateway_env:
        name, sep, value = item.partition("=")
        if not sep or not name.startswith("GATEWAY_") or name == "GATEWAY_API_KEYS":
            print(
                f"run.py: --gateway-env takes GATEWAY_NAME=VALUE (not the keys), got {item!r}",
                file=sys.stderr,
            )
            return 2
        gateway_env[name] = value
    if args.floor and (args.scenario or args.workers != 1 or gateway_env):
        print("run.py: --floor takes no --scenario, --workers or --gateway-env", file=sys.stderr)
        return 2
    names = list(args.scenario or (name for name, s in ALL_SCENARIOS.items() if s.default))
    if args.workers > 1 and "GATEWAY_REDIS_URL" not in gateway_env:
        # Without Redis each worker keeps its own events: a subscriber on one worker never sees
        # a webhook another received.
        events = [name for name in names if ALL_SCENARIOS[name].driver == "bench.events_driver"]
        if events and args.scenario:
            print(
                f"run.py: {', '.join(events)} with --workers above 1 needs a shared event log: "
                "--gateway-env GATEWAY_REDIS_URL=redis://...",
                file=sys.stderr,
            )
            return 2
        if events:
            print(f"run.py: {', '.join(events)} left out: see --workers", file=sys.stderr)
            names = [name for name in names if name not in events]
    # One stack per floor (each its own app); one for every scenario of the gateway.
    runs: list[tuple[str | None, list[Scenario]]] = [
        (mode, [FLOORS[mode]]) for mode in args.floor or ()
    ] or [(None, [ALL_SCENARIOS[name] for name in names])]
    gateway_cpus, other_cpus = _cpu_split(args.pin, args.workers)
    if args.awake and gateway_cpus is None:
        print("run.py: --awake needs pinning (2 CPUs or more, no --no-pin)", file=sys.stderr)
        return 2
    machine = _machine(gateway_cpus, other_cpus)
    settings = Settings(
        duration_s=args.duration,
        warmup_s=min(args.warmup, args.duration),
        upstream_latency_ms=args.upstream_latency_ms,
        workers=args.workers,
        subscribers=args.subscribers,
    )
    log_dir = Path(tempfile.mkdtemp(prefix="invoice-gateway-bench-"))
    results: list[dict[str, Any]] = []
    try:
        for floor, scenarios in runs:
            results += _run_stack(
                args,
                floor,
                scenarios,
                settings=settings,
                gateway_env=gateway_env,
                cpus=(gateway_cpus, other_cpus),
                log_dir=log_dir,
            )
    except KeyboardInterrupt as stopped:
        print(f"run.py: stopped ({stopped}); every process it started is stopped", file=sys.stderr)
        return 130
    except (StackError, DriverError, AssertionError) as exc:  # GraphQLFailed is one too
        print(
            f"run.py: {type(exc).__name__}: {exc}\nrun.py: logs kept in {log_dir}", file=sys.stderr
        )
        return 1
    shutil.rmtree(log_dir, ignore_errors=True)
    run = {
        **settings.as_json(),
        "concurrency": args.concurrency,
        "gateway_env": gateway_env,
        "awake": args.awake,
    }
    print(report.table(results))
    events_table = report.events_table(results)
    if events_table:
        print("\n" + events_table)
    print(report.machine_line(machine, run))
    if args.json is not None:
        report.write_json(args.json, results=results, machine=machine, settings=run)
    if args.png is not None:
        report.draw(args.png, results=results, machine=machine, settings=run)
    return 1 if any(entry["errors"] for entry in results) else 0
