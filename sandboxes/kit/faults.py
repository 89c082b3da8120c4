"""Injected faults for a sandbox's API routes, the same for every sandbox: what
``PUT /_sandbox/faults`` sets. Provider-neutral: a sandbox passes its own error answer in.

Every field of the PUT body is optional; an omitted one takes the value ``DELETE`` restores
(no fault, and the start-up ``latency_ms``). A PUT replaces the whole setting.

``SandboxControls.apply`` runs them in this order, so a fault either costs the client its
answer before anything happened, or after the change was made:

1. ``hang``: hold the request (its body read) until the hang is lifted (a PUT without it,
   ``DELETE /_sandbox/faults`` or ``POST /_sandbox/reset``), then go on under the settings of
   that moment. No timer ends it: the client's deadline has to. A held request whose client
   went away is dropped without running its handler, so a late release creates nothing.
2. ``latency_ms``: wait, through the controls' replaceable ``sleep``.
3. ``error_rate``: answer ``status`` with the provider's error body (and ``Retry-After`` when
   ``retry_after`` is set); the handler does not run.
4. the handler runs: the state changes.
5. ``reset_rate``: the answer is lost. Uvicorn answers an exception raised before a response
   started with a 500, so the status line and headers go out first (without
   ``Content-Length``), then :class:`ConnectionDropped` is raised and uvicorn closes the
   connection: an HTTP client sees the body cut short. In process,
   ``providers.transport.AsgiTransport`` turns :class:`ConnectionDropped` (a
   ``ConnectionError``) into its ``ConnectionLost``, as the network transport does.
6. ``malformed_rate``: 200 with the first half of the handler's body, which is not JSON.

Each request draws its three numbers (error, reset, malformed) on arrival from a
``random.Random`` seeded with the sandbox's seed and re-seeded by every PUT, DELETE and reset:
the same settings and the same requests meet the same faults. A rate of 0 never fires, 1
always does.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

MAX_LATENCY_MS = 600_000
MAX_RETRY_AFTER_S = 86_400


@dataclass(frozen=True)
class FaultSettings:
    latency_ms: int = 0
    error_rate: float = 0.0
    status: int = 503
    retry_after: float | None = None
    reset_rate: float = 0.0
    malformed_rate: float = 0.0
    hang: bool = False

    def response(self) -> Response:
        """The settings as the control routes answer them (plain JSON: rates are floats)."""
        return _plain_json(asdict(self))


class InvalidFaults(ValueError):
    """A PUT body the sandbox refuses; ``field`` is ``None`` when the body itself is wrong."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def response(self) -> Response:
        body = {"error": "invalid_faults", "field": self.field, "message": self.message}
        return _plain_json(body, status=400)


def _plain_json(body: Mapping[str, object], *, status: int = 200) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json")


class ConnectionDropped(ConnectionResetError):
    """Raised after a response started, so that the server drops the connection."""


def _number(body: dict[str, object], name: str, *, high: float, rule: str) -> float | None:
    """A number from 0 to ``high``; ``rule`` is the message's description of it."""
    value = body.get(name)
    if value is None:
        return None
    # NaN fails the range check; a huge int is compared exactly, never turned into a float.
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= high:
        raise InvalidFaults(name, f"{name} must be {rule}")
    return float(value)


def _rate(body: dict[str, object], name: str) -> float:
    return _number(body, name, high=1, rule="a number from 0 to 1") or 0.0


def _integer(body: dict[str, object], name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidFaults(name, f"{name} must be an integer from {low} to {high}")
    return value


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def parse_settings(raw: bytes, *, base_latency_ms: int) -> FaultSettings:
    """The PUT body as settings; raises :class:`InvalidFaults` naming the first bad field.

    An empty body is ``{}``; ``null`` for a field means "omitted".
    """
    try:
        body = json.loads(raw, parse_constant=_reject_constant) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidFaults(None, "the body must be a JSON object") from exc
    if not isinstance(body, dict):
        raise InvalidFaults(None, "the body must be a JSON object")
    known = FaultSettings.__dataclass_fields__
    for name in body:
        if name not in known:
            raise InvalidFaults(name, f"unknown field {name!r}; known: {', '.join(known)}")
    hang = body.get("hang")
    if hang is not None and not isinstance(hang, bool):
        raise InvalidFaults("hang", "hang must be true or false")
    latency = _integer(body, "latency_ms", 0, MAX_LATENCY_MS)
    status = _integer(body, "status", 400, 599)
    defaults = FaultSettings()
    return FaultSettings(
        latency_ms=base_latency_ms if latency is None else latency,
        error_rate=_rate(body, "error_rate"),
        status=defaults.status if status is None else status,
        retry_after=_number(
            body, "retry_after", high=MAX_RETRY_AFTER_S, rule="seconds from 0 to 86400, or null"
        ),
        reset_rate=_rate(body, "reset_rate"),
        malformed_rate=_rate(body, "malformed_rate"),
        hang=bool(hang),
    )


@dataclass(frozen=True)
class Draw:
    """One request's numbers in [0, 1): a fault fires when its number is below its rate."""

    error: float
    reset: float
    malformed: float


class FaultInjector:
    """The current settings, the seeded generator, and the requests held by ``hang``."""

    def __init__(self, *, base_latency_ms: int, seed: int) -> None:
        self.base_latency_ms = base_latency_ms
        self.seed = seed
        self.settings = FaultSettings(latency_ms=base_latency_ms)
        self.held = 0  # requests waiting in `hold`, for tests to wait on
        self._random = random.Random(seed)  # noqa: S311 -- reproducible faults, not secrets
        self._release = asyncio.Event()

    def configure(self, settings: FaultSettings) -> None:
        """Apply ``settings`` from the next draw on; held requests go on unless they hang."""
        self.settings = settings
        self._random.seed(self.seed)
        if not settings.hang:
            # A fresh event per hang: waiters of the old one are woken, new ones wait anew.
            self._release.set()
            self._release = asyncio.Event()

    def clear(self) -> None:
        self.configure(FaultSettings(latency_ms=self.base_latency_ms))

    def draw(self) -> Draw:
        rand = self._random.random
        return Draw(error=rand(), reset=rand(), malformed=rand())

    async def hold(self, request: Request) -> bool:
        """Wait for the hang to be lifted (True) or for the client to leave (False)."""
        try:
            await request.body()  # the request arrived whole; only the answer stalls
        except ClientDisconnect:
            return False
        released = asyncio.ensure_future(self._release.wait())
        gone = asyncio.ensure_future(_disconnect(request))
        self.held += 1
        try:
            done, _ = await asyncio.wait({released, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.held -= 1
            for waiter in (released, gone):
                waiter.cancel()
            await asyncio.gather(released, gone, return_exceptions=True)
        return gone not in done


async def _disconnect(request: Request) -> None:
    """Returns when the server reports that the client left; call it once the body is read."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _seconds(value: float) -> str:
    return format(Decimal(repr(value)).normalize(), "f")


def error_response(settings: FaultSettings, refuse: Callable[[int], Response]) -> Response:
    """``refuse(settings.status)``: the provider's own error answer, with ``Retry-After`` if set."""
    response = refuse(settings.status)
    if settings.retry_after is not None:
        response.headers["Retry-After"] = _seconds(settings.retry_after)
    return response


def client_gone_response() -> Response:
    # Never delivered: the client has disconnected. 499 is nginx's "client closed request".
    return Response(status_code=499)


class DroppedResponse(Response):
    """Starts ``response`` (status and headers, no body), then raises ConnectionDropped."""

    def __init__(self, response: Response) -> None:
        super().__init__(status_code=response.status_code)
        # Without a length uvicorn frames the body as chunked, so the client sees it cut short.
        self.raw_headers = [(k, v) for k, v in response.raw_headers if k != b"content-length"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        raise ConnectionDropped("sandbox fault: the connection dropped after the request ran")


def malformed_response(response: Response) -> Response:
    """200 with the first half of ``response``'s body: never a whole JSON object or array."""
    body = bytes(response.body)
    content_type = response.headers.get("content-type")
    return Response(body[: len(body) // 2], status_code=200, headers=_content_type(content_type))


def _content_type(value: str | None) -> dict[str, str]:
    return {} if value is None else {"content-type": value}
