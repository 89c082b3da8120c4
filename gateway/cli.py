"""`invoice-gateway serve | sandbox NAME | export-schema`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import textwrap
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import uvicorn
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from gateway.app import create_app, prepare_collector, providers_from_environment
from gateway.idempotency import redacted_url
from gateway.persisted import ManifestError, load_manifest
from gateway.protocol import HTTP_PROTOCOL, GatewayConfig, serve
from gateway.schema import build_schema
from gateway.settings import LOG_LEVELS, GatewaySettings
from gateway.startup import PROCESS_LOCAL_EVENTS, process_local_keys
from gateway.telemetry import tracing_from_environment
from gateway.telemetry.exposition import metrics_port, multiprocess_mode
from gateway.telemetry.logs import logging_config
from gateway.wiring import Wired, load_sandbox, sandbox_names
from providers.registry import settings_classes
from providers.settings import EnvironSettings

__all__ = ["main"]


def _version() -> str:
    try:
        return version("invoice-gateway")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _help_width() -> int:
    return min(shutil.get_terminal_size().columns, 100)


def _environment_help() -> str:
    """Every variable `serve` reads, with its default and what it does, for `serve --help`."""
    groups: list[tuple[str, type[EnvironSettings]]] = [("the gateway", GatewaySettings)]
    groups += [(name, settings) for name, settings in settings_classes().items()]
    width = _help_width()
    lines = ["environment variables (docs/configuration.md says more):"]
    for title, settings in groups:
        lines.append(f"  {title}:")
        for variable, default, description in settings.variables():
            text = (
                description if "(default:" in description else f"{description} (default: {default})"
            )
            lines += textwrap.wrap(
                text,
                width=width,
                initial_indent=f"    {variable:<38} ",
                subsequent_indent=" " * 43,
                break_on_hyphens=False,
            )
    return "\n".join(lines)


#: A sandbox's own options: flag, its app factory's keyword, the sandbox, what it sets.
_SANDBOX_OPTIONS = (
    (
        "--webhook-secret",
        "webhook_secret",
        "flexprice",
        "the Svix secret its webhooks are signed with",
    ),
    ("--callback-token", "callback_token", "xendit", "the x-callback-token its callbacks carry"),
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="invoice-gateway", description="One GraphQL API in front of invoice providers."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="serve the GraphQL API (and GraphiQL) at /graphql",
        description=textwrap.fill(
            "Serve the GraphQL API at /graphql. Providers, keys, limits and timeouts are set "
            "by the environment variables below; with no provider credentials, each provider "
            "runs on its built-in sandbox.",
            width=_help_width(),
        ),
        epilog=_environment_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument(
        "--log-level",
        type=str.lower,
        choices=LOG_LEVELS,
        default=None,
        help="log level (default: GATEWAY_LOG_LEVEL, else info)",
    )

    sandbox = commands.add_parser("sandbox", help="serve one provider's sandbox API standalone")
    sandbox.add_argument("provider", help=f"which sandbox: {', '.join(sandbox_names())}")
    sandbox.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    sandbox.add_argument("--port", type=int, default=8100, help="port (default 8100)")
    sandbox.add_argument("--api-key", default=None, help="the key the sandbox accepts")
    sandbox.add_argument("--seed", type=int, default=0, help="seed of the generated data")
    sandbox.add_argument("--latency-ms", type=int, default=0, help="added to every API call")
    for flag, _, owner, what in _SANDBOX_OPTIONS:
        sandbox.add_argument(flag, default=None, help=f"{owner} only: {what} (default: published)")

    export = commands.add_parser("export-schema", help="print the schema's SDL")
    export.add_argument("--output", type=Path, default=None, help="write it to this file instead")
    return parser


def _local_url(host: str, port: int) -> str:
    """A URL a browser on this machine can open for a server bound to `host`."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - naming the wildcard, not binding it
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _fail(message: str) -> int:
    print(f"invoice-gateway: {message}", file=sys.stderr)
    return 2


def _serve(args: argparse.Namespace) -> int:
    # In os.environ itself: with --workers, uvicorn's workers read it to build their apps.
    os.environ.setdefault("GATEWAY_PUBLIC_URL", _local_url(args.host, args.port))
    environ = dict(os.environ)
    try:
        settings = GatewaySettings.from_environ(environ)
    except ValidationError as exc:
        return _fail(f"cannot start: {GatewaySettings.problems(exc)}")
    if settings.trusted_documents:
        try:  # read here too, so a bad manifest stops `serve` before any worker starts
            trusted = load_manifest(settings.trusted_documents)
        except ManifestError as exc:
            return _fail(f"cannot start: {exc}")
        print(f"invoice-gateway: {len(trusted)} trusted documents", file=sys.stderr)
    try:
        providers = providers_from_environment(settings, environ)
    except (LookupError, ValueError) as exc:
        return _fail(f"cannot start: {exc}")
    if refusal := process_local_keys(args.workers, settings, providers):
        asyncio.run(_close(providers))
        return _fail(f"cannot start: {refusal}")
    for entry in providers.values():
        print(f"invoice-gateway: {entry.describe()}", file=sys.stderr)
    if settings.redis_url is not None:
        where = redacted_url(settings.redis_url.get_secret_value())
        shared = "keys, events and persisted queries" if settings.apq else "keys and events"
        print(f"invoice-gateway: {shared} shared in Redis at {where}", file=sys.stderr)
    elif args.workers > 1:
        print(f"invoice-gateway: warning: {PROCESS_LOCAL_EVENTS}", file=sys.stderr)
    sandboxed = [name for name, entry in providers.items() if entry.on_sandbox]
    if sandboxed:
        print(
            f"invoice-gateway: running on the built-in sandbox for {', '.join(sandboxed)} "
            "(no credentials set; docs/providers.md says how to use the real APIs)",
            file=sys.stderr,
        )
        if args.workers > 1:
            print(
                "invoice-gateway: warning: each worker has its own in-process sandbox, so "
                "changes made through one are not seen by the others; run "
                "`invoice-gateway sandbox NAME` and point the provider's BASE_URL at it instead",
                file=sys.stderr,
            )
    print(
        f"invoice-gateway: GraphQL API at {_local_url(args.host, args.port)}/graphql",
        file=sys.stderr,
    )
    log_level = args.log_level or settings.log_level
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_level": log_level,
        # uvicorn's loggers and the gateway's on one handler, text or JSON; the access line
        # is the gateway's own (gateway.telemetry), so uvicorn's is off.
        "log_config": logging_config(log_level, settings.log_format),
        "access_log": False,
        "loop": "uvloop",
        "http": HTTP_PROTOCOL,
        "lifespan": "on",
        "timeout_graceful_shutdown": settings.shutdown_grace_seconds,
        "server_header": False,  # no `server: uvicorn`: what runs here is nobody's business
        **settings.server_options(),  # header size and time, connections, WebSocket messages
    }
    if args.workers > 1:
        # Each worker builds its own providers (clients are not shared across processes); the
        # ones built here only said where they point. Their metrics meet in one directory.
        asyncio.run(_close(providers))
        with multiprocess_mode(args.workers), _metrics_port(settings, None) as refused:
            if refused:
                return _fail(f"cannot start: {refused}")
            serve(
                GatewayConfig(
                    "gateway.app:create_app_from_environment",
                    factory=True,
                    workers=args.workers,
                    **options,
                )
            )
    else:
        tracing = tracing_from_environment(environ)
        app = create_app(settings=settings, providers=providers, tracing=tracing)
        prepare_collector(settings)
        with _metrics_port(settings, app.state.metrics.registry) as refused:
            if refused:
                return _fail(f"cannot start: {refused}")
            serve(GatewayConfig(app, **options))
    return 0


def _metrics_port(
    settings: GatewaySettings, own: CollectorRegistry | None
) -> contextlib.AbstractContextManager[str | None]:
    """The metrics on GATEWAY_METRICS_PORT while `serve` runs, if set (yields why it cannot)."""
    host, port = settings.metrics_host, settings.metrics_port
    if port is None:
        return contextlib.nullcontext()
    print(f"invoice-gateway: metrics at {_local_url(host, port)}/metrics", file=sys.stderr)
    return metrics_port(host, port, own)


async def _close(providers: dict[str, Wired]) -> None:
    await asyncio.gather(*(entry.provider.aclose() for entry in providers.values()))


def _sandbox(args: argparse.Namespace) -> int:
    entry = load_sandbox(args.provider.lower())
    if entry is None:
        return _fail(f"no sandbox named {args.provider!r}; available: {', '.join(sandbox_names())}")
    key = args.api_key or entry.api_key
    options: dict[str, Any] = {}
    for option, keyword, owner, _ in _SANDBOX_OPTIONS:
        value = getattr(args, keyword)
        if value is None:
            continue
        if entry.name != owner:
            return _fail(f"{option} is an option of the {owner} sandbox, not of {entry.name}")
        options[keyword] = value
    try:
        app = entry.app(api_key=key, seed=args.seed, latency_ms=args.latency_ms, **options)
    except ValueError as refused:
        return _fail(f"cannot start the {entry.name} sandbox: {refused}")
    print(
        f"invoice-gateway: {entry.name} sandbox at http://{args.host}:{args.port} "
        f"(seed {args.seed}); it accepts the API key {key}",
        file=sys.stderr,
    )
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http=HTTP_PROTOCOL,
        server_header=False,
    )
    return 0


def _export_schema(args: argparse.Namespace) -> int:
    sdl = build_schema().as_str() + "\n"
    if args.output is None:
        sys.stdout.write(sdl)
    else:
        args.output.write_text(sdl, encoding="utf-8")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"serve": _serve, "sandbox": _sandbox, "export-schema": _export_schema}
    return handlers[args.command](args)


def run() -> None:
    """The console script: exit with `main`'s status."""
    raise SystemExit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
