"""What the kernel accounts for a process tree, read from /proc (Linux only).

CPU time is the user + system time of each process (all of its threads), in clock ticks
(usually 10 ms); peak memory is each process's VmHWM (its resident set's high-water mark).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cpu_seconds", "descendants", "machine_busy_seconds", "peak_rss_mb", "process_tree"]

PROC = Path("/proc")
_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (which may hold spaces), or None
    when the process is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(")") + 2 :].split()


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (children, their children, ...), in no set order."""
    parents: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None:
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants."""
    return [pid, *descendants(pid)]


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each live process of `pids` (the gone are left out)."""
    times: dict[int, float] = {}
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            # utime and stime are fields 14 and 15 of stat(5); fields[0] here is field 3.
            times[pid] = (int(fields[11]) + int(fields[12])) / _TICKS_PER_SECOND
    return times


def machine_busy_seconds() -> float:
    """CPU seconds every CPU of the machine spent busy since boot (user, nice, system, irq,
    softirq: /proc/stat), whoever it was for."""
    fields = (PROC / "stat").read_text().splitlines()[0].split()
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[1:8])
    return (user + nice + system + irq + softirq) / _TICKS_PER_SECOND


def peak_rss_mb(pids: list[int]) -> float | None:
    """The largest VmHWM among `pids`, in MiB; None when none could be read."""
    peaks: list[float] = []
    for pid in pids:
        try:
            status = (PROC / str(pid) / "status").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)  # kB
    return max(peaks, default=None)
