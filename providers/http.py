"""How providers call their APIs: `Upstream` (timeouts, retries, guards, status -> error) on a
`providers.transport.Transport` (aiohttp on the network, the app itself in process).

Every upstream call goes through `Upstream.request`, which
- bounds the whole call, retries and a slowly dripping body included, by `HttpPolicy.deadline`;
- reads at most `HttpPolicy.max_response_bytes` of a body (streamed; more is an error);
- retries, with jittered exponential backoff (stamina), only calls the caller marks `retry=True`
  (reads, and creates that carry an idempotency key the provider honours), on transport errors
  and on 429/502/503/504, honouring `Retry-After` within the deadline, and only while the
  provider's retry budget allows (`providers.resilience`);
- passes the provider's circuit breaker (fails fast with `ProviderCircuitOpen` while it is open)
  and bulkhead (`ProviderBusy` when no slot frees up in time), where one caller of the gateway
  holds at most `max_in_flight_per_caller` slots;
- counts every HTTP request it sends (retries included) against the current gateway request's
  `providers.calls.RequestCalls`, and sends none past its limit (`UpstreamCallLimit`);
- turns every failure into a `providers.errors.ProviderError`, chained to the transport's error.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, urlencode

import stamina
from yarl import URL

from providers.calls import current_calls
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
from providers.resilience import Bulkhead, BulkheadFull, CircuitBreaker, RetryBudget
from providers.transport import (
    AiohttpTransport,
    AttemptTimeout,
    ConnectionLost,
    Request,
    Response,
    ResponseTooLarge,
    Timeouts,
    Transport,
    TransportError,
    Unreachable,
    UnreadableResponse,
)

__all__ = [
    "ErrorBody",
    "HttpPolicy",
    "Response",
    "Upstream",
    "build_transport",
    "decode_json",
    "error_for_status",
    "exact_json",
    "without_userinfo",
]

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})

#: What a provider's error body says: (its error code, a message safe to show a client).
ErrorBody = tuple[str | None, str | None]


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


class _RetryableStatus(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _retry_after(response: Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def error_for_status(provider: str, response: Response, body: ErrorBody) -> ProviderError:
    """The error for a non-2xx answer. Only 4xx messages are passed on: 5xx text stays in logs."""
    status = response.status_code
    code, message = body
    if status in (401, 403):
        return ProviderAuthError(
            provider,
            f"{provider} refused the gateway's credentials (HTTP {status}): check its API key",
            status=status,
            provider_code=code,
        )
    if status == 429:
        return ProviderRateLimited(
            provider, f"{provider} is rate limiting the gateway", status=status, provider_code=code
        )
    if status >= 500:
        return ProviderUnavailable(
            provider, f"{provider} answered HTTP {status}", status=status, provider_code=code
        )
    text = message or f"{provider} refused the request (HTTP {status})"
    cls: type[ProviderRejected] = ProviderRejected
    if status == 404:
        cls = NotFound
    elif status == 409:
        cls = Conflict
    return cls(provider, text, status=status, provider_code=code)


class Upstream:
    """A provider's API with the gateway's deadline, retry, guard and error policy.

    `headers` go with every request; `credentials` too, kept apart so that no repr, snapshot or
    error shows them (`headers` is public, `credentials` is not kept as given). `transport`
    defaults to the network (`build_transport`); an in-process sandbox or a script passes its
    own (`providers.transport`).
    """

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        policy: HttpPolicy,
        parse_error: Callable[[Response], ErrorBody],
        headers: Mapping[str, str] | None = None,
        credentials: Mapping[str, str] | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.provider = provider
        # User info in the URL is never sent: the credentials are the client's own headers.
        self.base_url = without_userinfo(base_url).rstrip("/")
        self.policy = policy
        self.headers = {name.lower(): value for name, value in (headers or {}).items()}
        self.transport: Transport = transport or build_transport(policy)
        self._parse_error = parse_error
        # Built once, read-only (every request shares them): a request picks one of the two.
        sent = {**self.headers, **{k.lower(): v for k, v in (credentials or {}).items()}}
        self._plain_headers: Mapping[str, str] = MappingProxyType(sent)
        self._json_headers: Mapping[str, str] = MappingProxyType(
            {**sent, "content-type": "application/json"}
        )
        self._timeouts = Timeouts(connect=policy.connect_timeout, read=policy.read_timeout)
        self.retry_budget = RetryBudget(
            ratio=policy.retry_budget_ratio, min_per_second=policy.retry_budget_min_per_second
        )
        self.breaker = CircuitBreaker(
            threshold=policy.breaker_threshold, reset_after=policy.breaker_reset_seconds
        )
        self.bulkhead = Bulkhead(
            limit=policy.max_in_flight, max_wait=policy.queue_timeout, per_owner=policy.caller_share
        )

    def __repr__(self) -> str:
        return f"Upstream(provider={self.provider!r}, base_url={self.base_url!r})"

    def snapshot(self) -> dict[str, object]:
        """The guards' settings and state, for `/readyz`."""
        return {
            "http": self.policy.snapshot(),
            "circuit_breaker": self.breaker.snapshot(),
            "bulkhead": self.bulkhead.snapshot(),
            "retry_budget": self.retry_budget.snapshot(),
        }

    async def aclose(self) -> None:
        await self.transport.aclose()

    def build_request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Request:
        """The request `request` sends: `path` (already quoted) under the base URL, `params`
        as the query (a sequence value as repeated keys), a JSON body from `json_body` or the
        bytes of `content` (sent as JSON)."""
        target = self.base_url + path
        if params:
            target += "?" + urlencode(params, doseq=True, quote_via=quote)
        if json_body is not None:
            content = json.dumps(
                json_body, ensure_ascii=False, separators=(",", ":"), allow_nan=False
            ).encode()
        headers = self._json_headers if content is not None else self._plain_headers
        return Request(method, URL(target, encoded=True), headers, content)

    async def request(
        self,
        method: str,
        path: str,
        *,
        retry: bool,
        json_body: Any = None,
        content: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        ok: frozenset[int] = frozenset({200}),
    ) -> Response:
        """Send one call; return the response if its status is in `ok`, else raise.

        Raises `ProviderCircuitOpen` (no call made) while the breaker is open, `ProviderBusy`
        when the bulkhead has no slot in time, `ProviderTimeout` past the deadline,
        `ProviderUnavailable` when the provider cannot be reached or keeps failing, and the 4xx
        errors of `error_for_status`.
        """
        breaker = self.breaker
        if not breaker.allow():
            raise ProviderCircuitOpen(
                self.provider,
                f"{self.provider} kept failing: the gateway stopped calling it and will try "
                f"again in {math.ceil(breaker.retry_in())} s",
            )
        try:
            request = self.build_request(
                method, path, json_body=json_body, content=content, params=params
            )
            response = await self._send(request, retry=retry)
            if response.status_code not in ok:
                raise error_for_status(self.provider, response, self._parse_error(response))
        except (ProviderBusy, ProviderRateLimited, UpstreamCallLimit):
            breaker.ignored()
            raise
        except (ProviderUnavailable, ProviderBadResponse):
            breaker.failed()
            raise
        except ProviderError:
            breaker.succeeded()  # a 4xx: the provider answered
            raise
        except BaseException:
            breaker.ignored()  # cancelled: nothing learnt
            raise
        breaker.succeeded()
        return response

    async def _send(self, request: Request, *, retry: bool) -> Response:
        policy = self.policy
        budget = self.retry_budget
        loop = asyncio.get_running_loop()
        started = loop.time()
        attempts = policy.attempts if retry else 1
        tried = 0

        def should_retry(exc: Exception) -> bool | float:
            if tried >= attempts:
                return False
            decision: bool | float
            if isinstance(exc, _RetryableStatus):
                wait = _retry_after(exc.response)
                # A wait past the deadline would only end in a timeout: answer with the status.
                remaining = policy.deadline - (loop.time() - started)
                decision = True if not wait else (wait if wait < remaining else False)
            else:
                decision = isinstance(exc, TransportError)
            if decision is False:
                return False
            return decision if budget.try_retry() else False

        calls = current_calls()
        owner = calls.caller if calls is not None else None
        budget.record_call()
        send = self.transport.send
        timeouts = self._timeouts
        cap = policy.max_response_bytes

        async def attempt_once() -> Response:
            if calls is not None:
                calls.spend(self.provider)  # or UpstreamCallLimit: nothing is sent
            async with self.bulkhead.slot(owner):
                response = await send(request, timeouts=timeouts, max_bytes=cap)
            if response.status_code in RETRYABLE_STATUSES:
                raise _RetryableStatus(response)
            return response

        try:
            async with asyncio.timeout(policy.deadline):
                # The first attempt runs before stamina is entered: most calls succeed at once,
                # and a retry context costs about as much CPU as the request itself. A failure
                # that could be retried is handed to stamina as its first attempt's outcome, so
                # stamina decides (`should_retry`, once), waits, logs and counts every retry
                # exactly as if it had made that attempt itself.
                try:
                    return await attempt_once()
                except (TransportError, _RetryableStatus) as exc:
                    if attempts == 1:
                        raise
                    first_failure: Exception = exc
                async for attempt in stamina.retry_context(
                    on=should_retry,
                    attempts=attempts,
                    timeout=policy.deadline,
                    wait_initial=policy.wait_initial,
                    wait_max=policy.wait_max,
                    wait_jitter=policy.wait_jitter,
                ):
                    with attempt:
                        tried = attempt.num
                        if tried == 1:
                            raise first_failure
                        response = await attempt_once()
        except BulkheadFull as exc:
            raise ProviderBusy(
                self.provider,
                f"{self.provider} already has {policy.max_in_flight} calls in flight from "
                f"this gateway, or {policy.caller_share} from this caller: try again shortly",
            ) from exc
        except ResponseTooLarge as exc:
            raise ProviderBadResponse(
                self.provider,
                f"{self.provider} sent a response larger than {policy.max_response_bytes} bytes",
            ) from exc
        except TimeoutError as exc:
            raise ProviderTimeout(
                self.provider, f"{self.provider} did not answer within {policy.deadline:g} s"
            ) from exc
        except AttemptTimeout as exc:
            raise ProviderTimeout(self.provider, f"{self.provider} timed out") from exc
        except Unreachable as exc:
            raise ProviderUnavailable(
                self.provider, f"{self.provider} could not be reached"
            ) from exc
        except ConnectionLost as exc:
            # Reading or writing failed once connected (a reset, a closed socket, an in-process
            # sandbox's injected reset): the request may have been carried out.
            raise ProviderConnectionLost(
                self.provider, f"{self.provider} dropped the connection"
            ) from exc
        except UnreadableResponse as exc:
            # A body that does not match its encoding, a malformed status line, ...
            raise ProviderBadResponse(
                self.provider, f"{self.provider} sent a response that could not be read"
            ) from exc
        except _RetryableStatus as exc:
            return exc.response
        return response


def exact_json(value: object) -> bytes:
    """Compact JSON in which every `Decimal` is written as its own digits: a JSON number that
    never passes through a float (for APIs that take money as numbers). Floats are refused."""
    out: list[str] = []
    _write(value, out)
    return "".join(out).encode()


def _write(value: object, out: list[str]) -> None:
    if value is None or isinstance(value, bool | str):
        out.append(json.dumps(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite number")
        out.append(format(value, "f"))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, Mapping):
        out.append("{")
        for n, (key, item) in enumerate(value.items()):
            out.append(("," if n else "") + json.dumps(str(key)) + ":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for n, item in enumerate(value):
            if n:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"{type(value).__name__} is not written as exact JSON")


def decode_json(provider: str, response: Response) -> Any:
    """The JSON body, or `ProviderBadResponse` when it is not JSON."""
    try:
        return json.loads(response.content)
    except ValueError as exc:
        raise ProviderBadResponse(
            provider,
            f"{provider} answered HTTP {response.status_code} with a body that is not JSON",
        ) from exc
