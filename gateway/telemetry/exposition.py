"""How the metrics are exposed: `GET /metrics` on the app, or GATEWAY_METRICS_PORT (served by
`serve`, prometheus-client's own server in a thread), for one process or, in prometheus-client's
multiprocess mode, every worker of `serve --workers N` added up."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Final

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.operating_settings import OperatingSettings
from gateway.telemetry.metrics import Metrics, multiprocess_dir
from providers.base import InvoiceProvider

__all__ = [
    "SAMPLE_SECONDS",
    "collecting_registry",
    "expose",
    "metrics_port",
    "metrics_route",
    "multiprocess_mode",
    "sampling",
]

#: How often each process copies its guards into the metrics when a scrape may not reach it
#: (several workers, or the metrics port served by another thread or process).
SAMPLE_SECONDS: Final = 1.0


def metrics_route(
    metrics: Metrics, providers: Mapping[str, InvoiceProvider], settings: OperatingSettings
) -> list[BaseRoute]:
    """`GET /metrics` on the app (behind the keys, as every route), unless the metrics have a
    port of their own (GATEWAY_METRICS_PORT, served by `serve`)."""
    if settings.metrics_port is not None:
        return []

    async def scrape(request: Request) -> Response:
        metrics.sample(providers)
        body, content_type = expose(metrics.registry, request.headers.get("accept"))
        return Response(body, headers={"content-type": content_type, "cache-control": "no-store"})

    return [Route("/metrics", scrape, methods=["GET"])]


@contextlib.contextmanager
def sampling(
    metrics: Metrics, providers: Mapping[str, InvoiceProvider], settings: OperatingSettings
) -> Iterator[None]:
    """While the app serves: when its scrapes may be answered by another process or thread,
    copy the guards into the metrics every SAMPLE_SECONDS; when it stops in multiprocess
    mode, drop its live gauges (prometheus-client's `mark_process_dead`)."""
    path = multiprocess_dir()
    task: asyncio.Task[None] | None = None
    if path is not None or settings.metrics_port is not None:

        async def sample_forever() -> None:
            while True:
                metrics.sample(providers)
                await asyncio.sleep(SAMPLE_SECONDS)

        task = asyncio.get_running_loop().create_task(sample_forever())
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
        if path is not None:
            mark_process_dead(os.getpid(), path)  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def multiprocess_mode(workers: int) -> Iterator[str | None]:
    """For `serve --workers N` (N > 1): a fresh `PROMETHEUS_MULTIPROC_DIR` for the workers to
    write their values to (set in os.environ before they start; removed afterwards), or the
    operator's own, emptied of a previous run's files. Yields the directory (None: one
    process, nothing to share)."""
    if workers <= 1:
        yield None
        return
    given = multiprocess_dir()
    if given is not None:
        for stale in Path(given).glob("*.db"):  # a previous run's values would be added in
            stale.unlink(missing_ok=True)
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="invoice-gateway-metrics-") as made:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = made
        try:
            yield made
        finally:
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)


@contextlib.contextmanager
def metrics_port(host: str, port: int, own: CollectorRegistry | None) -> Iterator[str | None]:
    """Serve the metrics on `host`:`port` (prometheus-client's server, in a thread) while the
    block runs: `own`'s, or every worker's in multiprocess mode. Yields None, or why the port
    cannot be served (it is taken, the address is not this host's, ...)."""
    try:
        server, thread = start_http_server(port, host, registry=collecting_registry(own))
    except OSError as exc:
        yield f"GATEWAY_METRICS_PORT {host}:{port}: {exc.strerror or exc}"
        return
    try:
        yield None
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def collecting_registry(own: CollectorRegistry | None) -> CollectorRegistry:
    """What a scrape reads: every process's files in multiprocess mode, else `own`."""
    path = multiprocess_dir()
    if path is None and own is not None:
        return own
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    return registry


def expose(own: CollectorRegistry | None, accept: str | None) -> tuple[bytes, str]:
    encoder, content_type = choose_encoder(accept or "")
    return encoder(collecting_registry(own)), content_type
