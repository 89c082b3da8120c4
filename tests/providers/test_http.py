"""providers.http.Upstream: retries, the deadline, status -> error, and secrets kept out."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.utils
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import stamina
import stamina.instrumentation

from providers.calls import RequestCalls, counting
from providers.errors import (
    Conflict,
    NotFound,
    ProviderAuthError,
    ProviderBadResponse,
    ProviderBusy,
    ProviderCircuitOpen,
    ProviderConnectionLost,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    UpstreamCallLimit,
)
from providers.http import ErrorBody, HttpPolicy, Upstream, build_transport, decode_json
from providers.transport import (
    AiohttpTransport,
    AttemptTimeout,
    ConnectionLost,
    HandlerTransport,
    Request,
    Response,
    Unreachable,
    UnreadableResponse,
)

SECRET = "sk_live_super_secret"
POLICY = HttpPolicy(deadline=5.0, attempts=3, wait_initial=0.001, wait_max=0.01, wait_jitter=0)

Handler = Callable[[Request], Any]


def parse_error(response: Response) -> ErrorBody:
    try:
        body = response.json()
    except ValueError:
        return None, None
    return body.get("code"), body.get("message")


class Script:
    """Replies in order (the last repeats); records each request."""

    def __init__(self, *replies: Response | Exception) -> None:
        self.replies = list(replies)
        self.requests: list[Request] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        return reply


@pytest.fixture
async def make_upstream() -> AsyncIterator[Callable[..., Upstream]]:
    made: list[Upstream] = []

    def make(handler: Handler, policy: HttpPolicy = POLICY) -> Upstream:
        upstream = Upstream(
            provider="acme",
            base_url="https://upstream.test/v1",
            policy=policy,
            parse_error=parse_error,
            credentials={"x-api-key": SECRET},
            transport=HandlerTransport(handler),
        )
        made.append(upstream)
        return upstream

    yield make
    for upstream in made:
        await upstream.aclose()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The back-off waits requested, recorded instead of slept (no test waits on a clock)."""
    requested: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(delay: float, result: Any = None) -> Any:
        requested.append(delay)
        return await real_sleep(0, result)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    return requested


# -- retries ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        Response.of(429, headers={"retry-after": "0"}),
        Response.of(502),
        Response.of(503),
        Response.of(504),
        Unreachable("connection refused"),
        AttemptTimeout("read timed out"),
        ConnectionLost("server disconnected"),
    ],
)
async def test_retry_true_retries_transient_failures(
    make_upstream: Callable[..., Upstream], failure: Response | Exception
) -> None:
    script = Script(failure, Response.of(200, json={"ok": True}))
    response = await make_upstream(script).request("GET", "/things", retry=True)
    assert response.json() == {"ok": True}
    assert len(script.requests) == 2


async def test_stamina_schedules_every_retry_the_first_one_included(
    make_upstream: Callable[..., Upstream], sleeps: list[float]
) -> None:
    """The first attempt runs before stamina is entered; its failure still goes through stamina,
    which decides, waits, logs and reports each retry (its instrumentation hooks)."""
    seen: list[tuple[int, str]] = []
    stamina.instrumentation.set_on_retry_hooks(
        [lambda details: seen.append((details.retry_num, type(details.caused_by).__name__))]
    )
    try:
        script = Script(Response.of(503), ConnectionLost("reset"), Response.of(200, json={}))
        response = await make_upstream(script).request("GET", "/things", retry=True)
    finally:
        stamina.instrumentation.set_on_retry_hooks(None)
    assert response.status_code == 200
    assert seen == [(1, "RetryableStatus"), (2, "ConnectionLost")]
    assert len(sleeps) == 2
    assert len(script.requests) == 3


@pytest.mark.parametrize(
    ("failure", "raised"),
    [
        (Response.of(429), ProviderRateLimited),
        (Response.of(502), ProviderUnavailable),
        (Response.of(503), ProviderUnavailable),
        (Response.of(504), ProviderUnavailable),
        (Unreachable("connection refused"), ProviderUnavailable),
        (AttemptTimeout("read timed out"), ProviderTimeout),
    ],
)
async def test_retry_false_sends_once(
    make_upstream: Callable[..., Upstream],
    failure: Response | Exception,
    raised: type[ProviderError],
) -> None:
    script = Script(failure, Response.of(200))
    with pytest.raises(raised):
        await make_upstream(script).request("POST", "/things/1/void", retry=False)
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ("failure", "raised"),
    [
        (Response.of(503), ProviderUnavailable),
        (Response.of(429), ProviderRateLimited),
        (Unreachable("connection refused"), ProviderUnavailable),
    ],
)
async def test_retries_stop_after_the_policy_attempts(
    make_upstream: Callable[..., Upstream],
    failure: Response | Exception,
    raised: type[ProviderError],
) -> None:
    script = Script(failure)
    with pytest.raises(raised):
        await make_upstream(script).request("GET", "/things", retry=True)
    assert len(script.requests) == POLICY.attempts


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 500, 501])
async def test_other_statuses_are_not_retried(
    make_upstream: Callable[..., Upstream], status: int
) -> None:
    script = Script(Response.of(status), Response.of(200))
    with pytest.raises(ProviderError):
        await make_upstream(script).request("GET", "/things", retry=True)
    assert len(script.requests) == 1


async def test_retry_repeats_the_same_request(make_upstream: Callable[..., Upstream]) -> None:
    script = Script(Response.of(503), Response.of(201))
    body = {"idempotency_key": "k-1", "amount": "1.10"}
    await make_upstream(script).request(
        "POST", "/things", retry=True, json_body=body, ok=frozenset({201})
    )
    first, second = script.requests
    assert (first.method, first.url, first.content) == (second.method, second.url, second.content)


async def test_retry_after_seconds_is_the_wait(
    make_upstream: Callable[..., Upstream], sleeps: list[float]
) -> None:
    script = Script(Response.of(429, headers={"retry-after": "2"}), Response.of(200))
    await make_upstream(script).request("GET", "/things", retry=True)
    assert sleeps == [2.0]


async def test_retry_after_http_date_is_the_wait(
    make_upstream: Callable[..., Upstream], sleeps: list[float]
) -> None:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)
    date = email.utils.format_datetime(when, usegmt=True)
    script = Script(Response.of(503, headers={"retry-after": date}), Response.of(200))
    await make_upstream(script).request("GET", "/things", retry=True)
    (wait,) = sleeps
    assert 0 < wait <= 3.0


@pytest.mark.parametrize("value", ["soon", "", "Wed, 21 Oct 2015 07:28:00 GMT"])
async def test_unusable_or_past_retry_after_falls_back_to_backoff(
    make_upstream: Callable[..., Upstream], sleeps: list[float], value: str
) -> None:
    script = Script(Response.of(429, headers={"retry-after": value}), Response.of(200))
    await make_upstream(script).request("GET", "/things", retry=True)
    assert len(sleeps) == 1
    assert sleeps[0] <= POLICY.wait_max


async def test_retry_after_beyond_the_deadline_is_rate_limited_at_once(
    make_upstream: Callable[..., Upstream],
) -> None:
    policy = HttpPolicy(deadline=0.2, attempts=3, wait_initial=0.001, wait_max=0.01, wait_jitter=0)
    script = Script(Response.of(429, headers={"retry-after": "3600"}))
    with pytest.raises(ProviderRateLimited):
        await make_upstream(script, policy).request("GET", "/things", retry=True)


# -- the deadline -------------------------------------------------------------------------------


async def test_deadline_fires_on_a_hanging_upstream(
    make_upstream: Callable[..., Upstream],
) -> None:
    never = asyncio.Event()

    async def hang(request: Request) -> Response:
        await never.wait()
        return Response.of(200)

    policy = HttpPolicy(deadline=0.05, attempts=3, wait_initial=0.001, wait_max=0.01)
    with pytest.raises(ProviderTimeout, match=r"did not answer within 0\.05 s"):
        await make_upstream(hang, policy).request("GET", "/slow", retry=True)


async def test_deadline_bounds_the_retries_too(make_upstream: Callable[..., Upstream]) -> None:
    policy = HttpPolicy(deadline=0.05, attempts=1000, wait_initial=0.01, wait_max=0.01)
    script = Script(Response.of(503))
    with pytest.raises(ProviderUnavailable):  # ProviderTimeout is a ProviderUnavailable
        await make_upstream(script, policy).request("GET", "/things", retry=True)
    assert len(script.requests) < 1000


# -- the real aiohttp transport on loopback -----------------------------------------------------


def aiohttp_upstream(port: int, policy: HttpPolicy) -> Upstream:
    return Upstream(
        provider="acme",
        base_url=f"http://127.0.0.1:{port}/v1",
        policy=policy,
        parse_error=parse_error,
    )


def unused_port() -> int:
    """A loopback port nothing listens on: bound, read, and closed again."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@asynccontextmanager
async def loopback_server(
    on_connect: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[int]:
    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def test_a_refused_connection_is_unavailable_not_a_timeout() -> None:
    """A refused connection is not a timeout, whatever the library calls it."""
    policy = HttpPolicy(deadline=5.0, attempts=2, wait_initial=0.001, wait_max=0.01)
    upstream = aiohttp_upstream(unused_port(), policy)
    try:
        with pytest.raises(ProviderUnavailable) as caught:
            await upstream.request("GET", "/things", retry=True)
    finally:
        await upstream.aclose()
    assert not isinstance(caught.value, ProviderTimeout | ProviderConnectionLost)
    assert caught.value.message == "acme could not be reached"  # no library's class names
    assert "timed out" not in caught.value.message


async def test_a_server_that_hangs_up_is_a_lost_connection_not_a_timeout() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()
        await writer.wait_closed()

    policy = HttpPolicy(deadline=5.0, attempts=1)
    async with loopback_server(hang_up) as port:
        upstream = aiohttp_upstream(port, policy)
        try:
            with pytest.raises(ProviderUnavailable) as caught:
                await upstream.request("GET", "/things", retry=False)
        finally:
            await upstream.aclose()
    assert not isinstance(caught.value, ProviderTimeout)
    # Connected, then cut off: the request may have been read, unlike a refused connection.
    assert isinstance(caught.value, ProviderConnectionLost)
    assert caught.value.message == "acme dropped the connection"


async def test_a_server_that_never_answers_is_a_timeout() -> None:
    """aiohttp's own read timeout stays a timeout on the real transport."""
    done = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await done.wait()
        writer.close()

    policy = HttpPolicy(read_timeout=0.05, deadline=5.0, attempts=1)
    async with loopback_server(silent) as port:
        upstream = aiohttp_upstream(port, policy)
        try:
            with pytest.raises(ProviderTimeout, match="acme timed out"):
                await upstream.request("GET", "/slow", retry=False)
        finally:
            await upstream.aclose()
            done.set()


# -- statuses and bodies ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "raised"),
    [
        (400, ProviderRejected),
        (401, ProviderAuthError),
        (403, ProviderAuthError),
        (404, NotFound),
        (409, Conflict),
        (422, ProviderRejected),
        (429, ProviderRateLimited),
        (500, ProviderUnavailable),
        (503, ProviderUnavailable),
    ],
)
async def test_status_to_error(
    make_upstream: Callable[..., Upstream], status: int, raised: type[ProviderError]
) -> None:
    body = {"code": "some_code", "message": f"upstream says {status}"}
    script = Script(Response.of(status, json=body))
    with pytest.raises(raised) as caught:
        await make_upstream(script).request("GET", "/things", retry=False)
    error = caught.value
    assert type(error) is raised
    assert error.provider == "acme"
    assert error.status == status
    assert error.provider_code == "some_code"


async def test_4xx_messages_are_passed_on_5xx_are_not(
    make_upstream: Callable[..., Upstream],
) -> None:
    rejected = Script(Response.of(400, json={"message": "amount must be positive"}))
    with pytest.raises(ProviderRejected, match="amount must be positive"):
        await make_upstream(rejected).request("POST", "/things", retry=False)

    broken = Script(Response.of(500, json={"message": "pq: password authentication failed"}))
    with pytest.raises(ProviderUnavailable) as caught:
        await make_upstream(broken).request("POST", "/things", retry=False)
    assert "password" not in caught.value.message


async def test_ok_statuses(make_upstream: Callable[..., Upstream]) -> None:
    upstream = make_upstream(Script(Response.of(201, json={"id": 1})))
    response = await upstream.request("POST", "/things", retry=False, ok=frozenset({201}))
    assert response.status_code == 201
    with pytest.raises(ProviderError):
        await upstream.request("POST", "/things", retry=False)  # 201 is not in the default {200}


async def test_request_shape(make_upstream: Callable[..., Upstream]) -> None:
    script = Script(Response.of(200))
    await make_upstream(script).request(
        "PUT", "/things/1", retry=False, json_body={"a": 1}, params={"url": "true"}
    )
    (request,) = script.requests
    assert str(request.url) == "https://upstream.test/v1/things/1?url=true"
    assert request.headers["x-api-key"] == SECRET
    assert request.content == b'{"a":1}'


def test_decode_json() -> None:
    assert decode_json("acme", Response.of(200, json={"a": [1]})) == {"a": [1]}
    with pytest.raises(ProviderBadResponse, match="not JSON"):
        decode_json("acme", Response.of(200, text="<html>"))


# -- secrets ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        Response.of(401, json={"error": "Unauthorized"}),
        Response.of(400, json={"message": "bad"}),
        Unreachable(f"cannot connect with {SECRET}"),
        AttemptTimeout(f"timed out with {SECRET}"),
    ],
)
async def test_secrets_stay_out_of_errors_and_reprs(
    make_upstream: Callable[..., Upstream], reply: Response | Exception
) -> None:
    upstream = make_upstream(Script(reply))
    with pytest.raises(ProviderError) as caught:
        await upstream.request("GET", "/things", retry=False)
    for text in (str(caught.value), repr(caught.value), caught.value.message, repr(upstream)):
        assert SECRET not in text


async def test_an_unreadable_answer_is_a_bad_response_not_retried(
    make_upstream: Callable[..., Upstream],
) -> None:
    script = Script(UnreadableResponse("Error -3 while decompressing data"))
    with pytest.raises(ProviderBadResponse, match="could not be read"):
        await make_upstream(script).request("GET", "/things", retry=True)
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: 9\r\n\r\nnot gzip!",
        b"HTTP/1.1 ok\r\n\r\n",
        b"SMTP ready\r\n\r\n",
    ],
)
async def test_unreadable_answers_on_the_real_transport_are_bad_responses(answer: bytes) -> None:
    """A body that does not match its encoding, a malformed status line: the network
    transport's errors become a ProviderError, never an aiohttp exception."""

    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(answer)
            await writer.drain()
            await reader.read()  # until the client hangs up
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    policy = HttpPolicy(deadline=5.0, attempts=1)
    async with loopback_server(reply) as port:
        upstream = aiohttp_upstream(port, policy)
        try:
            with pytest.raises(ProviderError) as caught:
                await upstream.request("GET", "/things", retry=False)
        finally:
            await upstream.aclose()
    assert isinstance(caught.value, ProviderBadResponse | ProviderConnectionLost)
    assert "aiohttp" not in caught.value.message


# -- the client factory -------------------------------------------------------------------------


async def test_an_upstream_defaults_to_the_aiohttp_transport_sized_by_max_in_flight() -> None:
    policy = HttpPolicy(connect_timeout=1.5, read_timeout=4.0, max_in_flight=7)
    upstream = Upstream(
        provider="acme",
        base_url="https://upstream.test/v1",
        policy=policy,
        parse_error=parse_error,
        headers={"A": "b"},
        credentials={"x-api-key": SECRET},
    )
    try:
        assert isinstance(upstream.transport, AiohttpTransport)
        assert upstream.transport.max_connections == 7
        assert upstream.headers == {"a": "b"}  # the credentials are not among them
        assert SECRET not in repr(upstream)
        assert SECRET not in str(upstream.snapshot())
    finally:
        await upstream.aclose()
    assert isinstance(build_transport(policy), AiohttpTransport)


def test_exact_json_writes_decimals_as_their_own_digits_and_refuses_floats() -> None:
    from decimal import Decimal

    from providers.http import exact_json

    body = {"a": Decimal("10.100"), "b": [Decimal("1E+3"), 2, True, None, 'x"y'], "c": {}}
    assert exact_json(body) == b'{"a":10.100,"b":[1000,2,true,null,"x\\"y"],"c":{}}'
    with pytest.raises(TypeError):
        exact_json({"a": 0.1})
    with pytest.raises(ValueError, match="finite"):
        exact_json({"a": Decimal("NaN")})


# -- the guards: response size cap, retry budget, circuit breaker, bulkhead ---------------------


async def test_a_body_over_the_cap_is_refused_by_its_declared_length(
    make_upstream: Callable[..., Upstream],
) -> None:
    policy = HttpPolicy(max_response_bytes=1024, attempts=1)
    script = Script(Response.of(200, content=b"x" * 2048))
    with pytest.raises(ProviderBadResponse, match="larger than 1024 bytes"):
        await make_upstream(script, policy).request("GET", "/big", retry=True)
    assert len(script.requests) == 1  # not retried: it would be as big again


def chunked_server(
    chunk: bytes, count: int, pause: float, finished: asyncio.Event
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    """A loopback handler answering 200 with `count` chunks of `chunk`, `pause` s apart, until
    the client hangs up; `finished` is set once its socket is closed."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            for _ in range(count):
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await writer.drain()
                if pause:
                    await asyncio.sleep(pause)
        except ConnectionError:
            pass  # the gateway hung up: what these tests want
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            finished.set()

    return handle


async def test_an_endless_body_is_cut_at_the_cap_on_the_real_transport() -> None:
    finished = asyncio.Event()
    endless = chunked_server(b"x" * 4096, 100_000, 0, finished)  # 400 MB: past any cap
    policy = HttpPolicy(max_response_bytes=64 * 1024, deadline=30.0, attempts=1)
    async with loopback_server(endless) as port:
        upstream = aiohttp_upstream(port, policy)
        try:
            with pytest.raises(ProviderBadResponse, match="larger than 65536 bytes"):
                await upstream.request("GET", "/endless", retry=False)
        finally:
            await upstream.aclose()
        await asyncio.wait_for(finished.wait(), 30)


async def test_a_dripping_body_is_cut_by_the_deadline_on_the_real_transport() -> None:
    """Every chunk comes within the read timeout; the whole answer never does."""
    finished = asyncio.Event()
    drip = chunked_server(b" ", 3000, 0.01, finished)  # 30 s at most
    policy = HttpPolicy(read_timeout=5.0, deadline=0.3, attempts=1)
    async with loopback_server(drip) as port:
        upstream = aiohttp_upstream(port, policy)
        try:
            with pytest.raises(ProviderTimeout, match=r"within 0\.3 s"):
                await upstream.request("GET", "/drip", retry=False)
        finally:
            await upstream.aclose()
        await asyncio.wait_for(finished.wait(), 30)


async def test_a_storm_of_503s_is_retried_only_within_the_budget(
    make_upstream: Callable[..., Upstream],
) -> None:
    policy = HttpPolicy(
        attempts=3,
        wait_initial=0.001,
        wait_max=0.001,
        wait_jitter=0,
        retry_budget_ratio=0.2,
        retry_budget_min_per_second=0,
        breaker_threshold=1000,
    )
    script = Script(Response.of(503))
    upstream = make_upstream(script, policy)
    for _ in range(50):
        with pytest.raises(ProviderUnavailable):
            await upstream.request("GET", "/things", retry=True)
    # Without a budget: 150 requests (3 attempts each). With it: 50 calls + 20 % of them.
    assert len(script.requests) == 60
    assert upstream.retry_budget.snapshot()["retries_denied"] == 50  # one per call, at its end


async def test_the_breaker_opens_fails_fast_without_calling_and_closes_after_a_probe(
    make_upstream: Callable[..., Upstream],
) -> None:
    policy = HttpPolicy(attempts=1, breaker_threshold=3, breaker_reset_seconds=0.05)
    script = Script(Response.of(503))
    upstream = make_upstream(script, policy)
    for _ in range(3):
        with pytest.raises(ProviderUnavailable):
            await upstream.request("GET", "/things", retry=True)
    with pytest.raises(ProviderCircuitOpen, match="stopped calling it") as caught:
        await upstream.request("GET", "/things", retry=True)
    assert caught.value.code == "PROVIDER_CIRCUIT_OPEN"
    assert len(script.requests) == 3  # the fourth call never left
    assert upstream.snapshot()["circuit_breaker"]["state"] == "open"  # type: ignore[index]

    script.replies = [Response.of(200, json={})]
    await asyncio.sleep(0.1)  # past the reset time: the next call is the probe
    response = await upstream.request("GET", "/things", retry=True)
    assert response.status_code == 200
    assert upstream.breaker.state.value == "closed"
    assert len(script.requests) == 4


async def test_4xx_answers_do_not_open_the_breaker(make_upstream: Callable[..., Upstream]) -> None:
    policy = HttpPolicy(attempts=1, breaker_threshold=2)
    script = Script(Response.of(404, json={"message": "no such invoice"}))
    upstream = make_upstream(script, policy)
    for _ in range(5):
        with pytest.raises(NotFound):
            await upstream.request("GET", "/things/x", retry=True)
    assert upstream.breaker.state.value == "closed"
    assert len(script.requests) == 5


async def test_a_full_bulkhead_answers_busy_at_once_and_leaves_the_breaker_alone(
    make_upstream: Callable[..., Upstream],
) -> None:
    release = asyncio.Event()
    arrived = asyncio.Event()

    async def slow(request: Request) -> Response:
        arrived.set()
        await release.wait()
        return Response.of(200, json={})

    policy = HttpPolicy(attempts=1, max_in_flight=1, queue_timeout=0, breaker_threshold=1)
    upstream = make_upstream(slow, policy)
    first = asyncio.create_task(upstream.request("GET", "/slow", retry=True))
    await asyncio.wait_for(arrived.wait(), 10)
    with pytest.raises(ProviderBusy, match="1 calls in flight") as caught:
        await upstream.request("GET", "/slow", retry=True)
    assert caught.value.code == "PROVIDER_BUSY"
    assert upstream.breaker.state.value == "closed"
    release.set()
    assert (await asyncio.wait_for(first, 10)).status_code == 200
    assert upstream.snapshot()["bulkhead"] == {  # type: ignore[comparison-overlap]
        "limit": 1,
        "per_caller_limit": 1,
        "max_wait_seconds": 0,
        "in_flight": 0,
        "waiting": 0,
        "calls_rejected": 1,
    }


# -- the calls of one gateway request ----------------------------------------------------------


async def test_every_attempt_is_counted_for_the_current_request(
    make_upstream: Callable[..., Upstream],
) -> None:
    script = Script(Response.of(503), Response.of(200, json={}))
    upstream = make_upstream(script)
    with counting(RequestCalls()) as calls:
        await upstream.request("GET", "/things", retry=True)
        await upstream.request("GET", "/things", retry=True)
    assert len(script.requests) == 3
    assert (calls.made, calls.refused, calls.by_provider) == (3, 0, {"acme": 3})
    await upstream.request("GET", "/things", retry=True)  # outside a request: not counted
    assert calls.made == 3


async def test_past_the_request_limit_nothing_is_sent_and_the_breaker_is_left_alone(
    make_upstream: Callable[..., Upstream],
) -> None:
    script = Script(Response.of(503), Response.of(503), Response.of(200, json={}))
    upstream = make_upstream(
        script, HttpPolicy(attempts=3, wait_initial=0.001, breaker_threshold=1)
    )
    with counting(RequestCalls(limit=2)) as calls:
        # The third attempt (the second retry) would pass the limit: it is not sent.
        with pytest.raises(UpstreamCallLimit, match="GATEWAY_MAX_UPSTREAM_CALLS") as caught:
            await upstream.request("GET", "/things", retry=True)
        with pytest.raises(UpstreamCallLimit):
            await upstream.request("GET", "/other", retry=True)
    assert caught.value.code == "TOO_MANY_UPSTREAM_CALLS"
    assert caught.value.provider == "acme"
    assert len(script.requests) == 2
    assert (calls.made, calls.refused) == (2, 2)
    assert upstream.breaker.state.value == "closed"


async def test_a_callers_calls_past_its_share_wait_while_another_callers_go_through(
    make_upstream: Callable[..., Upstream],
) -> None:
    release = asyncio.Event()
    arrived: list[str] = []

    async def slow(request: Request) -> Response:
        arrived.append(request.url.path)
        await release.wait()
        return Response.of(200, json={})

    policy = HttpPolicy(attempts=1, max_in_flight=4, max_in_flight_per_caller=2, queue_timeout=30)
    upstream = make_upstream(slow, policy)

    async def call(caller: str, path: str) -> int:
        with counting(RequestCalls(caller=caller)):
            return (await upstream.request("GET", path, retry=True)).status_code

    heavy = [asyncio.create_task(call("heavy", f"/heavy/{n}")) for n in range(4)]
    for _ in range(1000):
        if upstream.bulkhead.waiting == 2:
            break
        await asyncio.sleep(0)
    assert (upstream.bulkhead.in_flight, upstream.bulkhead.waiting) == (2, 2)
    light = asyncio.create_task(call("light", "/light"))
    for _ in range(1000):
        if "/v1/light" in arrived:
            break
        await asyncio.sleep(0)
    # The light caller's call reached the provider before the heavy caller's third and fourth.
    assert arrived == ["/v1/heavy/0", "/v1/heavy/1", "/v1/light"]
    release.set()
    assert await asyncio.wait_for(asyncio.gather(*heavy, light), 10) == [200] * 5
