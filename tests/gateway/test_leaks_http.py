"""No secret reaches a client, through real HTTP: 200 requests at once while both providers fail
with a sentinel secret in their error text, the providers' and callers' keys hold it too, some
callers send a wrong key (holding it as well) and one resolver fails with it in the exception. The
sentinel must be in no response body and no response header; every error is coded; the detail
goes to the log.

The providers fail through a transport in front of each in-process sandbox that answers, in a
fixed rotation, every kind of failure with the sentinel in the body, a header or the exception
(5xx and 4xx bodies quoting the provider's own key, 401/403, 429, a body that is not JSON, a
refused connection, a timeout) and passes the rest to the sandbox, whose own fault injection
drops and garbles some of those answers too.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from providers.transport import (
    AttemptTimeout,
    Request,
    Response,
    Timeouts,
    Transport,
    Unreachable,
)
from tests.gateway.hostile import (
    FLEXPRICE_KEY,
    READ_KEY,
    SENTINEL,
    WRITE_KEY,
    XENDIT_KEY,
    Hostile,
    leaks,
    served_gateway,
)

CONCURRENT = 200


def _error_body(provider: str, status: int) -> dict[str, Any]:
    # A provider quoting the key it was sent: its 4xx messages are shown to clients.
    key = XENDIT_KEY if provider == "xendit" else FLEXPRICE_KEY
    text = f"upstream failure {status}: key {key} is not allowed here"
    if provider == "xendit":
        return {"error_code": "SERVER_ERROR", "message": text}
    return {"code": "system_error", "message": text, "http_status_code": status}


FAILURES: tuple[int | str, ...] = (
    503, 500, 502, 504, 401, 403, 429, 400, 404, 409, 422, "not-json", "connect", "timeout",
)  # fmt: skip


class SentinelFaults:
    """Every other request fails, in turn, in each of FAILURES; the rest reach the sandbox."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.turn = itertools.count()
        self.failed: Counter[str] = Counter()

    async def send(self, request: Request, *, timeouts: Timeouts, max_bytes: int) -> Response:
        turn = next(self.turn)
        if turn % 2:
            return await self.inner.send(request, timeouts=timeouts, max_bytes=max_bytes)
        failure = FAILURES[(turn // 2) % len(FAILURES)]
        provider = "xendit" if (request.url.host or "").startswith("xendit") else "flexprice"
        self.failed[str(failure)] += 1
        if failure == "connect":
            raise Unreachable(f"cannot connect with {SENTINEL}")
        if failure == "timeout":
            raise AttemptTimeout(f"no answer for {SENTINEL}")
        if failure == "not-json":
            return Response.of(200, text=f"<html>proxy error {SENTINEL}</html>")
        assert isinstance(failure, int)
        headers = {"retry-after": "0", "x-debug-key": SENTINEL}
        return Response.of(failure, json=_error_body(provider, failure), headers=headers)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def faulty() -> Iterator[tuple[Hostile, list[SentinelFaults]]]:
    transports: list[SentinelFaults] = []

    def wrap(inner: Transport) -> Transport:
        transports.append(SentinelFaults(inner))
        return transports[-1]

    # Every masked bug's traceback is logged (no per-second budget): the test finds each
    # request id in the log.
    with served_gateway(transport=wrap, log_bugs_per_second=0) as gateway:
        yield gateway, transports


def _requests(gateway: Hostile) -> list[tuple[str, dict[str, str], dict[str, Any]]]:
    """(kind, headers, body) of the 200 requests: reads, creates, a masked bug, wrong keys."""
    write = {"authorization": f"Bearer {WRITE_KEY}"}
    ids = gateway.ids

    def create(provider: str, n: int) -> dict[str, Any]:
        return {
            "query": """mutation($c: ID!, $cur: String!, $k: String!) {
                createInvoice(input: {customerId: $c, currency: $cur, idempotencyKey: $k,
                  lineItems: [{description: "Seats", quantity: "2", unitAmount: "10"}]}) {
                  invoice { id } userErrors { code message } } }""",
            "variables": {
                "c": ids[f"{provider}_customer"][n % 8],
                "cur": "USD" if provider == "flexprice" else "IDR",
                "k": f"leak-{provider}-{n}",
            },
        }

    def read(field: str, gid: str) -> dict[str, Any]:
        return {"query": f'{{ {field}(id: "{gid}") {{ id provider }} }}'}

    listing = {
        "query": "{ invoices(first: 5) { totalCount edges { node { id customer { name } } } } }"
    }
    made: list[tuple[str, dict[str, str], dict[str, Any]]] = []
    for n in range(CONCURRENT):
        slot = n % 10
        if slot in (0, 1):
            made.append(("read", write, read("invoice", ids["flexprice_invoice"][n % 12])))
        elif slot in (2, 3):
            made.append(("read", write, read("invoice", ids["xendit_invoice"][n % 12])))
        elif slot == 4:
            made.append(("read", write, listing))
        elif slot == 5:
            made.append(("create", write, create("flexprice", n)))
        elif slot == 6:
            made.append(("create", write, create("xendit", n)))
        elif slot == 7:
            made.append(("bug", write, read("customer", ids["flexprice_customer"][n % 8])))
        elif slot == 8:
            wrong = {"authorization": f"Bearer {WRITE_KEY}-but-wrong"}
            made.append(("unauthenticated", wrong, read("invoice", ids["xendit_invoice"][0])))
        else:
            made.append(("forbidden", {"x-api-key": READ_KEY}, create("flexprice", n)))
    return made


async def test_two_hundred_failing_requests_at_once_leak_the_sentinel_nowhere(
    faulty: tuple[Hostile, list[SentinelFaults]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway, transports = faulty

    async def broken(ids: Any) -> Any:
        raise RuntimeError(f"customer cache corrupted near {SENTINEL}")

    monkeypatch.setattr(gateway.flexprice, "get_customers", broken)
    requests = _requests(gateway)
    limits = httpx.Limits(max_connections=CONCURRENT, max_keepalive_connections=CONCURRENT)
    async with httpx.AsyncClient(base_url=gateway.url, limits=limits, timeout=60) as client:
        for name in ("flexprice", "xendit"):  # the sandboxes drop and garble answers too
            faults = {"reset_rate": 0.1, "malformed_rate": 0.1}
            put = await client.put(
                f"/sandbox/{name}/_sandbox/faults", json=faults, headers={"x-api-key": WRITE_KEY}
            )
            assert put.status_code == 200
        with caplog.at_level(logging.WARNING, logger="gateway"):
            async with asyncio.timeout(120):
                responses = await asyncio.gather(
                    *(
                        client.post("/graphql", json=body, headers=headers)
                        for _, headers, body in requests
                    )
                )

    seen: Counter[str] = Counter()
    bug_ids = []
    for (kind, _, _), response in zip(requests, responses, strict=True):
        problems = leaks(response.status_code, response.headers, response.text, masked=True)
        assert problems == [], (kind, problems, response.text)
        body = response.json()
        codes = [e["extensions"]["code"] for e in body.get("errors", [])]
        if kind == "unauthenticated":
            assert (response.status_code, codes) == (401, ["UNAUTHENTICATED"])
            continue
        assert response.status_code == 200, response.text
        request_id = response.headers["x-request-id"]
        if kind == "forbidden":
            assert codes == ["FORBIDDEN"]
        elif kind == "bug":
            [error] = body["errors"]
            assert error["message"] == "Unexpected error."
            assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
            bug_ids.append(request_id)
        else:
            assert "INTERNAL_SERVER_ERROR" not in codes, body
        seen.update(codes)
        for payload in (body.get("data") or {}).values():
            seen.update(e["code"] for e in (payload or {}).get("userErrors", []))

    # The run met every kind of failure, and its clients were told so with codes (those that
    # are never retried: a retried 503 or 429 may meet a good answer next).
    failed = sum((t.failed for t in transports), Counter[str]())
    assert set(failed) == {str(f) for f in FAILURES}, failed
    surfaced = {"PROVIDER_UNAVAILABLE", "PROVIDER_AUTH_FAILED", "PROVIDER_BAD_RESPONSE"}
    assert surfaced | {"PROVIDER_REJECTED"} <= set(seen), seen
    # What the clients were not shown is in the log, with the request id.
    assert f"customer cache corrupted near {SENTINEL}" in caplog.text
    assert len(bug_ids) == CONCURRENT // 10
    assert all(request_id in caplog.text for request_id in bug_ids)
