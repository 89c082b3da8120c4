"""CPU of the provider side of the listing path, in this process, against standalone sandboxes.

    python bench/micro_providers.py [--iterations 300] [--runs 3] [--only NAME ...] [--profile F]
                                    [--in-process]

Starts both sandboxes standalone (no latency, each its own process on 127.0.0.1), builds the two
providers on them as `serve` would, and measures with `time.thread_time()` (the CPU of this
thread only, so other processes on the machine do not inflate it) the client-side CPU of:

- `flexprice-list-50`, `xendit-list-50`: `provider.list_invoices(first=50)`;
- `merged-50`: the first merged page of both, as `merged_page` builds it up to the edges
  (`gateway.pagination.fetch_merged`, 50 of the 102 invoices fetched);
- `flexprice-get-10`, `xendit-get-10`: `get_invoices` for 10 ids;
- `flexprice-http`, `xendit-http`: one `Upstream.request` of the 50-invoice page alone (the HTTP
  client's share: no decoding, no mapping).

Each is run `--iterations` times per run (after a warm-up), `--runs` runs interleaved; the report
is the median run, in microseconds of CPU per call. Not run in CI; not `bench/run.py`.
`--profile F` writes a cProfile (CPU time of this thread) of one more round of every measure
to F (`python -m pstats F`). `--in-process` measures the providers on their embedded sandboxes
instead (`gateway.wiring.on_sandbox`, as `serve` wires them without credentials): the
sandboxes' CPU is then in this thread too.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import HOST, cli_command, free_port, spawn, stop
from gateway.pagination import fetch_merged
from gateway.wiring import on_sandbox
from providers.flexprice.provider import FlexPriceProvider
from providers.flexprice.settings import FlexPriceSettings
from providers.models import InvoiceFilter, PageRequest
from providers.xendit.provider import XenditProvider
from providers.xendit.settings import XenditSettings

KEYS = {"flexprice": "sk_micro_flexprice", "xendit": "xnd_development_micro"}
START_TIMEOUT_S = 60.0

Measure = Callable[[], Awaitable[object]]


def _start_sandboxes(log_dir: Path) -> dict[str, tuple[object, str]]:
    started: dict[str, tuple[object, str]] = {}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLEXPRICE_", "XENDIT_"))}
    for name, key in KEYS.items():
        port = free_port()
        argv = [*cli_command(), "sandbox", name, "--host", HOST, "--port", str(port)]
        argv += ["--latency-ms", "0", "--api-key", key]
        process = spawn(argv, env=env, log=log_dir / f"{name}.log", cpus=None)
        started[name] = (process, f"http://{HOST}:{port}")
    deadline = time.monotonic() + START_TIMEOUT_S
    for _name, (_process, url) in started.items():
        while True:
            try:
                if httpx.get(url + "/_sandbox/stats", timeout=2.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"sandbox at {url} did not start; logs in {log_dir}")
            time.sleep(0.05)
    return started


async def _measures(
    urls: dict[str, str] | None,
) -> tuple[dict[str, Measure], list[Callable[[], Awaitable[None]]]]:
    if urls is None:
        flexprice, xendit = on_sandbox("flexprice").provider, on_sandbox("xendit").provider
        assert isinstance(flexprice, FlexPriceProvider)
        assert isinstance(xendit, XenditProvider)
    else:
        flexprice = FlexPriceProvider(
            settings=FlexPriceSettings(
                base_url=f"{urls['flexprice']}/v1", api_key=SecretStr(KEYS["flexprice"])
            )
        )
        xendit = XenditProvider(
            settings=XenditSettings(base_url=urls["xendit"], secret_key=SecretStr(KEYS["xendit"]))
        )
    providers: dict[str, FlexPriceProvider | XenditProvider] = {
        "flexprice": flexprice,
        "xendit": xendit,
    }
    everything = InvoiceFilter()
    first50 = PageRequest(first=50)
    fp_page = await flexprice.list_invoices(everything, first50)
    xe_page = await xendit.list_invoices(everything, first50)
    assert len(fp_page.items) == 50, "the FlexPrice sandbox holds too few invoices"
    assert len(xe_page.items) == 50, "the Xendit sandbox holds too few invoices"
    fp_ids = [invoice.id for invoice in fp_page.items[::5]]
    xe_ids = [invoice.id for invoice in xe_page.items[::5]]

    async def merged() -> object:
        async def list_page(name: str, page: PageRequest, before: object) -> object:
            return await providers[name].list_invoices(everything, page)

        result = await fetch_merged(
            list_page,  # type: ignore[arg-type]
            providers=list(providers),
            first=50,
            after=None,
            fingerprint="",
        )
        assert len(result.edges) == 50
        return result

    search_body = {"limit": 50, "offset": 0}

    async def flexprice_http() -> object:
        return await flexprice.client.upstream.request(
            "POST", "/invoices/search", retry=True, json_body=search_body
        )

    async def xendit_http() -> object:
        return await xendit.client.upstream.request(
            "GET", "/v2/invoices", retry=True, params={"limit": "51"}
        )

    measures: dict[str, Measure] = {
        "flexprice-list-50": lambda: flexprice.list_invoices(everything, first50),
        "xendit-list-50": lambda: xendit.list_invoices(everything, first50),
        "merged-50": merged,
        "flexprice-get-10": lambda: flexprice.get_invoices(fp_ids),
        "xendit-get-10": lambda: xendit.get_invoices(xe_ids),
        "flexprice-http": flexprice_http,
        "xendit-http": xendit_http,
    }
    return measures, [flexprice.aclose, xendit.aclose]


async def _cpu_per_call(measure: Measure, iterations: int) -> float:
    started = time.thread_time()
    for _ in range(iterations):
        await measure()
    return (time.thread_time() - started) / iterations * 1e6


async def _main(args: argparse.Namespace, urls: dict[str, str] | None) -> None:
    measures, closers = await _measures(urls)
    if args.only:
        measures = {name: measures[name] for name in args.only}
    try:
        for measure in measures.values():  # warm-up: connections, caches, imports
            for _ in range(20):
                await measure()
        runs: dict[str, list[float]] = {name: [] for name in measures}
        for _ in range(args.runs):
            for name, measure in measures.items():  # interleaved: each run measures them all
                runs[name].append(await _cpu_per_call(measure, args.iterations))
        print(f"CPU per call, us (median of {args.runs} runs of {args.iterations}; all runs)")
        for name, values in runs.items():
            shown = " ".join(f"{value:.0f}" for value in values)
            middle, least = statistics.median(values), min(values)
            print(f"  {name:20s} {middle:8.0f}  min {least:6.0f}  [{shown}]")
        if args.profile:
            profiler = cProfile.Profile(time.thread_time)  # CPU, not waiting
            profiler.enable()
            for measure in measures.values():
                for _ in range(args.iterations):
                    await measure()
            profiler.disable()
            profiler.dump_stats(args.profile)
            print(f"profile: {args.profile}")
    finally:
        for close in closers:
            await close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--profile", default=None)
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args()
    if args.in_process:
        asyncio.run(_main(args, None))
        return
    with tempfile.TemporaryDirectory(prefix="micro-providers-") as logs:
        started = _start_sandboxes(Path(logs))
        try:
            asyncio.run(_main(args, {name: url for name, (_, url) in started.items()}))
        finally:
            for process, _url in started.values():
                stop(process)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
