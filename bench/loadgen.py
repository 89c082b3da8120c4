"""The load driver: `python -m bench.loadgen`, a process of its own, on uvloop with aiohttp.

Protocol, one JSON object a line: the harness writes the spec to stdin; the driver warms up
(`concurrency` workers sending back to back for `warmup_s`, not counted), waits for every
request to finish and writes `{"event": "warm"}`; the harness reads the gateway's and the
sandboxes' counters and writes `go`; the driver runs the timed phase the same way for
`duration_s` (a request started before the end is waited for and counted), then writes
`{"event": "done", "result": {...}}` and exits.

A request is an error when its status is not 200, its body has a top-level `errors` key (the
scenarios alias no field `errors`, so the bytes `"errors":` can only be that key), or it lacks
one of `must_contain`; a transport failure or a timeout is an error too. Latency is measured
for every request, errors included.
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import uvloop

__all__ = ["percentile"]

ERROR_SAMPLES = 3
#: The Accept-Encoding every request sends (aiohttp would send "gzip, deflate", and "br" with a
#: brotli module installed): `identity`, so the gateway's answers go uncompressed, as every run
#: before compression measured them and as the reference gateway is measured. A spec's
#: `accept_encoding` overrides it (bench/README.md, "What a request sends").
ACCEPT_ENCODING = "identity"


@dataclass
class Tally:
    latencies_ns: list[int] = field(default_factory=list)
    errors: int = 0
    samples: list[str] = field(default_factory=list)

    def fail(self, what: str) -> None:
        self.errors += 1
        if len(self.samples) < ERROR_SAMPLES:
            self.samples.append(what[:500])


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an ascending list (p in 0..100); None when it is empty."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


class Driver:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.url: str = spec["url"]
        self.headers = {"authorization": f"Bearer {spec['api_key']}"}
        self.headers["content-type"] = "application/json"
        self.headers["accept-encoding"] = spec.get("accept_encoding", ACCEPT_ENCODING)
        self.body: bytes = spec["body"].encode()
        self.placeholder: bytes | None = (
            spec["key_placeholder"].encode() if spec.get("key_placeholder") else None
        )
        self.must_contain = [text.encode() for text in spec.get("must_contain", [])]
        self.concurrency: int = spec["concurrency"]
        self.timeout = aiohttp.ClientTimeout(total=spec["request_timeout_s"])
        self.sent = 0  # numbers the idempotency keys: unique within this process
        self.run_id: str = spec.get("run_id", "run")

    def _next_body(self) -> bytes:
        self.sent += 1
        if self.placeholder is None:
            return self.body
        return self.body.replace(self.placeholder, f"bench-{self.run_id}-{self.sent}".encode())

    async def _worker(self, session: aiohttp.ClientSession, until: float, tally: Tally) -> None:
        clock = time.perf_counter_ns
        while time.perf_counter() < until:
            body = self._next_body()
            started = clock()
            try:
                async with session.post(self.url, data=body, headers=self.headers) as response:
                    answer = await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                tally.latencies_ns.append(clock() - started)
                tally.fail(f"{type(exc).__name__}: {exc}")
                continue
            tally.latencies_ns.append(clock() - started)
            if status != 200 or b'"errors":' in answer:
                tally.fail(f"HTTP {status}: {answer[:400]!r}")
            elif not all(text in answer for text in self.must_contain):
                tally.fail(f"HTTP {status} without {self.must_contain}: {answer[:400]!r}")

    async def phase(self, session: aiohttp.ClientSession, seconds: float) -> tuple[Tally, float]:
        """Every worker sends back to back for `seconds`; returns the tally and how long it
        took until the last request ended."""
        tally = Tally()
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(
            *(self._worker(session, until, tally) for _ in range(self.concurrency))
        )
        return tally, time.perf_counter() - started


def _summary(tally: Tally, elapsed_s: float) -> dict[str, Any]:
    latencies = sorted(ns / 1e6 for ns in tally.latencies_ns)
    requests = len(latencies)
    return {
        "requests": requests,
        "errors": tally.errors,
        "elapsed_s": elapsed_s,
        "rps": requests / elapsed_s if elapsed_s > 0 else 0.0,
        "latency_ms": {
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "p99": percentile(latencies, 99),
            "mean": sum(latencies) / requests if requests else None,
            "max": latencies[-1] if latencies else None,
        },
        "error_samples": tally.samples,
    }


def _say(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


async def _drive(spec: dict[str, Any]) -> None:
    driver = Driver(spec)
    connector = aiohttp.TCPConnector(limit=driver.concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector, timeout=driver.timeout) as session:
        warm, _ = await driver.phase(session, spec["warmup_s"])
        _say({"event": "warm", "requests": len(warm.latencies_ns), "errors": warm.errors})
        # Nothing is in flight now, so reading stdin may block the loop.
        if sys.stdin.readline().strip() != "go":
            return
        tally, elapsed = await driver.phase(session, spec["duration_s"])
    _say({"event": "done", "result": _summary(tally, elapsed)})


def main() -> int:
    spec = json.loads(sys.stdin.readline())
    uvloop.run(_drive(spec))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
