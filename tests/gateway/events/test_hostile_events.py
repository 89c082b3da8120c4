"""The events surface attacked as a hostile client would: cursors the gateway never wrote and
filters with odd values, each against a gateway served on 127.0.0.1 with the tests' `Ledger`
provider (`test_subscriptions.served`), every wait bounded. Each test here is a finding: what
the client should see, which the gateway did not give when it was written."""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import time
from typing import Any

import httpx

from gateway.events.records import encode_cursor
from tests.gateway.events.streams import SseSubscription
from tests.gateway.events.test_subscriptions import PLAIN, deliver, served

#: How long a refusal may take to arrive (a refusal is decided before anything is read).
ANSWER_S = 3.0


def first_error(subscription: SseSubscription) -> dict[str, Any]:
    """The error a refused subscription ends with, within ANSWER_S; fails on an event or on
    silence (heartbeats only)."""
    try:
        name, data = subscription.next(ANSWER_S)
    except queue.Empty:
        raise AssertionError(
            f"no answer in {ANSWER_S} s: the subscription stays open, silent "
            f"({subscription.heartbeats} heartbeats)"
        ) from None
    assert name in ("next", "answer"), (name, data)
    assert "errors" in data, f"an event, not a refusal: {data}"
    (error,) = data["errors"]
    return dict(error)


def test_a_cursor_whose_sequence_overflows_redis_is_refused_not_retried_forever(
    redis_url: str,
) -> None:
    # 20 digits pass the cursor's pattern, but Redis stream ids are two 64-bit integers: the
    # catch-up read is an error from Redis, taken for Redis being down and retried without
    # end (a warning each time), while the client hears heartbeats and nothing else.
    overflowing = encode_cursor("1-99999999999999999999")
    with (
        served(redis_url=redis_url) as (url, _),
        SseSubscription(url, PLAIN, {"after": overflowing}) as hostile,
    ):
        error = first_error(hostile)
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["field"] == "after"
    assert "Traceback" not in str(error)


def test_a_cursor_from_the_future_is_refused_not_left_waiting_forever() -> None:
    # A cursor ahead of everything the log holds names no event this gateway wrote: accepted,
    # the subscription waits for events after it, so every real event passes it by unseen.
    future = encode_cursor("9999999999999999-0")
    with served() as (url, _), SseSubscription(url, PLAIN, {"after": future}) as tampered:
        time.sleep(0.2)
        assert deliver(url, {"id": "d1", "event": "paid", "invoice": "inv-1"}).status_code == 200
        error = first_error(tampered)
    assert error["extensions"]["code"] in ("BAD_USER_INPUT", "EVENT_CURSOR_EXPIRED"), error
    assert error["extensions"]["field"] == "after"


def test_an_empty_filter_list_is_refused_naming_its_field_not_a_silent_subscription() -> None:
    # `provider: []` or `type: []` matches no event: the subscription is open and can never
    # send anything, holding one of the caller's slots. Refuse it as the mistake it is.
    for chosen, field in [({"provider": []}, "filter.provider"), ({"type": []}, "filter.type")]:
        with served() as (url, _), SseSubscription(url, PLAIN, {"filter": chosen}) as empty:
            time.sleep(0.2)
            deliver(url, {"id": "d1", "event": "paid", "invoice": "inv-1"})
            error = first_error(empty)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (chosen, error)
        assert error["extensions"]["field"] == field


def test_an_unknown_provider_in_the_filter_is_not_echoed_back_at_any_length() -> None:
    # The refusal quotes the name sent, whole, in its message and in extensions.provider: a
    # 100 kB name comes back twice (200 kB), and goes to the log as is.
    name = "x" * 100_000
    with (
        served() as (url, _),
        httpx.stream(
            "POST",
            f"{url}/graphql",
            json={"query": PLAIN, "variables": {"filter": {"provider": [name]}}},
            headers={"accept": "text/event-stream"},
            timeout=ANSWER_S,
        ) as answer,
    ):
        body = b""
        for chunk in answer.iter_bytes():
            body += chunk
            if b"event: complete" in body or len(body) > 1_000_000:
                break
    assert b"UNKNOWN_PROVIDER" in body
    assert b"filter.provider" in body
    assert len(body) < 2_000, f"the refusal is {len(body)} bytes for a {len(name)}-byte name"


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_webhook_body_cut_short_is_no_traceback_in_the_log() -> None:
    # Anyone may POST to /webhooks/<name> (the body is read before the secret is checked):
    # a client that sends its body too slowly is answered 408 by the protocol, which closes
    # the connection, and the receiver, still reading the body, raised ClientDisconnect out
    # of the app, which uvicorn logs as "Exception in ASGI application" with a traceback: an
    # error and a traceback in the log per request anyone can send.
    errors = _Records()
    uvicorn_errors = logging.getLogger("uvicorn.error")
    with served(request_timeout_seconds=0.5) as (url, _):
        uvicorn_errors.addHandler(errors)  # after the server's start (its logging set-up)
        try:
            host, port = url.removeprefix("http://").split(":")
            with socket.create_connection((host, int(port)), timeout=ANSWER_S) as client:
                client.sendall(
                    b"POST /webhooks/ledger HTTP/1.1\r\nhost: gateway\r\n"
                    b"content-type: application/json\r\ncontent-length: 1000\r\n\r\n"
                )
                answer = b""
                deadline = time.monotonic() + ANSWER_S
                while not answer and time.monotonic() < deadline:  # one byte at a time
                    client.sendall(b" ")
                    time.sleep(0.1)
                    client.setblocking(False)
                    with contextlib.suppress(BlockingIOError):
                        answer = client.recv(100)
                    client.setblocking(True)
            assert answer.startswith(b"HTTP/1.1 408"), answer
            # The next request is answered: whatever the first one logged is in.
            assert httpx.get(f"{url}/healthz", timeout=ANSWER_S).status_code == 200
            time.sleep(0.2)
        finally:
            uvicorn_errors.removeHandler(errors)
    logged = [(r.getMessage(), r.exc_info is not None) for r in errors.records]
    assert logged == [], logged


def test_a_webhook_client_hanging_up_mid_body_is_no_traceback_in_the_log() -> None:
    # The same without any timeout: announce 1000 bytes, send one, hang up. /graphql takes
    # this quietly (the view's `_post` sees the client gone); /webhooks/<name> logged an
    # error with a traceback.
    errors = _Records()
    uvicorn_errors = logging.getLogger("uvicorn.error")
    with served() as (url, _):
        uvicorn_errors.addHandler(errors)  # after the server's start (its logging set-up)
        try:
            host, port = url.removeprefix("http://").split(":")
            for path in (b"/graphql", b"/webhooks/ledger"):
                with socket.create_connection((host, int(port)), timeout=ANSWER_S) as client:
                    client.sendall(
                        b"POST " + path + b" HTTP/1.1\r\nhost: gateway\r\n"
                        b"content-type: application/json\r\ncontent-length: 1000\r\n\r\n{"
                    )
                    time.sleep(0.2)  # the app is reading the body
            assert httpx.get(f"{url}/healthz", timeout=ANSWER_S).status_code == 200
            time.sleep(0.2)
        finally:
            uvicorn_errors.removeHandler(errors)
    logged = [(r.getMessage(), r.exc_info is not None) for r in errors.records]
    assert logged == [], logged
