"""`HttpPolicy`: how the gateway calls one provider (timeouts, deadline, retries, guards), and
the network transport it builds."""

from __future__ import annotations

from dataclasses import dataclass

from yarl import URL

from providers.transport import AiohttpTransport

__all__ = ["HttpPolicy", "build_transport", "without_userinfo"]


@dataclass(frozen=True, slots=True)
class HttpPolicy:
    """How the gateway calls one provider. Times are in seconds.

    `deadline` bounds one call with all its retries; `max_in_flight` caps concurrent calls
    (the bulkhead, and the connection pool's size), `max_in_flight_per_caller` those of one
    caller (None: half of `max_in_flight`), and `queue_timeout` is how long a call waits for a
    slot before `ProviderBusy`.
    """

    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    deadline: float = 20.0
    attempts: int = 3
    wait_initial: float = 0.1
    wait_max: float = 2.0
    wait_jitter: float = 0.5
    max_response_bytes: int = 8 * 1024 * 1024
    retry_budget_ratio: float = 0.2
    retry_budget_min_per_second: float = 10.0
    breaker_threshold: int = 5
    breaker_reset_seconds: float = 10.0
    max_in_flight: int = 64
    max_in_flight_per_caller: int | None = None
    queue_timeout: float = 1.0

    @property
    def caller_share(self) -> int:
        """The bulkhead slots one caller may hold at once."""
        if self.max_in_flight_per_caller is not None:
            return min(self.max_in_flight_per_caller, self.max_in_flight)
        return max(1, self.max_in_flight // 2)

    def snapshot(self) -> dict[str, object]:
        return {
            "connect_timeout_seconds": self.connect_timeout,
            "read_timeout_seconds": self.read_timeout,
            "deadline_seconds": self.deadline,
            "max_attempts": self.attempts,
            "max_response_bytes": self.max_response_bytes,
        }


def without_userinfo(url: str) -> str:
    """`url` without a user name or password, for showing it."""
    return str(URL(url).with_user(None))


def build_transport(policy: HttpPolicy) -> AiohttpTransport:
    """The network transport: aiohttp, with a pool of `max_in_flight` connections."""
    return AiohttpTransport(max_connections=policy.max_in_flight)
