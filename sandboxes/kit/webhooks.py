"""A sandbox's webhook outbox: the endpoints registered with it, one FIFO each, delivered one
at a time and in order, retried on a schedule, logged.

What the real services do, and so what this does for every sandbox:

- Each endpoint gets each event once it is published, at least once: a delivery that is not
  answered 2xx (an error status, a refused connection, no answer within the endpoint's
  timeout) is tried again after the next delay of the endpoint's schedule, and marked
  ``failed`` once the schedule has run out.
- An endpoint's deliveries go out one at a time, in the order the events happened: the one at
  the head of its queue is retried before any later one is sent, so a receiver never sees a
  later state before an earlier one (the sandboxes promise this; the real services try to).
- The queue is bounded (`MAX_QUEUED` per endpoint): past it, a new event is logged as
  ``dropped`` rather than held in memory without end. The log keeps the last `LOG_SIZE`
  deliveries.

A delivery is an HTTP POST (aiohttp, a total timeout per attempt) or, for a receiver in the
same process, a `Deliver` callable. A provider says what goes out (`Publication`: the body,
built when the delivery is first attempted or at once, and the headers of each attempt,
`Headers`). Workers are tasks created on the running loop when an endpoint has something to
send; they end when its queue is empty. `reset()` and `stop()` drop the queues and cancel the
workers; `stop()` waits for them, bounded. Times in the log come from the sandbox's clock;
waits between attempts are real time (a sandbox whose clock is moved still waits).
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import logging
import socket
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
from aiohttp.abc import ResolveResult
from yarl import URL

__all__ = [
    "Deliver",
    "Delivery",
    "Headers",
    "Outbox",
    "Publication",
    "Unreachable",
    "WebhookEndpoint",
    "http_post",
    "reachable",
]

logger = logging.getLogger(__name__)

#: ``(url, headers, body) -> the status the receiver answered``: a delivery to a receiver in
#: this process (the gateway's own), or, by default, an HTTP POST (`http_post`).
Deliver = Callable[[str, Sequence[tuple[str, str]], bytes], Awaitable[int]]
#: The headers of one attempt: ``(message id, body, the attempt's time) -> headers``.
Headers = Callable[[str, bytes, datetime], Sequence[tuple[str, str]]]

MAX_QUEUED = 1000
LOG_SIZE = 200
#: How long `stop()` waits for the workers it cancelled.
STOP_WAIT_S = 5.0


class Unreachable(OSError):
    """A receiver's address webhooks may not go to (see `reachable`)."""


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def reachable(address: str) -> bool:
    """Whether a webhook may be sent to this IP address: not link-local (169.254.0.0/16 holds
    the clouds' metadata services), multicast, unspecified or reserved, however spelled (an
    IPv4 address inside IPv6 is read as the IPv4 one). Loopback and private networks are
    allowed: the sandboxes post to receivers on the developer's machine and network."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.is_loopback:  # before the rest: ::1 is in IPv6's reserved ::/8
        return True
    return not (ip.is_link_local or ip.is_multicast or ip.is_unspecified or ip.is_reserved)


class _ReachableOnly(aiohttp.ThreadedResolver):
    """The system's resolver, without the addresses `reachable` refuses: the connection is made
    to what is left, so a name cannot lead a webhook where an address may not."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await super().resolve(host, port, family)
        allowed = [entry for entry in found if reachable(entry["host"])]
        if not allowed:
            raise Unreachable(f"{host} has no address webhooks may be sent to")
        return allowed


async def http_post(
    url: str, headers: Sequence[tuple[str, str]], body: bytes, *, timeout_s: float
) -> int:
    """POST `body` to `url`; the status answered (the answer's body is read and dropped; a
    redirect is not followed, so it is not a 2xx). Raises `Unreachable` for a host
    `reachable` refuses, literal or resolved."""
    host = URL(url).host or ""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not reachable(host):
        raise Unreachable(f"{host} is not an address webhooks may be sent to")
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    connector = aiohttp.TCPConnector(resolver=_ReachableOnly(), use_dns_cache=False)
    try:
        async with (
            aiohttp.ClientSession(connector=connector, timeout=timeout) as session,
            session.post(url, data=body, headers=list(headers), allow_redirects=False) as answer,
        ):
            await answer.read()
            return answer.status
    except aiohttp.ClientConnectorError as failed:
        if isinstance(failed.__cause__, Unreachable):  # say why, not "cannot connect"
            raise failed.__cause__ from None
        raise


@dataclass(frozen=True)
class Publication:
    """One event as a provider publishes it. `message_id` is the same for every endpoint and
    every attempt (Svix's ``svix-id``); `body` is the payload, or a function that builds it
    when the delivery is first attempted (then kept for its retries)."""

    message_id: str
    event: str
    subject: str
    body: bytes | Callable[[], bytes]


@dataclass
class WebhookEndpoint:
    """A registered receiver. `schedule_ms` are the waits before each retry (its length is
    the number of retries); `headers` makes each attempt's headers; `details` is what the
    registration answers beyond id, url and mode (the secret or token a receiver checks, the
    static headers); `deliver` replaces the HTTP POST (a receiver in process)."""

    id: str
    url: str
    mode: str
    schedule_ms: tuple[int, ...]
    timeout_s: float
    headers: Headers
    details: Mapping[str, object] = field(default_factory=dict)
    deliver: Deliver | None = None
    queue: deque[Delivery] = field(default_factory=deque, repr=False)
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    def describe(self) -> dict[str, object]:
        return {
            "id": self.id,
            "url": self.url,
            "mode": self.mode,
            **self.details,
            "retry_schedule_ms": list(self.schedule_ms),
            "in_process": self.deliver is not None,
            "queued": len(self.queue),
        }

    async def send(self, body: bytes, headers: Sequence[tuple[str, str]]) -> int:
        if self.deliver is not None:
            return await asyncio.wait_for(self.deliver(self.url, headers, body), self.timeout_s)
        return await http_post(self.url, headers, body, timeout_s=self.timeout_s)


@dataclass
class Delivery:
    """One event to one endpoint, as the log shows it."""

    id: str
    publication: Publication
    endpoint_id: str
    url: str
    created_at: datetime
    status: str = "pending"  # pending, retrying, delivered, failed, dropped
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = None
    last_attempt_at: datetime | None = None
    body: bytes | None = field(default=None, repr=False)

    def describe(self) -> dict[str, object]:
        return {
            "id": self.id,
            "message_id": self.publication.message_id,
            "event": self.publication.event,
            "subject": self.publication.subject,
            "endpoint_id": self.endpoint_id,
            "url": self.url,
            "status": self.status,
            "attempts": self.attempts,
            "last_status": self.last_status,
            "last_error": self.last_error,
            "created_at": _iso(self.created_at),
            "last_attempt_at": None if self.last_attempt_at is None else _iso(self.last_attempt_at),
        }


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


class Outbox:
    """A sandbox's endpoints, their queues and the deliveries' log (see the module)."""

    def __init__(self, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clock = clock
        self.endpoints: dict[str, WebhookEndpoint] = {}
        self.log: deque[Delivery] = deque(maxlen=LOG_SIZE)
        self._ids = itertools.count(1)
        self._workers: set[asyncio.Task[None]] = set()

    def next_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids)}"

    # -- endpoints --------------------------------------------------------------------------

    def register(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        self.endpoints[endpoint.id] = endpoint
        return endpoint

    def remove(self, endpoint_id: str) -> bool:
        """Forget the endpoint; what it had queued is dropped."""
        endpoint = self.endpoints.pop(endpoint_id, None)
        if endpoint is None:
            return False
        self._drop(endpoint)
        return True

    def describe(self) -> dict[str, object]:
        return {
            "endpoints": [endpoint.describe() for endpoint in self.endpoints.values()],
            "deliveries": [delivery.describe() for delivery in self.log],
        }

    # -- events -----------------------------------------------------------------------------

    def publish(self, publication: Publication) -> None:
        """Queue `publication` for every endpoint; needs a running loop once there is one."""
        for endpoint in list(self.endpoints.values()):
            delivery = Delivery(
                id=self.next_id("dlv"),
                publication=publication,
                endpoint_id=endpoint.id,
                url=endpoint.url,
                created_at=self.clock(),
            )
            self.log.append(delivery)
            if len(endpoint.queue) >= MAX_QUEUED:
                delivery.status = "dropped"
                delivery.last_error = f"the endpoint's queue is full ({MAX_QUEUED} deliveries)"
                continue
            endpoint.queue.append(delivery)
            if endpoint.task is None or endpoint.task.done():
                endpoint.task = asyncio.get_running_loop().create_task(
                    self._work(endpoint), name=f"sandbox-webhooks-{endpoint.id}"
                )
                self._workers.add(endpoint.task)
                endpoint.task.add_done_callback(self._workers.discard)

    async def _work(self, endpoint: WebhookEndpoint) -> None:
        while endpoint.queue:
            delivery = endpoint.queue[0]
            try:
                await self._deliver(endpoint, delivery)
            except Exception:  # a bug in a body or headers: this delivery fails, not the rest
                logger.exception("sandbox webhook %s failed", delivery.publication.event)
                delivery.status, delivery.last_error = "failed", "the sandbox failed to send it"
            delivery.body = None  # sent or given up: the log keeps what it says, not the body
            endpoint.queue.popleft()

    async def _deliver(self, endpoint: WebhookEndpoint, delivery: Delivery) -> None:
        """Attempt `delivery` until it is answered 2xx or the schedule runs out."""
        publication = delivery.publication
        if delivery.body is None:
            body = publication.body
            delivery.body = body() if callable(body) else body
        waits = (0, *endpoint.schedule_ms)
        for number, wait_ms in enumerate(waits, start=1):
            if wait_ms:
                await asyncio.sleep(wait_ms / 1000)
            at = self.clock()
            delivery.attempts, delivery.last_attempt_at = number, at
            headers = endpoint.headers(publication.message_id, delivery.body, at)
            try:
                status = await endpoint.send(delivery.body, headers)
            except Exception as failed:  # refused, timed out, or the receiver in process raised
                delivery.last_status = None
                delivery.last_error = _describe(failed, endpoint.timeout_s)
            else:
                delivery.last_status, delivery.last_error = status, None
                if 200 <= status < 300:
                    delivery.status = "delivered"
                    return
            delivery.status = "retrying" if number < len(waits) else "failed"
        logger.info(
            "sandbox webhook %s to %s failed after %d attempts",
            publication.event,
            endpoint.url,
            delivery.attempts,
        )

    # -- stopping ---------------------------------------------------------------------------

    def _drop(self, endpoint: WebhookEndpoint) -> None:
        for delivery in endpoint.queue:
            if delivery.status in ("pending", "retrying"):
                delivery.status = "dropped"
        endpoint.queue.clear()
        if endpoint.task is not None:
            endpoint.task.cancel()
            endpoint.task = None  # the next event starts a fresh worker

    def reset(self) -> None:
        """Drop every queued delivery and the log; the endpoints stay registered."""
        for endpoint in self.endpoints.values():
            self._drop(endpoint)
        self.log.clear()

    def running(self) -> list[asyncio.Task[None]]:
        """The workers that have not ended (a cancelled one until it has)."""
        return [task for task in self._workers if not task.done()]

    async def stop(self) -> None:
        """Drop what is queued, cancel the workers and wait for them, at most `STOP_WAIT_S`."""
        workers = self.running()
        for endpoint in self.endpoints.values():
            self._drop(endpoint)
        for task in workers:
            task.cancel()
        if workers:
            await asyncio.wait(workers, timeout=STOP_WAIT_S)


def _describe(failed: BaseException, timeout_s: float) -> str:
    if isinstance(failed, TimeoutError):
        return f"no answer within {timeout_s:g} s"
    return f"{type(failed).__name__}: {failed}"[:300]
