"""`--profile DIR`: py-spy samples the gateway (its workers too) during each timed phase.

Each measurement leaves `DIR/<scenario>-c<N>.txt`, py-spy's raw collapsed stacks (one line per
distinct stack: `frame;frame;... count`, frames as `function (package/module.py)`), which
`inferno`, speedscope or `flamegraph.pl` draw, and `DIR/<scenario>-c<N>.md`, what `summarize`
makes of it: the share of samples by library, and the top functions by own and by total time.

Sampling pauses the gateway briefly at every sample, so a profiled run's numbers are not the
benchmark's: profile and measure in separate runs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.stack import StackError, spawn, stop

__all__ = ["Profiler", "summarize"]

RATE_HZ = 200
OUTER = 0.9
STOP_TIMEOUT_S = 30.0

#: A frame's file -> the library it belongs to, by the first matching path prefix.
LIBRARIES = (
    ("strawberry/", "strawberry"),
    ("graphql/", "graphql-core"),
    ("pydantic", "pydantic"),
    ("httpx_aiohttp/", "httpx"),
    ("httpx/", "httpx"),
    ("httpcore/", "httpx"),
    ("aiohttp/", "aiohttp"),
    ("yarl/", "aiohttp"),
    ("multidict/", "aiohttp"),
    ("uvicorn/", "uvicorn"),
    ("starlette/", "starlette"),
    ("cross_web/", "strawberry"),
    ("babel/", "babel"),
    ("stamina/", "stamina"),
    ("tenacity/", "stamina"),
    ("aiodataloader", "aiodataloader"),
    ("gateway/", "gateway (ours)"),
    ("providers/", "providers (ours)"),
    ("json/", "json (stdlib)"),
    ("logging/", "logging (stdlib)"),
    ("asyncio/", "asyncio (stdlib)"),
)


def _py_spy() -> str:
    beside = Path(sys.executable).parent / "py-spy"
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise StackError("--profile needs py-spy: pip install py-spy")
    return found


class Profiler:
    """Starts py-spy on a process tree, and stops it so that it writes what it sampled."""

    def __init__(self, out_dir: Path, *, cpus: set[int] | None, log: Path) -> None:
        self.out_dir = out_dir
        self.cpus = cpus
        self.log = log
        self.command = _py_spy()
        self._running: tuple[subprocess.Popen[bytes], Path] | None = None
        out_dir.mkdir(parents=True, exist_ok=True)

    def start(self, pid: int, name: str) -> None:
        raw = self.out_dir / f"{name}.txt"
        argv = [self.command, "record", "--pid", str(pid), "--subprocesses", "--nolineno"]
        argv += ["--rate", str(RATE_HZ), "--format", "raw", "--output", str(raw)]
        process = spawn(argv, env=os.environ, log=self.log, cpus=self.cpus)
        self._running = (process, raw)

    def stop(self) -> Path | None:
        """Stop sampling; the summary's path, or None when py-spy wrote nothing."""
        if self._running is None:
            return None
        process, raw = self._running
        self._running = None
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            stop(process)
        if not raw.exists():
            return None
        summary = raw.with_suffix(".md")
        summary.write_text(summarize(raw), encoding="utf-8")
        return summary


def _library(frame: str) -> str:
    # A frame reads "function (path/to/module.py)"; stdlib paths are absolute.
    where = frame[frame.rfind("(") + 1 : -1] if frame.endswith(")") else frame
    for prefix, library in LIBRARIES:
        if where.startswith(prefix) or f"/{prefix}" in where:
            return library
    return "other"


def summarize(raw: Path, *, top: int = 20) -> str:
    """Markdown: samples by library (of the innermost frame), and the top functions by own
    samples (innermost frame) and by total samples (anywhere in the stack)."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame for frame in stack.split(";") if not frame.startswith("process ")]
        if not frames:
            continue
        samples += count
        own[frames[-1]] += count
        libraries[_library(frames[-1])] += count
        for frame in set(frames):
            total[frame] += count
    if not samples:
        return f"# {raw.stem}\n\nNo samples.\n"

    def share(count: int) -> str:
        return f"{100 * count / samples:5.1f} %"

    lines = [f"# {raw.stem}: {samples} samples of the gateway at {RATE_HZ} Hz", ""]
    lines += ["## By library (own time)", "", "| library | share |", "| --- | --- |"]
    lines += [f"| {name} | {share(count)} |" for name, count in libraries.most_common()]
    # The server's outer frames (event loop, middleware) are in nearly every sample and say
    # nothing about where the time goes.
    inner = Counter({frame: count for frame, count in total.items() if count < OUTER * samples})
    titles = ("own time", f"total time (frames in under {OUTER:.0%} of samples)")
    for title, counter in zip(titles, (own, inner), strict=True):
        lines += ["", f"## Top functions by {title}", "", "| function | share |"]
        lines += ["| --- | --- |"]
        lines += [
            f"| `{frame.replace('|', '/')}` | {share(count)} |"
            for frame, count in counter.most_common(top)
        ]
    return "\n".join(lines) + "\n"
