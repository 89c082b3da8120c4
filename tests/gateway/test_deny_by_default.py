"""Deny by default, through real HTTP: with API keys configured, no request without a valid key
reaches anything but `/healthz` and the status of `/readyz`, however it spells its method,
path, query string, headers and body.

The gateway runs over both in-process sandboxes (tests/gateway/hostile.py), each counting the
API requests it serves. Requests go out as raw bytes on a socket, so what is tested is exactly
what is sent: no client library normalises a path or a query string on the way.

No test here asserts a duration.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Mount, Route, WebSocketRoute
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from gateway.ids import GlobalId, NodeType
from gateway.view import GatewayGraphQL
from providers.transport import Request, Response, Timeouts, Transport
from tests.gateway.hostile import CONTROL, READ_KEY, WRITE_KEY, Hostile, leaks, served_gateway
from tests.serving import ServedApp

ORIGIN = "https://app.example.com"
NOTHING = {"flexprice": 0, "xendit": 0}
#: Customers' emails: what the issue's attacker read without a key.
EMAILS = "{invoices(first:2){edges{node{customer{email}}}}}"
Q = quote(EMAILS, safe="")
#: Sent with every request below, so that only the missing key can stop it.
PREFLIGHT = {"apollo-require-preflight": "true", "accept": "application/json"}
READ_TIMEOUT_S = 10.0


@dataclass
class Raw:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size, _, rest = body.partition(b"\r\n")
        length = int(size.split(b";")[0], 16)
        if length == 0:
            break
        out += rest[:length]
        body = rest[length + 2 :]
    return out


def send_raw(
    url: str,
    method: str,
    target: str,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> Raw:
    """One HTTP/1.1 request, written byte for byte as given (`Connection: close`)."""
    parts = urlsplit(url)
    assert parts.hostname == "127.0.0.1"
    assert parts.port
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{parts.port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    answer = b""
    deadline = time.monotonic() + READ_TIMEOUT_S
    with socket.create_connection(("127.0.0.1", parts.port), timeout=READ_TIMEOUT_S) as sock:
        sock.sendall(request)
        while chunk := sock.recv(65536):  # "close": the server ends the connection
            answer += chunk
            assert time.monotonic() < deadline, "the answer did not end in time"
    head, _, content = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    found: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        found[name.strip().lower()] = value.strip()
    if found.get("transfer-encoding") == "chunked":
        content = _dechunk(content)
    return Raw(status=int(status_line.split()[1]), headers=found, body=content)


@pytest.fixture(scope="module")
def gateway() -> Iterator[Hostile]:
    """Browsers of ORIGIN allowed (so CORS preflights are answered); /readyz checks cached for
    an hour, so that a probe sent by a test never calls a provider after the first."""
    with served_gateway(cors_origins=(ORIGIN,), readiness_cache_seconds=3600) as served:
        assert httpx.get(f"{served.url}/readyz", timeout=30).status_code == 200  # checked, cached
        yield served


@pytest.fixture(scope="module")
def control() -> Iterator[httpx.Client]:
    with httpx.Client(headers=CONTROL, timeout=30) as client:
        yield client


@pytest.fixture
def untouched(gateway: Hostile, control: httpx.Client) -> Iterator[None]:
    """No sandbox serves a request during the test."""
    gateway.reset_upstream(control)
    yield
    assert gateway.upstream(control) == NOTHING


def assert_unauthenticated(response: Raw, *, head: bool = False) -> None:
    assert response.status == 401, response
    assert response.headers["www-authenticate"] == "Bearer"
    if head:
        assert response.body == b""
        return
    assert response.json() == {
        "errors": [
            {
                "message": "Send an API key: Authorization: Bearer KEY (or X-API-Key: KEY)",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ]
    }


def _get(target: str, **headers: str) -> tuple[str, str, dict[str, str], bytes]:
    return ("GET", target, {**PREFLIGHT, **headers}, b"")


def _post(target: str, content_type: str, body: str | bytes, **headers: str) -> Any:
    raw = body.encode() if isinstance(body, str) else body
    return ("POST", target, {**PREFLIGHT, "content-type": content_type, **headers}, raw)


_JSON = json.dumps({"query": EMAILS})
_VARIABLES = quote(
    "query($n: Int) { invoices(first: $n) { edges { node { customer { email } } } } }"
)
_TWO = quote(json.dumps({"n": 2}))
_PERSISTED = quote(json.dumps({"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}))
_MULTIPART = (
    '--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
    f'{_JSON}\r\n--b\r\nContent-Disposition: form-data; name="map"\r\n\r\n{{}}\r\n--b--\r\n'
)

#: Ways to send the issue's query, each without a valid key.
ENCODINGS: dict[str, tuple[str, str, dict[str, str], bytes]] = {
    "plain name": _get(f"/graphql?query={Q}"),
    "percent-encoded q": _get(f"/graphql?%71uery={Q}"),
    "percent-encoded e": _get(f"/graphql?qu%65ry={Q}"),
    "every letter encoded": _get(f"/graphql?%71%75%65%72%79={Q}"),
    "upper case": _get(f"/graphql?QUERY={Q}"),
    "capitalised": _get(f"/graphql?Query={Q}"),
    "repeated, empty first": _get(f"/graphql?query=&query={Q}"),
    "repeated, empty last": _get(f"/graphql?query={Q}&query="),
    "repeated, encoded second": _get(f"/graphql?query=%7B__typename%7D&%71uery={Q}"),
    "semicolon separator": _get(f"/graphql?x=1;query={Q}"),
    "semicolon first": _get(f"/graphql?;%71uery={Q}"),
    "variables": _get(f"/graphql?%71uery={_VARIABLES}&variables={_TWO}"),
    "first: 100": _get(f"/graphql?%71uery={quote(EMAILS.replace('first:2', 'first:100'))}"),
    "introspection": _get(f"/graphql?%71uery={quote('{__schema{types{name}}}')}"),
    "typename": _get(f"/graphql?%71uery={quote('{__typename}')}"),
    "persisted-query extensions": _get(f"/graphql?extensions={_PERSISTED}&%71uery={Q}"),
    "operationName": _get(f"/graphql?operationName=A&%71uery={quote('query A ' + EMAILS)}"),
    "body on GET": (
        "GET",
        "/graphql",
        {**PREFLIGHT, "content-type": "application/json"},
        _JSON.encode(),
    ),
    "HEAD": ("HEAD", f"/graphql?query={Q}", PREFLIGHT, b""),
    "HEAD, encoded name": ("HEAD", f"/graphql?%71uery={Q}", PREFLIGHT, b""),
    "POST JSON": _post("/graphql", "application/json", _JSON),
    "POST JSON batch": _post("/graphql", "application/json", f"[{_JSON}]"),
    "POST JSON with a charset": _post("/graphql", "application/json; charset=utf-8", _JSON),
    "POST with the query in the URL": _post(f"/graphql?%71uery={Q}", "application/json", "{}"),
    "POST form": _post("/graphql", "application/x-www-form-urlencoded", f"query={Q}"),
    "POST application/graphql": _post("/graphql", "application/graphql", EMAILS),
    "POST multipart": _post("/graphql", "multipart/form-data; boundary=b", _MULTIPART),
    "trailing slash": _get(f"/graphql/?query={Q}"),
    "double slash": _get(f"//graphql?query={Q}"),
    "upper-case path": _get(f"/GRAPHQL?query={Q}"),
    "encoded slash": _get(f"/graphql%2F?query={Q}"),
    "encoded path": _get(f"/%67raphql?%71uery={Q}"),
    "path parameter": _get(f"/graphql;x=1?query={Q}"),
    "dot segment": _get(f"/./graphql?query={Q}"),
    "through /healthz": _get(f"/healthz/../graphql?query={Q}"),
    "under /healthz": _get(f"/healthz/graphql?query={Q}"),
    "absolute form": _get(f"http://elsewhere.example/graphql?%71uery={Q}"),
    "key in the query string": _get(f"/graphql?api_key={READ_KEY}&%71uery={Q}"),
    "key as access_token": _get(f"/graphql?access_token={READ_KEY}&%71uery={Q}"),
    "key in a cookie": _get(f"/graphql?%71uery={Q}", cookie=f"api_key={READ_KEY}"),
    "wrong key": _get(f"/graphql?%71uery={Q}", authorization=f"Bearer {READ_KEY}x"),
    "key under Basic": _get(f"/graphql?%71uery={Q}", authorization=f"Basic {READ_KEY}"),
    "empty Bearer": _get(f"/graphql?%71uery={Q}", authorization="Bearer "),
    "blank X-API-Key": _get(f"/graphql?%71uery={Q}", **{"x-api-key": " "}),
    "from an allowed origin": _get(f"/graphql?%71uery={Q}", origin=ORIGIN),
}


@pytest.mark.parametrize(("method", "target", "headers", "body"), ENCODINGS.values(), ids=ENCODINGS)
def test_no_encoding_of_an_operation_gets_past_the_key(
    gateway: Hostile,
    untouched: None,
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes,
) -> None:
    response = send_raw(gateway.url, method, target, headers, body)
    assert_unauthenticated(response, head=method == "HEAD")
    assert b"@example" not in response.body


# The same encodings with a valid key, as a browser on another site could send them (no
# preflight header): GraphQL must not run one that the CSRF rule did not see as an operation.
_CSRF_CASES = [
    name
    for name, (method, target, _, _) in ENCODINGS.items()
    if method == "GET" and target.startswith("/graphql?") and "key" not in name
]


@pytest.mark.parametrize("name", _CSRF_CASES)
def test_with_a_key_a_get_operation_without_the_preflight_header_runs_nothing(
    gateway: Hostile, untouched: None, name: str
) -> None:
    _, target, headers, _ = ENCODINGS[name]
    headers = {k: v for k, v in headers.items() if k != "apollo-require-preflight"}
    response = send_raw(gateway.url, "GET", target, {**headers, "x-api-key": READ_KEY})
    # Every one is an operation to Strawberry (CSRF_PREVENTED), or has no `query` at all
    # (Strawberry's 400): none is executed.
    assert response.status == 400, response
    assert b'"data"' not in response.body
    assert leaks(response.status, response.headers, response.body.decode()) == []


def test_with_a_key_the_same_encodings_do_run(gateway: Hostile, control: httpx.Client) -> None:
    """The table above is refused for the key alone: with one, the spellings Strawberry reads as
    `query` answer the customers' emails."""
    key = {"authorization": f"Bearer {READ_KEY}"}
    for name in ("percent-encoded q", "percent-encoded e", "variables", "POST JSON"):
        method, target, headers, body = ENCODINGS[name]
        response = send_raw(gateway.url, method, target, {**headers, **key}, body)
        assert response.status == 200, (name, response)
        assert "@example" in str(response.json()["data"]), name


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def _routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method or "WEBSOCKET", path) of every route, mounts included."""
    for route in routes:
        if isinstance(route, Mount):
            yield from _routes(route.routes, prefix + route.path)
        elif isinstance(route, WebSocketRoute):
            yield "WEBSOCKET", prefix + _concrete(route.path)
        elif isinstance(route, Route):
            for method in sorted(route.methods or ()):
                yield method, prefix + _concrete(route.path)
        else:
            raise AssertionError(f"a kind of route this test does not know: {route!r}")


def _ws_refused(url: str, headers: dict[str, str] | None = None) -> int:
    """The HTTP status a WebSocket handshake was refused with."""
    try:
        with connect(
            url,
            subprotocols=["graphql-transport-ws"],
            additional_headers=headers or {},
            open_timeout=10,
            close_timeout=5,
        ):
            pass
    except InvalidStatus as refused:
        return refused.response.status_code
    raise AssertionError(f"the handshake to {url} was accepted")


def test_every_route_without_a_key_is_401_but_health_and_the_readiness_status(
    gateway: Hostile, untouched: None
) -> None:
    walked = list(_routes(gateway.app.routes))
    paths = {path for _, path in walked}
    # The walk reached the GraphQL endpoint and both sandboxes' API and control routes.
    assert {"/graphql", "/healthz", "/readyz"} <= paths
    for name in ("flexprice", "xendit"):
        assert f"/sandbox/{name}/_sandbox/faults" in paths
        assert any(p.startswith(f"/sandbox/{name}/v") for p in paths), paths
    assert len(walked) > 40
    for method, path in walked:
        if method == "WEBSOCKET":
            ws = gateway.url.replace("http://", "ws://") + path
            assert _ws_refused(ws) == 403, path
            continue
        body = b"{}" if method in ("POST", "PUT", "PATCH") else b""
        headers = {"content-type": "application/json", "accept": "text/html"}
        response = send_raw(gateway.url, method, path, headers, body)
        if path == "/healthz":
            assert response.status == 200, (method, path)
            assert response.body == (b'{"status":"ok"}' if method == "GET" else b"")
        elif path == "/readyz":
            assert response.status == 200, (method, path)
            if method == "GET":
                assert response.json() == {"status": "ready"}  # the status, nothing else
        elif method == "POST" and path.startswith("/webhooks/"):
            # The one route that takes no key: the receiver, which checks the provider's own
            # secret (tests/gateway/test_webhook_receiver.py); no provider is named "x".
            assert response.status == 404, (method, path)
            assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        else:
            assert_unauthenticated(response, head=method == "HEAD")


def test_the_graphiql_page_needs_a_key_too(gateway: Hostile) -> None:
    html = {"accept": "text/html"}
    assert_unauthenticated(send_raw(gateway.url, "GET", "/graphql", html))
    page = send_raw(gateway.url, "GET", "/graphql", {**html, "x-api-key": READ_KEY})
    assert page.status == 200
    assert b"graphiql" in page.body.lower()


def test_a_cors_preflight_is_answered_without_a_key_and_runs_nothing(
    gateway: Hostile, untouched: None
) -> None:
    preflight = {
        "origin": ORIGIN,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
    }
    answered = send_raw(gateway.url, "OPTIONS", f"/graphql?%71uery={Q}", preflight)
    assert answered.status == 200
    assert answered.headers["access-control-allow-origin"] == ORIGIN
    assert b"data" not in answered.body
    # An OPTIONS that is not a preflight (no Origin) is a request like any other.
    assert_unauthenticated(send_raw(gateway.url, "OPTIONS", "/graphql"))


def test_readyz_shows_its_details_only_to_a_key(gateway: Hostile) -> None:
    anonymous = send_raw(gateway.url, "GET", "/readyz")
    assert (anonymous.status, anonymous.json()) == (200, {"status": "ready"})
    wrong = send_raw(gateway.url, "GET", "/readyz", {"authorization": "Bearer nope"})
    assert wrong.json() == {"status": "ready"}
    keyed = send_raw(gateway.url, "GET", "/readyz", {"authorization": f"Bearer {READ_KEY}"})
    body = keyed.json()
    assert body["status"] == "ready"
    assert body["providers"]["xendit"]["ready"] is True
    assert body["providers"]["flexprice"]["upstream"]["circuit_breaker"]["state"] == "closed"


def _websocket_url(gateway: Hostile, path: str = "/graphql") -> str:
    return gateway.url.replace("http://", "ws://") + path


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/graphql", {}),
        ("/graphql", {"authorization": f"Bearer {READ_KEY}x"}),
        ("/graphql", {"authorization": f"Basic {READ_KEY}"}),
        (f"/graphql?api_key={READ_KEY}", {}),
        ("/GRAPHQL", {}),
        ("/graphql/", {}),
        ("/%67raphql", {}),
        ("/healthz", {}),
        ("/sandbox/xendit/_sandbox/stats", {}),
    ],
)
def test_a_websocket_handshake_without_a_key_is_refused(
    gateway: Hostile, untouched: None, path: str, headers: dict[str, str]
) -> None:
    assert _ws_refused(_websocket_url(gateway, path), headers) == 403


def test_a_websocket_handshake_with_a_key_is_accepted(gateway: Hostile) -> None:
    with connect(
        _websocket_url(gateway),
        subprotocols=["graphql-transport-ws"],
        additional_headers={"x-api-key": READ_KEY},
        open_timeout=10,
        close_timeout=5,
    ) as socket_:
        socket_.send(json.dumps({"type": "connection_init"}))
        assert json.loads(socket_.recv(timeout=10)) == {"type": "connection_ack"}


def _faults(gateway: Hostile, client: httpx.Client) -> dict[str, Any]:
    response = client.get(f"{gateway.url}/sandbox/xendit/_sandbox/faults")
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


def _finalize(gateway: Hostile, client: httpx.Client, invoice: str) -> None:
    mutation = "mutation($id: ID!) { finalizeInvoice(input: {id: $id}) { userErrors { code } } }"
    response = client.post(
        f"{gateway.url}/graphql", json={"query": mutation, "variables": {"id": invoice}}
    )
    assert response.json()["data"]["finalizeInvoice"]["userErrors"] == []


def test_the_sandbox_controls_need_a_write_key_and_work_with_one() -> None:
    with served_gateway() as gateway, httpx.Client(headers=CONTROL, timeout=30) as admin:
        faults = f"{gateway.url}/sandbox/xendit/_sandbox/faults"
        slow = json.dumps({"latency_ms": 3000}).encode()
        json_type = {"content-type": "application/json"}
        target = urlsplit(faults).path

        assert_unauthenticated(send_raw(gateway.url, "PUT", target, json_type, slow))
        assert_unauthenticated(send_raw(gateway.url, "DELETE", target))
        read_only = send_raw(gateway.url, "PUT", target, {**json_type, "x-api-key": READ_KEY}, slow)
        assert read_only.status == 403
        assert read_only.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert _faults(gateway, admin)["latency_ms"] == 0  # nothing changed
        # A read key may look.
        looked = send_raw(gateway.url, "GET", target, {"x-api-key": READ_KEY})
        assert (looked.status, looked.json()["latency_ms"]) == (200, 0)

        assert admin.put(faults, json={"latency_ms": 5}).status_code == 200
        assert _faults(gateway, admin)["latency_ms"] == 5

        # Reset: a draft finalized through the gateway stays finalized until a write key
        # resets the sandbox.
        sandbox = gateway.sandbox("flexprice")
        native = next(
            i.id
            for i in sorted(sandbox.invoices.values(), key=lambda i: i.id)
            if i.invoice_status == "DRAFT" and i.invoice_type == "ONE_OFF"
        )
        _finalize(gateway, admin, GlobalId(NodeType.INVOICE, "flexprice", native).encode())
        assert gateway.sandbox("flexprice").invoices[native].invoice_status == "FINALIZED"
        reset = "/sandbox/flexprice/_sandbox/reset"
        assert_unauthenticated(send_raw(gateway.url, "POST", reset))
        denied = send_raw(gateway.url, "POST", reset, {"authorization": f"Bearer {READ_KEY}"})
        assert denied.status == 403
        assert gateway.sandbox("flexprice").invoices[native].invoice_status == "FINALIZED"
        assert admin.post(f"{gateway.url}{reset}").status_code == 200
        assert gateway.sandbox("flexprice").invoices[native].invoice_status == "DRAFT"


def test_the_graphql_view_alone_refuses_every_request() -> None:
    """Served without the gate in front (nobody decided who calls), the view fails closed: a
    valid key is no help, since only the gate reads keys."""
    with served_gateway() as gateway:
        [view] = [
            r.endpoint for r in gateway.app.routes if isinstance(r, Route) and r.path == "/graphql"
        ]
        assert isinstance(view, GatewayGraphQL)
        with ServedApp(view) as alone:
            response = send_raw(
                alone.url,
                "POST",
                "/graphql",
                {"content-type": "application/json", "x-api-key": WRITE_KEY},
                b'{"query": "{ __typename }"}',
            )
    assert_unauthenticated(response)


class RefusedByXendit:
    """Xendit refuses our key; FlexPrice answers as usual."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner

    async def send(self, request: Request, *, timeouts: Timeouts, max_bytes: int) -> Response:
        if (request.url.host or "").startswith("xendit"):
            body = {"error_code": "INVALID_API_KEY", "message": "API key is invalid"}
            return Response.of(401, json=body)
        return await self.inner.send(request, timeouts=timeouts, max_bytes=max_bytes)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_an_anonymous_readiness_probe_sees_unavailable_but_not_why() -> None:
    """A provider refusing our credentials: 503 for everyone, the reason only for a key."""
    with served_gateway(transport=RefusedByXendit, readiness_cache_seconds=0) as gateway:
        anonymous = send_raw(gateway.url, "GET", "/readyz")
        keyed = send_raw(gateway.url, "GET", "/readyz", {"x-api-key": READ_KEY})
    assert (anonymous.status, anonymous.json()) == (503, {"status": "unavailable"})
    assert keyed.status == 503
    details = keyed.json()
    assert details["status"] == "unavailable"
    assert details["providers"]["xendit"]["code"] == "PROVIDER_AUTH_FAILED"
    assert details["providers"]["flexprice"]["ready"] is True


# -- the property ------------------------------------------------------------------------------

_QUERIES = [Q, quote("{__schema{types{name}}}"), quote("{__typename}"), quote("{providers{name}}")]
_NAMES = [
    "query",
    "%71uery",
    "qu%65ry",
    "QUERY",
    "Query",
    "%51uery",
    "variables",
    "extensions",
    "operationName",
    "api_key",
    "access_token",
    "",
]
_URL_TEXT = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzQUERY0123456789-._~%;=&+:,{}/?", max_size=20
)
_PATHS = st.one_of(
    st.sampled_from(
        [
            "/graphql",
            "/GRAPHQL",
            "/graphql/",
            "//graphql",
            "/%67raphql",
            "/graphql%2F",
            "/graphql;x",
            "/healthz",
            "/readyz",
            "/healthz/",
            "/readyz/x",
            "/healthz/../graphql",
            "/sandbox/xendit/v2/invoices",
            "/sandbox/flexprice/v1/invoices/search",
            "/sandbox/xendit/_sandbox/faults",
            "/sandbox/flexprice/_sandbox/reset",
            "/sandbox/flexprice/_sandbox/stats",
            "/",
            "*",
        ]
    ),
    _URL_TEXT.map(lambda text: "/" + text.lstrip("/")),
)
_PARAM = st.tuples(
    st.one_of(st.sampled_from(_NAMES), _URL_TEXT),
    st.one_of(st.sampled_from(_QUERIES), _URL_TEXT),
)
_QUERY_STRINGS = st.tuples(
    st.lists(_PARAM, max_size=4), st.sampled_from(["&", ";", "&&", "&;"])
).map(lambda drawn: drawn[1].join(f"{name}={value}" for name, value in drawn[0]))
_HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "apollo-require-preflight": st.just("true"),
        "content-type": st.sampled_from(
            [
                "application/json",
                "application/x-www-form-urlencoded",
                "application/graphql",
                "multipart/form-data; boundary=b",
                "text/plain",
                "APPLICATION/JSON",
            ]
        ),
        "accept": st.sampled_from(["application/json", "text/html", "*/*"]),
        "authorization": st.sampled_from(
            [f"Bearer {READ_KEY}x", f"Basic {READ_KEY}", "Bearer", f"bearer{READ_KEY}", ""]
        ),
        "x-api-key": st.sampled_from(["", f"{WRITE_KEY[:-1]}", "null"]),
        "cookie": st.just(f"api_key={WRITE_KEY}"),
        "origin": st.sampled_from([ORIGIN, "https://evil.example"]),
        "access-control-request-method": st.sampled_from(["POST", "GET", "PUT"]),
        "upgrade": st.sampled_from(["websocket", "h2c"]),
        "x-forwarded-for": st.just("127.0.0.1"),
    },
)
_BODIES = st.one_of(
    st.sampled_from(
        [
            b"",
            _JSON.encode(),
            f"[{_JSON}]".encode(),
            f"query={Q}".encode(),
            EMAILS.encode(),
            _MULTIPART.encode(),
            b'{"query": "{__typename}"}',
            b'{"latency_ms": 3000}',
        ]
    ),
    st.binary(max_size=64),
)


@settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]),
    path=_PATHS,
    query_string=_QUERY_STRINGS,
    headers=_HEADERS,
    body=_BODIES,
)
def test_no_request_let_through_without_a_key_runs_an_operation(
    gateway: Hostile,
    control: httpx.Client,
    method: str,
    path: str,
    query_string: str,
    headers: dict[str, str],
    body: bytes,
) -> None:
    target = f"{path}?{query_string}" if query_string and path != "*" else path
    before = gateway.upstream(control)
    response = send_raw(gateway.url, method, target, headers, body)
    if response.status == 401:
        assert b'"data"' not in response.body
        return
    # Let through (the open probes, a CORS preflight) or refused by the HTTP parser: nothing
    # ran, no provider was asked, nothing leaked.
    assert response.status < 500, response
    assert b'"data"' not in response.body, response
    assert b"__schema" not in response.body, response
    assert b"@example" not in response.body, response
    assert gateway.upstream(control) == before, (method, target, response)
