"""`Upstream`: a provider's API behind the gateway's deadline, retries, guards and error
policy (the package's docstring says what each does)."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, urlencode

import stamina
from yarl import URL

from providers.calls import current_calls
from providers.errors import (
    ProviderBadResponse,
    ProviderBusy,
    ProviderCircuitOpen,
    ProviderConnectionLost,
    ProviderError,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
    UpstreamCallLimit,
)
from providers.http.policy import HttpPolicy, build_transport, without_userinfo
from providers.http.status import (
    RETRYABLE_STATUSES,
    ErrorBody,
    RetryableStatus,
    error_for_status,
    retry_after,
)
from providers.observe import UpstreamObserver, observed_send
from providers.resilience import Bulkhead, BulkheadFull, CircuitBreaker, RetryBudget
from providers.transport import (
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

__all__ = ["Upstream"]


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
        #: Told of every HTTP attempt (`providers.observe`); None: nobody watches.
        self.observer: UpstreamObserver | None = None

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
        """Send one call; return the response if its status is in `ok`, else raise. The call
        is observed under `path.route` when it has one (`providers.client.routed`: the path's
        template, ids left out), else under `path`.

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
            response = await self._send(request, retry=retry, route=getattr(path, "route", path))
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

    async def _send(self, request: Request, *, retry: bool, route: str) -> Response:
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
            if isinstance(exc, RetryableStatus):
                wait = retry_after(exc.response)
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
        if calls is not None and calls.request_id is not None:
            # The gateway request's id goes on to the provider, to find one call in both logs.
            request.headers = {**request.headers, "x-request-id": calls.request_id}
        budget.record_call()
        send = self.transport.send
        timeouts = self._timeouts
        cap = policy.max_response_bytes
        observer = self.observer

        async def attempt_once() -> Response:
            if calls is not None:
                calls.spend(self.provider)  # or UpstreamCallLimit: nothing is sent
            async with self.bulkhead.slot(owner):
                if observer is None:
                    response = await send(request, timeouts=timeouts, max_bytes=cap)
                else:
                    response = await observed_send(
                        observer, self.provider, route, self.transport, request, timeouts, cap
                    )
            if response.status_code in RETRYABLE_STATUSES:
                raise RetryableStatus(response)
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
                except (TransportError, RetryableStatus) as exc:
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
        except RetryableStatus as exc:
            return exc.response
        return response
