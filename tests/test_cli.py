"""The README's promises, by the real console script: `invoice-gateway serve` on a fresh
machine answers the README's first query in GraphiQL, and `invoice-gateway sandbox` serves a
FlexPrice a real gateway can use. Servers bind 127.0.0.1 only and are stopped by each test."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.settings import GatewaySettings
from providers.flexprice.settings import FlexPriceSettings
from providers.xendit.settings import XenditSettings
from tests.processes import SCRIPT, clean_env, free_port, running
from tests.raw_http import read_response

ROOT = Path(__file__).resolve().parents[1]


def readme_first_query() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("```graphql\n", 1)[1].split("```", 1)[0]


def test_serve_on_the_embedded_sandbox_answers_the_readme_query_in_graphiql() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running(["serve", "--port", str(port)], clean_env(), f"{base}/healthz") as process:
        page = httpx.get(f"{base}/graphql", headers={"accept": "text/html"}, timeout=10)
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()
        response = httpx.post(f"{base}/graphql", json={"query": readme_first_query()}, timeout=10)
        # Nothing says what serves it: no `server: uvicorn`.
        assert "server" not in page.headers
        assert "server" not in response.headers
        body = response.json()
        assert "errors" not in body, body
        assert [p["name"] for p in body["data"]["providers"]] == ["flexprice", "xendit"]
        edges = body["data"]["invoices"]["edges"]
        assert len(edges) == 3
        assert {e["node"]["status"] for e in edges} == {"OPEN"}
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200
        # What Java's default HttpClient sends first: an offer of HTTP/2, answered in HTTP/1.1.
        assert h2c_offering_post(port, readme_first_query())["data"]["invoices"]["edges"]
        # The PDF link of an invoice works in a browser: the gateway serves its sandbox too.
        linked = httpx.post(
            f"{base}/graphql",
            json={
                "query": '{ invoices(first: 1, filter: {provider: ["flexprice"]}) '
                "{ edges { node { pdfUrl } } } }"
            },
            timeout=10,
        ).json()
        url = linked["data"]["invoices"]["edges"][0]["node"]["pdfUrl"]
        assert url.startswith(f"{base}/sandbox/flexprice/")
        assert httpx.get(url, timeout=10).content.startswith(b"%PDF-")
        err = process.stop()
    assert "sandbox" in err
    # The keys the sandboxes accept, said on start-up.
    assert "sk_sandbox_flexprice" in err
    assert "xnd_development_sandbox_key" in err


def h2c_offering_post(port: int, query: str) -> Any:
    body = json.dumps({"query": query}).encode()
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Connection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\n"
        "HTTP2-Settings: AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + body)
        status, _, answer = read_response(sock)
    assert status == b"HTTP/1.1 200 OK", answer
    return json.loads(answer)


def test_serve_against_a_standalone_sandbox_over_http() -> None:
    sandbox_port, gateway_port = free_port(), free_port()
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    gateway = f"http://127.0.0.1:{gateway_port}"
    key = "sk_cli_test_key_7d1"
    sandbox_args = ["sandbox", "flexprice", "--port", str(sandbox_port), "--api-key", key]
    with running(sandbox_args, clean_env(), f"{sandbox}/_sandbox/stats"):
        refused = httpx.get(f"{sandbox}/v1/customers", timeout=10)
        assert refused.json() == {"error": "Unauthorized"}
        assert "server" not in refused.headers
        caller = "reader-key-0123456789abcdef"
        env = clean_env(
            FLEXPRICE_API_KEY=key,
            FLEXPRICE_BASE_URL=f"{sandbox}/v1",
            GATEWAY_PROVIDERS="flexprice",
            GATEWAY_API_KEYS=f"ci:read:{caller}",
        )
        auth = {"authorization": f"Bearer {caller}"}
        with running(["serve", "--port", str(gateway_port)], env, f"{gateway}/healthz") as process:
            httpx.delete(f"{sandbox}/_sandbox/stats", timeout=10)
            anonymous = httpx.post(
                f"{gateway}/graphql", json={"query": readme_first_query()}, timeout=10
            )
            assert anonymous.status_code == 401
            assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            assert "server" not in anonymous.headers
            response = httpx.post(
                f"{gateway}/graphql",
                json={"query": readme_first_query()},
                headers=auth,
                timeout=10,
            )
            assert "errors" not in response.json()
            stats = httpx.get(f"{sandbox}/_sandbox/stats", timeout=10).json()
            assert stats["requests"]["POST /v1/invoices/search"] == 1
            assert stats["requests_total"] == 1
            # Not every provider is a sandbox's in-process one: no GraphiQL unless asked for.
            page = httpx.get(
                f"{gateway}/graphql", headers={"accept": "text/html", **auth}, timeout=10
            )
            assert page.status_code == 404
            assert "graphiql" not in page.text.lower()
            err = process.stop()
    assert f"{sandbox}/v1" in err
    assert key not in err
    assert caller not in err


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GATEWAY_PROVIDERS": "nope"}, "not installed"),
        ({"FLEXPRICE_DEADLINE": "soon"}, "FLEXPRICE_DEADLINE"),
        # A real FlexPrice must not get a made-up Xendit beside it by default.
        (
            {"FLEXPRICE_API_KEY": "sk_live_x", "GATEWAY_ALLOW_ANONYMOUS": "true"},
            "GATEWAY_PROVIDERS=flexprice",
        ),
        # ... nor serve anyone at all without keys.
        ({"FLEXPRICE_API_KEY": "sk_live_x", "GATEWAY_PROVIDERS": "flexprice"}, "GATEWAY_API_KEYS"),
        ({"GATEWAY_API_KEYS": "ci:admin:0123456789abcdef0"}, "SCOPE read or write"),
        # Named by the variable the user set, never by the field behind it.
        ({"GATEWAY_MAX_PAGE_SIZE": "lots"}, "GATEWAY_MAX_PAGE_SIZE: Input should be a valid int"),
        ({"GATEWAY_MAX_PAGE_SIZE": "5000"}, "GATEWAY_MAX_PAGE_SIZE: Input should be less than"),
        ({"GATEWAY_LOG_LEVEL": "loud"}, "GATEWAY_LOG_LEVEL: Input should be 'critical'"),
        ({"GATEWAY_LOCALE": "xx_YY"}, "GATEWAY_LOCALE: 'xx_YY' is not a locale"),
        ({"GATEWAY_INTROSPECTION": "maybe"}, "GATEWAY_INTROSPECTION: Input should be a valid bool"),
    ],
)
def test_serve_refuses_a_bad_configuration_with_a_clear_message(
    env: dict[str, str], message: str
) -> None:
    result = refused_serve(env)
    assert message in result.stderr
    for name in env:
        python_name = name.split("_", 1)[1].lower()
        assert f"{python_name}\n" not in result.stderr, "named by its field, not its variable"


def refused_serve(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [SCRIPT, "serve", "--port", str(free_port()), *args],
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) <= 4, result.stderr
    return result


def test_a_bare_key_in_gateway_api_keys_is_not_echoed() -> None:
    secret = "0123456789abcdef0123456789abcdef"
    result = refused_serve({"GATEWAY_API_KEYS": f"ci:read:{'a' * 16},{secret}"})
    assert "GATEWAY_API_KEYS entry 2 must be NAME:SCOPE:KEY" in result.stderr
    assert secret not in result.stderr


def test_an_unknown_log_level_is_refused_in_one_line() -> None:
    result = refused_serve({}, "--log-level", "loud")
    assert "argument --log-level: invalid choice: 'loud'" in result.stderr
    assert "'debug'" in result.stderr


def test_version_is_the_installed_distributions() -> None:
    result = subprocess.run(
        [SCRIPT, "--version"], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == f"invoice-gateway {version('invoice-gateway')}"


def test_serve_help_lists_every_variable_with_its_default() -> None:
    result = subprocess.run(
        [SCRIPT, "serve", "--help"],
        env={**clean_env(), "COLUMNS": "100"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    text = " ".join(result.stdout.split())  # as read, whatever the wrapping
    for settings in (GatewaySettings, FlexPriceSettings, XenditSettings):
        for variable, default, description in settings.variables():
            assert description, f"{variable} has no description"
            if "(default:" in description:  # a default that depends on something else
                assert f" {variable} {description}" in text
            else:
                assert f" {variable} {description} (default: {default})" in text
    assert " GATEWAY_MAX_PAGE_SIZE the largest `first`" in text
    assert "(default: 100)" in text
    assert " FLEXPRICE_DEADLINE seconds one call may take" in text


def test_sigterm_turns_readyz_503_first_and_lets_requests_in_flight_finish() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clean_env(
        GATEWAY_PROVIDERS="flexprice",
        GATEWAY_SHUTDOWN_DRAIN_SECONDS="1.5",
        GATEWAY_SHUTDOWN_GRACE_SECONDS="20",
    )
    with running(["serve", "--port", str(port)], env, f"{base}/readyz") as process:
        # Every FlexPrice call now takes 3 s: a request in flight across the whole shutdown.
        faults = httpx.put(
            f"{base}/sandbox/flexprice/_sandbox/faults", json={"latency_ms": 3000}, timeout=10
        )
        assert faults.status_code == 200
        query = {"query": "{ invoices(first: 2) { edges { node { id } } } }"}
        with ThreadPoolExecutor(max_workers=1) as pool:
            in_flight = pool.submit(httpx.post, f"{base}/graphql", json=query, timeout=30)
            time.sleep(0.3)  # let it reach the sandbox's latency
            process.process.send_signal(signal.SIGTERM)
            ready = httpx.get(f"{base}/readyz", timeout=10)
            assert ready.status_code == 503
            assert ready.json() == {"status": "draining"}
            # While draining, new requests are still served.
            typename = httpx.post(f"{base}/graphql", json={"query": "{ __typename }"}, timeout=10)
            assert typename.json()["data"] == {"__typename": "Query"}
            finished = in_flight.result(timeout=30)
        assert finished.status_code == 200
        body = finished.json()
        assert "errors" not in body, body
        assert len(body["data"]["invoices"]["edges"]) == 2
        process.process.wait(timeout=30)
        err = process.stderr()
    assert "SIGTERM: /readyz answers 503" in err


#: A real Xendit as far as the gateway can tell: credentials set (nothing is called at start).
REAL_XENDIT = {
    "XENDIT_SECRET_KEY": "xnd_production_not_a_real_key_0123",
    "XENDIT_BASE_URL": "http://127.0.0.1:9",
    "GATEWAY_PROVIDERS": "xendit",
    "GATEWAY_API_KEYS": "ci:write:writer-0123456789abcdef",
}


#: The key of REAL_XENDIT's caller: /readyz shows its details only to a caller with a key.
WRITER = {"authorization": "Bearer writer-0123456789abcdef"}


def test_serve_refuses_workers_with_process_local_keys_in_front_of_a_real_xendit() -> None:
    result = refused_serve(REAL_XENDIT, "--workers", "2")
    assert "cannot start: --workers 2 without GATEWAY_REDIS_URL" in result.stderr
    assert "xendit cannot refuse a second create with the same key" in result.stderr
    assert "GATEWAY_ALLOW_PROCESS_LOCAL_IDEMPOTENCY=true" in result.stderr
    assert REAL_XENDIT["XENDIT_SECRET_KEY"] not in result.stderr


@pytest.mark.parametrize(
    "env",
    [
        {**REAL_XENDIT, "GATEWAY_ALLOW_PROCESS_LOCAL_IDEMPOTENCY": "true"},
        # FlexPrice refuses a second create with a key itself: per-worker keys make no duplicate.
        {
            "FLEXPRICE_API_KEY": "sk_live_not_a_real_key_0123",
            "FLEXPRICE_BASE_URL": "http://127.0.0.1:9/v1",
            "GATEWAY_PROVIDERS": "flexprice",
            "GATEWAY_API_KEYS": "ci:write:writer-0123456789abcdef",
        },
    ],
    ids=["risk accepted", "flexprice"],
)
def test_serve_starts_workers_when_process_local_keys_are_safe_or_accepted(
    env: dict[str, str],
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["serve", "--port", str(port), "--workers", "2"]
    with running(args, clean_env(**env), f"{base}/healthz") as process:
        ready = httpx.get(f"{base}/readyz", headers=WRITER, timeout=10).json()
        assert ready["idempotency"] == {"store": "memory", "across_processes": False, "ready": True}
        err = process.stop()
    # Events too stay in each worker: said, so a subscriber missing webhooks is explained.
    assert "warning: several workers without GATEWAY_REDIS_URL" in err


def test_serve_workers_share_keys_in_redis(redis_url: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clean_env(**REAL_XENDIT, GATEWAY_REDIS_URL=redis_url)
    args = ["serve", "--port", str(port), "--workers", "2"]
    with running(args, env, f"{base}/healthz") as process:
        ready = httpx.get(f"{base}/readyz", headers=WRITER, timeout=10).json()
        assert ready["idempotency"] == {
            "store": "redis",
            "across_processes": True,
            "ready": True,
            "url": redis_url,
        }
        err = process.stop()
    assert f"keys, events and persisted queries shared in Redis at {redis_url}" in err
    assert "each keeps the provider events" not in err


def test_a_redis_url_that_is_not_one_is_refused_without_echoing_it() -> None:
    result = refused_serve({"GATEWAY_REDIS_URL": "http://:hunter2-secret@cache:6379"})
    assert "GATEWAY_REDIS_URL must be a redis://HOST:PORT/DB" in result.stderr
    assert "hunter2-secret" not in result.stderr


@pytest.mark.parametrize("access_log", ["", "false"])
def test_gateway_access_log_false_drops_only_the_request_lines(
    access_log: str, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clean_env(GATEWAY_ACCESS_LOG=access_log) if access_log else clean_env()
    out = tmp_path / "stdout.log"
    with running(["serve", "--port", str(port)], env, f"{base}/healthz", out=out) as process:
        answered = httpx.post(f"{base}/graphql", json={"query": "{ __typename }"}, timeout=10)
        assert answered.json()["data"] == {"__typename": "Query"}
        refused = httpx.post(f"{base}/graphql", json={"query": "{ nope }"}, timeout=10)
        assert refused.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        err = process.stop()
    # The gateway's own line about the refused operation is there either way.
    assert "refused operation (GRAPHQL_VALIDATION_FAILED" in err
    lines = [line for line in out.read_text().splitlines() if '"POST /graphql" 200' in line]
    assert len(lines) == (0 if access_log == "false" else 2)
    if lines:  # the gateway's own line: operation, outcome, duration, request id
        assert " query - OK " in lines[0]
        assert f"rid={answered.headers['x-request-id']}" in lines[0]
        assert " query - GRAPHQL_VALIDATION_FAILED " in lines[1]
