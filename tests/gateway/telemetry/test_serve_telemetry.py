"""What `invoice-gateway serve` writes and exposes, as an operator runs it: JSON log lines with
each request's fields, the metrics port, and several workers' metrics added up."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.processes import clean_env, free_port, running

KEY = "web-key-0123456789abcdef"
LISTING = "query Listing { invoices(first: 2) { edges { node { id } } } }"


def _json_lines(text: str) -> list[dict[str, Any]]:
    lines = [line for line in text.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line is one JSON object


def _count(text: str, name: str, **labels: str) -> float:
    found = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                found += sample.value
    return found


def test_json_logs_carry_each_requests_fields_and_never_the_key() -> None:
    port = free_port()
    env = clean_env(GATEWAY_LOG_FORMAT="json", GATEWAY_API_KEYS=f"web:read:{KEY}")
    with tempfile.TemporaryDirectory() as folder:
        out, err = Path(folder) / "stdout.log", Path(folder) / "stderr.log"
        url = f"http://127.0.0.1:{port}"
        serving = running(["serve", "--port", str(port)], env, f"{url}/healthz", out=out, log=err)
        with serving, httpx.Client(timeout=30) as client:
            ok = client.post(
                f"{url}/graphql",
                json={"query": LISTING},
                headers={"authorization": f"Bearer {KEY}", "x-request-id": "logged-1"},
            )
            assert ok.status_code == 200
            refused = client.post(f"{url}/graphql", json={"query": LISTING})
            assert refused.status_code == 401
        access = _json_lines(out.read_text())
        # Before its logging is set up, `serve` says where it listens in plain lines.
        printed = err.read_text().splitlines()
        errors = _json_lines("\n".join(line for line in printed if line.startswith("{")))
        logged = out.read_text() + err.read_text()

    lines = {
        line["request_id"]: line
        for line in access
        if line["logger"] == "gateway.access" and line["request_id"]
    }
    mine = lines["logged-1"]
    assert mine["level"] == "INFO"
    assert mine["operation"] == "query Listing"
    assert mine["caller"] == "web"
    assert isinstance(mine["duration_ms"], float)
    assert mine["duration_ms"] > 0
    assert "time" in mine
    unauthenticated = [
        line for line in access if line.get("caller") is None and "401" in line["message"]
    ]
    assert len(unauthenticated) == 1
    assert unauthenticated[0]["request_id"] == refused.headers["x-request-id"]
    assert errors, "serve wrote its start-up lines as JSON too"
    assert all(
        {"time", "level", "logger", "message", "request_id"} <= line.keys() for line in errors
    )
    assert KEY not in logged


def test_the_metrics_port_adds_up_every_workers_requests() -> None:
    port, metrics_port = free_port(), free_port()
    env = clean_env(GATEWAY_METRICS_PORT=str(metrics_port))
    url = f"http://127.0.0.1:{port}"
    args = ["serve", "--port", str(port), "--workers", "2"]
    with running(args, env, f"{url}/healthz"), httpx.Client(timeout=30) as client:
        for _ in range(12):  # new connections: the kernel spreads them over both workers
            with httpx.Client(timeout=30) as fresh:
                assert fresh.post(f"{url}/graphql", json={"query": LISTING}).status_code == 200
        assert client.get(f"{url}/metrics").status_code == 404  # only on its own port
        text = client.get(f"http://127.0.0.1:{metrics_port}/metrics").text
    assert _count(text, "gateway_requests_total", operation="Listing", outcome="OK") == 12
    assert _count(text, "gateway_request_duration_seconds_count", operation="Listing") == 12
    assert _count(text, "gateway_upstream_requests_total", provider="flexprice", status="200") == 12


def test_a_metrics_port_that_is_taken_stops_serve_with_a_clear_line() -> None:
    import socket
    import subprocess

    from tests.processes import SCRIPT

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = clean_env(GATEWAY_METRICS_PORT=str(port))
        result = subprocess.run(
            [SCRIPT, "serve", "--port", str(free_port())],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert f"cannot start: GATEWAY_METRICS_PORT 127.0.0.1:{port}: " in result.stderr
    assert "Traceback" not in result.stderr
