"""What `invoice-gateway serve` checks of its settings before it starts several workers."""

from __future__ import annotations

from gateway.settings import GatewaySettings
from gateway.wiring import Wired

__all__ = ["PROCESS_LOCAL_EVENTS", "process_local_keys"]

#: Why several workers without GATEWAY_REDIS_URL deserve a warning about events.
PROCESS_LOCAL_EVENTS = (
    "several workers without GATEWAY_REDIS_URL: each keeps the provider events it receives "
    "in its own memory, so a subscriber sees only the webhooks that reached its own worker; "
    "set GATEWAY_REDIS_URL to share them (docs/events.md)"
)


def process_local_keys(
    workers: int, settings: GatewaySettings, providers: dict[str, Wired]
) -> str | None:
    """Why `serve` must not start: several workers, each with its own idempotency keys, in
    front of a real provider that cannot refuse a second create with one key itself."""
    if workers <= 1 or settings.redis_url is not None:
        return None
    if settings.allow_process_local_idempotency:
        return None
    exposed = [
        name
        for name, entry in providers.items()
        if not entry.on_sandbox and not getattr(entry.provider, "deduplicates_creates", False)
    ]
    if not exposed:
        return None
    return (
        f"--workers {workers} without GATEWAY_REDIS_URL: each worker remembers idempotency keys "
        f"on its own, and {', '.join(exposed)} cannot refuse a second create with the same key, "
        "so one key sent to two workers can make two invoices. Set GATEWAY_REDIS_URL (a Redis "
        "every worker shares), or GATEWAY_ALLOW_PROCESS_LOCAL_IDEMPOTENCY=true to accept the risk"
    )
