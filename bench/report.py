"""What a run reports: a Markdown table on stdout, the JSON file, and the picture."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["draw", "events_table", "machine_line", "table", "write_json"]

HEADER = (
    "scenario",
    "conc",
    "requests",
    "errors",
    "rps",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "upstream/req (fp + xe)",
    "CPU ms/req",
    "peak RSS MB",
    "floor ms",
    "overhead p50 ms",
    "sandbox CPU ms/req (fp / xe)",
    "cores busy (gw / fp / xe / drv)",
    "other load (cores)",
)
ABBREVIATIONS = {"flexprice": "fp", "xendit": "xe"}


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _upstream(entry: dict[str, Any]) -> str:
    total = entry["upstream_requests_per_request"]
    parts = " + ".join(
        _num(value, 2) for value in entry["upstream_requests_per_request_by_provider"].values()
    )
    return f"{_num(total, 2)} ({parts})"


def table(results: Sequence[dict[str, Any]]) -> str:
    """A Markdown table, one row per (scenario, concurrency)."""
    rows = [HEADER, tuple("---" for _ in HEADER)]
    for entry in results:
        latency = entry["latency_ms"]
        rows.append(
            (
                entry["name"],
                str(entry["concurrency"]),
                str(entry["requests"]),
                str(entry["errors"]),
                _num(entry["rps"]),
                _num(latency["p50"]),
                _num(latency["p95"]),
                _num(latency["p99"]),
                _upstream(entry),
                _num(entry["gateway_cpu_ms_per_request"], 2),
                _num(entry["gateway_peak_rss_mb"], 0),
                _num(entry["floor_ms"], 0),
                _num(entry["overhead_ms_p50"]),
                " / ".join(
                    _num(entry["cpu_ms_per_request"][who], 2) for who in ("flexprice", "xendit")
                ),
                " / ".join(
                    _num(entry["cpu_utilisation"][who], 2)
                    for who in ("gateway", "flexprice", "xendit", "driver")
                ),
                _num(entry["other_load_cores"], 2),
            )
        )
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


EVENTS_HEADER = (
    "scenario",
    "conc",
    "subscribers",
    "webhooks",
    "webhooks/s",
    "errors",
    "deliveries (expected)",
    "deliveries/s",
    "missing / duplicated / out of order",
    "delivery p50 ms",
    "delivery p95 ms",
    "delivery p99 ms",
    "delivery floor ms",
    "POST p50 ms",
    "POST p99 ms",
    "CPU ms/webhook",
    "CPU us/delivery",
    "cores busy (gw / drv)",
    "other load (cores)",
)


def events_table(results: Sequence[dict[str, Any]]) -> str:
    """A Markdown table of the events scenarios' own numbers, a row per (scenario,
    concurrency); empty when none ran."""
    rows = [EVENTS_HEADER, tuple("---" for _ in EVENTS_HEADER)]
    for entry in results:
        events = entry.get("events")
        if events is None:
            continue
        delivery = events["delivery_latency_ms"]
        rows.append(
            (
                entry["name"],
                str(entry["concurrency"]),
                str(events["subscribers"]),
                str(events["webhooks"]),
                _num(entry["rps"]),
                str(entry["errors"]),
                f"{events['deliveries']} ({events['deliveries_expected']})",
                _num(events["deliveries_per_s"], 0),
                f"{events['missing']} / {events['duplicated']} / {events['out_of_order']}",
                _num(delivery["p50"]),
                _num(delivery["p95"]),
                _num(delivery["p99"]),
                _num(events["delivery_floor_ms"], 0),
                _num(entry["latency_ms"]["p50"]),
                _num(entry["latency_ms"]["p99"]),
                _num(entry["gateway_cpu_ms_per_request"], 2),
                _num(events["gateway_cpu_us_per_delivery"], 1),
                " / ".join(_num(entry["cpu_utilisation"][who], 2) for who in ("gateway", "driver")),
                _num(entry["other_load_cores"], 2),
            )
        )
    if len(rows) == 2:
        return ""
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def machine_line(machine: dict[str, Any], settings: dict[str, Any]) -> str:
    pinning = machine["pinning"]
    pinned = (
        "not pinned"
        if pinning is None
        else f"gateway pinned to CPU {pinning['gateway']}, sandboxes and load driver to "
        f"{pinning['others']}"
    )
    return (
        f"{machine['nproc']} x {machine['cpu_model']}, Python {machine['python']}, {pinned}; "
        f"{settings['duration_s']:g} s per run after {settings['warmup_s']:g} s of warm-up, "
        f"upstream latency {settings['upstream_latency_ms']} ms, "
        f"{settings['workers']} gateway worker(s)"
        + "".join(f", {name}={value}" for name, value in settings.get("gateway_env", {}).items())
        + (", its CPU kept awake (--awake)" if settings.get("awake") else "")
        + f"; {machine['date']}"
    )


def write_json(
    path: Path,
    *,
    results: Sequence[dict[str, Any]],
    machine: dict[str, Any],
    settings: dict[str, Any],
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"scenarios": list(results), "machine": machine, "settings": settings}
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def draw(
    path: Path,
    *,
    results: Sequence[dict[str, Any]],
    machine: dict[str, Any],
    settings: dict[str, Any],
) -> None:
    """Throughput and p99 latency against concurrency, a line per scenario, as a PNG."""
    import matplotlib  # only a run that draws needs it

    matplotlib.use("Agg")
    from matplotlib import pyplot, ticker  # after the backend is chosen

    by_name: dict[str, list[dict[str, Any]]] = {}
    for entry in results:
        by_name.setdefault(entry["name"], []).append(entry)
    figure, (throughput, p99) = pyplot.subplots(1, 2, figsize=(12, 4.8), layout="constrained")
    for name, entries in by_name.items():
        entries = sorted(entries, key=lambda e: e["concurrency"])
        levels = [e["concurrency"] for e in entries]
        lines: list[tuple[Any, list[float | None], str, str]] = [
            (throughput, [e["rps"] for e in entries], name, "-"),
            (p99, [e["latency_ms"]["p99"] for e in entries], name, "-"),
        ]
        if all("events" in e for e in entries):
            # An events scenario: its rps and p99 are the webhooks' POSTs; the deliveries' p99
            # (receipt to a subscriber's read) is a line of its own.
            delivered = [e["events"]["delivery_latency_ms"]["p99"] for e in entries]
            lines.append((p99, delivered, f"{name} (delivery)", "--"))
        for axes, values, label, style in lines:
            axes.plot(levels, values, marker="o", label=label, linestyle=style)
            for level, value in zip(levels, values, strict=True):
                if value is not None:
                    axes.annotate(
                        f"{value:.0f}" if value >= 100 else f"{value:.3g}",
                        (level, value),
                        textcoords="offset points",
                        xytext=(6, 3),
                        fontsize="x-small",
                    )
    levels = sorted({entry["concurrency"] for entry in results})
    for axes, label in ((throughput, "requests per second"), (p99, "p99 latency (ms)")):
        axes.set_xscale("log", base=2)
        axes.set_xticks(levels, [str(level) for level in levels])
        axes.xaxis.set_minor_locator(ticker.NullLocator())
        axes.set_xlabel("concurrency")
        axes.set_ylabel(label)
        axes.grid(True, which="both", alpha=0.3)
    throughput.set_yscale("log")  # typename is 10-100 times the others
    p99.set_yscale("log")
    for axes in (throughput, p99):
        axes.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        axes.yaxis.set_minor_formatter(ticker.NullFormatter())
    throughput.set_title("Throughput")
    p99.set_title("p99 latency")
    throughput.legend(fontsize="small")
    if any("events" in entry for entry in results):
        p99.legend(fontsize="small")
    figure.suptitle(
        f"invoice-gateway, {settings['workers']} worker(s), upstream latency "
        f"{settings['upstream_latency_ms']} ms: {machine['nproc']} x {machine['cpu_model']}, "
        f"Python {machine['python']}",
        fontsize="medium",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
