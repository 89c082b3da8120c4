"""`python bench/run.py` works end to end: one scenario for one second, as a subprocess that
starts both sandboxes and the gateway on 127.0.0.1 ports of its own and stops them. The numbers
are the benchmark's business; here only the shape of what it writes, and no errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN_TIMEOUT_S = 110  # starting three servers dominates; under pytest-timeout's 120 s

ENTRY_KEYS = {
    "name",
    "concurrency",
    "requests",
    "errors",
    "rps",
    "latency_ms",
    "upstream_requests_per_request",
    "gateway_cpu_ms_per_request",
    "gateway_peak_rss_mb",
    "floor_ms",
    "overhead_ms_p50",
}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_one_second_of_typename_writes_the_json_and_the_picture(tmp_path: Path) -> None:
    out, picture = tmp_path / "bench.json", tmp_path / "bench.png"
    command = [sys.executable, str(ROOT / "bench" / "run.py"), "--scenario", "typename"]
    command += ["--duration", "1", "--concurrency", "1", "--json", str(out), "--png", str(picture)]
    finished = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    [entry] = json.loads(out.read_text())["scenarios"]
    assert set(entry) >= ENTRY_KEYS, ENTRY_KEYS - set(entry)
    assert set(entry["latency_ms"]) == {"p50", "p95", "p99"}
    assert entry["name"] == "typename"
    assert entry["concurrency"] == 1
    assert entry["requests"] > 0
    assert entry["errors"] == 0
    assert entry["upstream_requests_per_request"] == 0  # { __typename } reaches no provider
    assert entry["floor_ms"] == 0
    for value in (entry["rps"], entry["gateway_cpu_ms_per_request"], entry["gateway_peak_rss_mb"]):
        assert value > 0
    assert "| typename | 1 |" in finished.stdout  # the table
    assert picture.read_bytes().startswith(b"\x89PNG")
