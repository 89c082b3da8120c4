"""Compression through the served gateway over real HTTP: each coding decompresses to the
identity answer, the client's q-values choose it, the threshold and the switch are respected,
GraphiQL's files are compressed, and a subscription's stream (SSE) is not, its events arriving
one at a time, nor is the WebSocket disturbed."""

from __future__ import annotations

import contextlib
import gzip
import json
import threading
import time
from collections.abc import Iterator

import brotli
import httpx
import pytest
import zstandard

from gateway.app import create_app
from gateway.settings import GatewaySettings
from providers.models import InvoiceStatus
from tests.gateway.events.ledger import Ledger, invoice
from tests.gateway.events.streams import WsConnection
from tests.gateway.hostile import READ_KEY, Hostile, served_gateway
from tests.serving import ServedApp

KEY = {"authorization": f"Bearer {READ_KEY}"}
LISTING = """{ invoices(first: 50) { edges { cursor node { id number status currency
  total { amount currency formatted } amountDue { amount } dueAt createdAt
  customer { id name email } lineItems { description quantity unitAmount { amount } } } } } }"""


def decompress(coding: str, raw: bytes) -> bytes:
    if coding == "gzip":
        return gzip.decompress(raw)
    if coding == "br":
        return bytes(brotli.decompress(raw))
    assert coding == "zstd", coding
    return zstandard.ZstdDecompressor().decompressobj().decompress(raw)


def raw_post(
    client: httpx.Client, query: str, accept_encoding: str | None
) -> tuple[httpx.Headers, bytes]:
    """The answer's headers and its bytes as they came over the wire (not decoded)."""
    headers = {} if accept_encoding is None else {"accept-encoding": accept_encoding}
    with client.stream("POST", "/graphql", json={"query": query}, headers=headers) as response:
        assert response.status_code == 200
        return response.headers, b"".join(response.iter_raw())


@pytest.fixture(scope="module")
def gateway() -> Iterator[Hostile]:
    with served_gateway() as served:
        yield served


@pytest.fixture
def client(gateway: Hostile) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.url, headers=KEY, timeout=10) as http:
        yield http


@pytest.fixture(scope="module")
def identity(gateway: Hostile) -> bytes:
    with httpx.Client(base_url=gateway.url, headers=KEY, timeout=10) as http:
        headers, body = raw_post(http, LISTING, "identity")
    assert "content-encoding" not in headers
    assert len(json.loads(body)["data"]["invoices"]["edges"]) == 50
    return body


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_each_coding_decompresses_to_the_identity_answer(
    client: httpx.Client, identity: bytes, coding: str
) -> None:
    headers, raw = raw_post(client, LISTING, coding)
    assert headers["content-encoding"] == coding
    assert "accept-encoding" in headers["vary"].lower()
    assert int(headers["content-length"]) == len(raw)
    assert len(raw) < len(identity) / 3
    assert decompress(coding, raw) == identity


@pytest.mark.parametrize(
    ("accept_encoding", "coding"),
    [
        ("gzip, deflate, br, zstd", "zstd"),  # a tie: zstd, then br, then gzip
        ("gzip, deflate, br", "br"),  # what aiohttp sends with brotli installed
        ("gzip;q=1.0, br;q=0.5, zstd;q=0.1", "gzip"),  # the client's preference wins
        ("br;q=0.9, GZIP", "gzip"),
        ("zstd;q=0, br;q=0, *", "gzip"),  # * stands for the codings not named
        ("*;q=0.5, br", "br"),
        ("gzip;q=0", None),
        ("identity", None),
        ("deflate", None),  # not one the gateway sends
        ("*;q=0", None),
        ("gzip;q=nonsense", None),
        (None, None),
    ],
)
def test_the_coding_is_the_one_the_client_ranks_highest(
    client: httpx.Client, identity: bytes, accept_encoding: str | None, coding: str | None
) -> None:
    if accept_encoding is None:
        del client.headers["accept-encoding"]
    headers, raw = raw_post(client, LISTING, accept_encoding)
    assert headers.get("content-encoding") == coding
    assert (raw if coding is None else decompress(coding, raw)) == identity


def test_an_answer_under_the_threshold_is_sent_as_it_is(client: httpx.Client) -> None:
    headers, raw = raw_post(client, "{ __typename }", "gzip, br, zstd")
    assert "content-encoding" not in headers
    assert json.loads(raw)["data"] == {"__typename": "Query"}


def test_the_threshold_and_the_switch_are_settings() -> None:
    small = "{ __typename }"
    with served_gateway(compression_min_bytes=0) as served:
        with httpx.Client(base_url=served.url, headers=KEY, timeout=10) as http:
            headers, raw = raw_post(http, small, "gzip")
        assert headers["content-encoding"] == "gzip"
        assert json.loads(gzip.decompress(raw))["data"] == {"__typename": "Query"}
    with served_gateway(compression=False) as served:
        with httpx.Client(base_url=served.url, headers=KEY, timeout=10) as http:
            headers, raw = raw_post(http, LISTING, "gzip, br, zstd")
        assert "content-encoding" not in headers
        assert len(json.loads(raw)["data"]["invoices"]["edges"]) == 50


def test_graphiqls_files_are_compressed(client: httpx.Client) -> None:
    path = "/_graphiql/graphiql-3.8.3/graphiql.min.js"
    with client.stream("GET", path, headers={"accept-encoding": "identity"}) as plain:
        original = b"".join(plain.iter_raw())
    with client.stream("GET", path, headers={"accept-encoding": "br"}) as packed:
        assert packed.status_code == 200
        assert packed.headers["content-encoding"] == "br"
        raw = b"".join(packed.iter_raw())
    assert len(raw) < len(original) / 3
    assert decompress("br", raw) == original


def test_a_refusal_in_the_new_media_type_is_compressed_too(client: httpx.Client) -> None:
    # application/graphql-response+json is a type starlette-compress does not know itself.
    query = "{ " + " ".join(f"a{n}: nope{n}" for n in range(25)) + " }"
    with client.stream(
        "POST",
        "/graphql",
        json={"query": query},
        headers={"accept": "application/graphql-response+json", "accept-encoding": "gzip"},
    ) as response:
        assert response.status_code == 400
        assert response.headers["content-encoding"] == "gzip"
        answer = json.loads(gzip.decompress(b"".join(response.iter_raw())))
    assert answer["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


# -- streams --------------------------------------------------------------------------------

TOKEN = "ledger-token-0123456789"
EVENTS = "subscription { invoiceEvents { id type invoiceId } }"


@contextlib.contextmanager
def ledger_gateway() -> Iterator[str]:
    """A gateway over `Ledger` (webhooks in, events out) that compresses every answer."""
    ledger = Ledger()
    ledger.invoices["inv-1"] = invoice("inv-1", InvoiceStatus.OPEN)
    settings = GatewaySettings(
        providers=("ledger",), heartbeat_seconds=0.2, compression_min_bytes=0
    )
    app = create_app(settings=settings, providers={"ledger": ledger})
    with ServedApp(app, lifespan=True) as server:
        yield server.url


def deliver(url: str, delivery: str) -> None:
    body = {"id": delivery, "event": "created", "invoice": "inv-1"}
    answer = httpx.post(f"{url}/webhooks/ledger", json=body, headers={"x-ledger-token": TOKEN})
    assert answer.status_code == 200, answer.text


def test_a_subscription_over_sse_is_not_compressed_and_each_event_arrives_alone() -> None:
    with ledger_gateway() as url, httpx.Client(timeout=httpx.Timeout(10, read=None)) as http:
        lines: list[str] = []
        seen = threading.Event()
        with http.stream(
            "POST",
            f"{url}/graphql",
            json={"query": EVENTS},
            headers={"accept": "text/event-stream", "accept-encoding": "gzip, br, zstd"},
        ) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert "content-encoding" not in stream.headers

            def read() -> None:
                for line in stream.iter_lines():
                    lines.append(line)
                    if line.startswith("data:"):
                        seen.set()
                        return

            reader = threading.Thread(target=read, daemon=True)
            reader.start()
            time.sleep(0.3)  # subscribed
            deliver(url, "d1")
            # The first event arrives while the stream is open, on its own: nothing holds it
            # back waiting for more.
            assert seen.wait(10), lines
            reader.join(10)
        event = json.loads(next(line for line in lines if line.startswith("data:"))[5:])
        assert event["data"]["invoiceEvents"]["type"] == "CREATED"


def test_the_websocket_works_beside_compression() -> None:
    with ledger_gateway() as url:
        connection = WsConnection(url, **{"accept-encoding": "gzip, br, zstd"})
        try:
            connection.subscribe("1", EVENTS)
            time.sleep(0.3)  # subscribed
            deliver(url, "d1")
            message = connection.received()
            assert message["type"] == "next", message
            assert message["payload"]["data"]["invoiceEvents"]["type"] == "CREATED"
        finally:
            connection.close()
