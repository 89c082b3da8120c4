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

from providers.http.bodies import decode_json, exact_json
from providers.http.policy import HttpPolicy, build_transport, without_userinfo
from providers.http.status import ErrorBody, error_for_status
from providers.http.upstream import Upstream
from providers.transport import Response

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
