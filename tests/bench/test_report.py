"""What a run prints and draws for the events scenario beside the others: its row in the main
table, its own table, and the picture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import report


def entry(name: str, concurrency: int, **extra: Any) -> dict[str, Any]:
    """An entry as `bench.measurement.entry` writes one."""
    return {
        "name": name,
        "concurrency": concurrency,
        "requests": 299,
        "errors": 3,
        "rps": 99.5,
        "latency_ms": {"p50": 9.6, "p95": 12.0, "p99": 21.0},
        "upstream_requests_per_request": 0.0,
        "upstream_requests_per_request_by_provider": {"flexprice": 0.0, "xendit": 0.0},
        "gateway_cpu_ms_per_request": 10.1,
        "gateway_peak_rss_mb": 159.1,
        "floor_ms": 0,
        "overhead_ms_p50": 9.6 if concurrency == 1 else None,
        "cpu_ms_per_request": {"gateway": 10.1, "flexprice": 0.03, "xendit": 0.0, "driver": 2.2},
        "cpu_utilisation": {"gateway": 0.99, "flexprice": 0.0, "xendit": 0.0, "driver": 0.22},
        "other_load_cores": 0.01,
        **extra,
    }


EVENTS = {
    "subscribers": 100,
    "webhooks": 299,
    "deliveries": 29897,
    "deliveries_expected": 29900,
    "deliveries_per_s": 9850.2,
    "missing": 1,
    "duplicated": 1,
    "out_of_order": 1,
    "delivery_latency_ms": {"p50": 9.5, "p95": 11.7, "p99": 20.5, "max": 27.7},
    "gateway_cpu_us_per_delivery": 101.0,
    "delivery_floor_ms": 20,
}


def test_the_events_rows_have_their_own_table_and_a_row_in_the_main_one() -> None:
    results = [entry("typename", 1), entry("events", 1, events=EVENTS)]
    main = report.table(results).splitlines()
    assert main[2].startswith("| typename | 1 | 299 | 3 | 99.5 | 9.6 |")
    assert main[3].startswith("| events | 1 | 299 | 3 | 99.5 | 9.6 | 12.0 | 21.0 | 0.00 (")
    header, _, row = report.events_table(results).splitlines()
    cells = dict(zip(header.strip("| ").split(" | "), row.strip("| ").split(" | "), strict=True))
    assert cells["subscribers"] == "100"
    assert cells["webhooks/s"] == "99.5"
    assert cells["deliveries (expected)"] == "29897 (29900)"
    assert cells["deliveries/s"] == "9850"
    assert cells["missing / duplicated / out of order"] == "1 / 1 / 1"
    assert (cells["delivery p50 ms"], cells["delivery p99 ms"]) == ("9.5", "20.5")
    assert cells["delivery floor ms"] == "20"
    assert (cells["POST p50 ms"], cells["POST p99 ms"]) == ("9.6", "21.0")
    assert cells["CPU ms/webhook"] == "10.10"
    assert cells["CPU us/delivery"] == "101.0"
    assert cells["cores busy (gw / drv)"] == "0.99 / 0.22"
    assert report.events_table([entry("typename", 1)]) == ""  # none ran: no table


def test_the_picture_draws_with_an_events_scenario(tmp_path: Path) -> None:
    picture = tmp_path / "bench.png"
    results = [
        entry("typename", 1),
        entry("typename", 32),
        entry("events", 1, events=EVENTS),
        entry("events", 32, events=EVENTS),
    ]
    machine = {"nproc": 2, "cpu_model": "test", "python": "3.11"}
    report.draw(
        picture,
        results=results,
        machine=machine,
        settings={"workers": 1, "upstream_latency_ms": 20},
    )
    assert picture.read_bytes().startswith(b"\x89PNG")
