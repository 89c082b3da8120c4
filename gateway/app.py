"""The ASGI app: /graphql (HTTP and WebSocket), /healthz, /readyz, GraphiQL's files at
/_graphiql, the in-process sandboxes.

`create_app` builds everything long-lived (settings, providers and their HTTP clients) once; the
lifespan closes the providers. Nothing here reads `os.environ`: the caller passes the mapping.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import re
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any

import msgspec
from async_lru import alru_cache
from cross_web import HTTPException  # what strawberry.asgi catches and answers with
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.http.exceptions import (
    NonJsonMessageReceived,
    NonTextMessageReceived,
    WebSocketDisconnected,
)
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from gateway.auth import WS_UNAUTHENTICATED, KeyGate, admission, refuse_unauthenticated
from gateway.callers import parse_api_keys
from gateway.context import GatewayContext
from gateway.documents import DocumentCache
from gateway.errors import code_for_provider_error
from gateway.graphiql import PAGE_HEADERS, graphiql_page, graphiql_routes
from gateway.guard import PREFLIGHT_HEADERS, RequestGuard
from gateway.idempotency import IdempotencyStore, MemoryStore, RedisStore
from gateway.logs import limit_error_logs, limit_query_logs
from gateway.schema import build_schema
from gateway.schema.extensions import shape_error
from gateway.schema.limits import limit_extensions
from gateway.settings import GatewaySettings
from gateway.shutdown import Drain, drain_on_sigterm
from gateway.wiring import Wired, wire_all, wired
from providers.base import InvoiceProvider
from providers.errors import ProviderError

__all__ = ["create_app", "create_app_from_environment", "providers_from_environment"]

_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}\Z")
#: The code of a request Strawberry cannot read, by its HTTP status.
_UNREADABLE_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
READY_TIMEOUT_S = 5.0
_ENCODER = msgspec.json.Encoder()


class GatewayWebSocket(ASGIWebSocketAdapter):
    """Each WebSocket message is held to what an HTTP body is: at most GATEWAY_MAX_BODY_BYTES
    (else the socket closes with 1009, "message too big", before any JSON is read), and read
    by the same `decode_json`: what it refuses (not JSON, nested deeper than Python recurses,
    not an object) closes the socket as a message that is not JSON does (4400)."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        # graphql-transport-ws messages are text frames; the view's encoder gives UTF-8 bytes,
        # which Strawberry would send as a binary frame.
        encoded = self.view.encode_json(message)
        text = encoded.decode() if isinstance(encoded, bytes) else encoded
        try:
            await self.ws.send_text(text)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object]:
        limit = self.view.settings.max_body_bytes  # type: ignore[attr-defined]
        while self.ws.application_state != WebSocketState.DISCONNECTED:
            try:
                message = await self.ws.receive()
            except WebSocketDisconnect:
                return
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                raise NonTextMessageReceived
            if len(text) > limit or len(text.encode("utf-8", "surrogatepass")) > limit:
                await self.ws.close(code=1009, reason=f"message over {limit} bytes")
                return
            try:
                yield self.view.decode_json(text)
            except HTTPException:
                if not ignore_parsing_errors:
                    raise NonJsonMessageReceived from None


#: What each field of a graphql-transport-ws `subscribe` payload must be, if present.
_PAYLOAD_FIELDS: dict[str, tuple[type, str]] = {
    "variables": (dict, "an object"),
    "operationName": (str, "a string"),
    "extensions": (dict, "an object"),
}


def malformed_ws_message(message: Mapping[str, Any]) -> str | None:
    """What is wrong with the shape of a graphql-transport-ws message (a close reason, short
    enough for a close frame), or None. Strawberry reads the fields without checking them: an
    `id` that is an object or a `payload` that is a string raised a TypeError out of the
    socket's handler (a traceback in the log, the connection dropped without a close frame)."""
    kind = message.get("type")
    if not isinstance(kind, str):
        return "type must be a string"
    if kind in ("subscribe", "complete") and not isinstance(message.get("id"), str):
        return f"{kind}: id must be a string"
    if kind != "subscribe":
        return None
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return "subscribe: payload must be an object"
    if not isinstance(payload.get("query"), str):
        return "subscribe: payload.query must be a string"
    for name, (kinds, what) in _PAYLOAD_FIELDS.items():
        value = payload.get(name)
        if value is not None and not isinstance(value, kinds):
            return f"subscribe: payload.{name} must be {what}"
    return None


class GatewayTransportWS(BaseGraphQLTransportWSHandler[GatewayContext, None]):
    """graphql-transport-ws as Strawberry speaks it, except that:

    - an operation the gateway refuses before running it (a syntax error, a limit, an
      operationName that names nothing) gets an `error` message with the same coded errors as
      over HTTP, and the socket stays open; Strawberry closed it (4400) for some and sent a
      bare `complete` for others;
    - a message of the wrong shape (`malformed_ws_message`) closes the socket with 4400 and
      the reason, as the protocol says, before Strawberry reads it."""

    @staticmethod
    def _get_pre_execution_close_reason(error: GraphQLError) -> str | None:
        return None

    async def handle_message(self, message: Any) -> None:
        problem = malformed_ws_message(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)


class GatewayGraphQL(GraphQL[GatewayContext, None]):
    websocket_adapter_class = GatewayWebSocket
    graphql_transport_ws_handler_class = GatewayTransportWS

    def __init__(
        self,
        *,
        providers: Mapping[str, InvoiceProvider],
        settings: GatewaySettings,
        keys_required: bool,
        idempotency: IdempotencyStore,
        sandboxes: frozenset[str] = frozenset(),
        **kw: Any,
    ) -> None:
        limits = limit_extensions(
            max_depth=settings.max_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            max_root_fields_=settings.max_root_fields,
        )
        #: Parsed and validated queries, kept between requests (bounded in bytes).
        self.documents = DocumentCache(settings.document_cache_bytes)
        schema = build_schema(
            introspection=settings.introspection, limits=limits, documents=self.documents
        )
        super().__init__(schema, **kw)
        self.providers = providers
        self.sandboxes = sandboxes
        self.settings = settings
        self.keys_required = keys_required
        self.idempotency = idempotency
        #: POSTs with a JSON body are answered by `_post`, unless a stream transport (SSE,
        #: multipart) is on: those only Strawberry's `run` serves.
        self._direct_posts = not self._stream_transport_map

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # KeyGate, around the whole app, has refused this already; refused here too, so that
        # the view fails closed if it is ever served without the gate.
        if self.keys_required and not admission(scope).admitted:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": WS_UNAUTHENTICATED})
            else:
                await refuse_unauthenticated(send)
            return
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        if self._direct_posts and scope["method"] == "POST":
            headers = _plain_json_post(scope["headers"])
            if headers is not None:
                await self._post(scope, receive, send, headers)
                return
        # Strawberry answers a request it cannot read (not JSON, another content type, a GET
        # mutation) in plain text: answer with a coded GraphQL error, as every other refusal.
        request = Request(scope=scope, receive=receive)
        try:
            response: Response = self.csrf_refusal(request) or await self.run(request)
        except HTTPException as exc:
            response = _unreadable(exc, getattr(request.state, "request_id", None))
        await response(scope, receive, send)

    async def _post(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[bytes, bytes]
    ) -> None:
        """A POST with a JSON body, as Strawberry's `run` answers it (the same steps in the
        same order: context, body, execution, result), without its request and response
        objects, its content-type parser (`email.message`) or its stream transports (none
        are on): about a fifth of the CPU of a small request."""
        context = self._context(scope, headers.get(b"x-request-id", b""))
        request_id = context.request_id
        try:
            body = b""
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    break
            data = self.parse_json(body)
            assert isinstance(data, dict)  # decode_json refuses anything else
            query, variables, extensions = _request_fields(data)
            try:
                result = await self.schema.execute(
                    query,
                    variable_values=variables,
                    context_value=context,
                    operation_name=data.get("operationName"),
                    allowed_operation_types=_POST_OPERATIONS,
                    operation_extensions=extensions,
                )
            except CannotGetOperationTypeError as exc:
                raise HTTPException(400, exc.as_http_error_reason()) from exc
            except InvalidOperationTypeError as exc:
                raise HTTPException(400, exc.as_http_error_reason("POST")) from exc
            except MissingQueryError as exc:
                raise HTTPException(400, "No GraphQL query found in the request") from exc
        except HTTPException as exc:
            await _unreadable(exc, request_id)(scope, receive, send)
            return
        if not isinstance(result, ExecutionResult):  # pragma: no cover - no streams are on
            raise TypeError(f"a POST operation gave {type(result).__name__}")
        encoded = self.encode_json(self._shaped(result, request_id))
        content = encoded.encode() if isinstance(encoded, str) else encoded
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(content)).encode()),
                    (b"content-type", b"application/json"),
                    (b"x-request-id", request_id.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})

    @property
    def graphql_ide_html(self) -> str:
        # Strawberry's page loads its files from a CDN: this one from the gateway (offline).
        return graphiql_page()

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self.graphql_ide_html, headers=PAGE_HEADERS)

    def csrf_refusal(self, request: Request) -> Response | None:
        """400 CSRF_PREVENTED for a GET operation without a header a cross-site form cannot
        send. Whether a GET is an operation or the GraphiQL page is Strawberry's own test
        (`should_render_graphql_ide`) on the request Strawberry reads next, so no spelling of
        the query string is an operation to Strawberry and the page to this check."""
        if request.method != "GET" or any(h in request.headers for h in PREFLIGHT_HEADERS):
            return None
        if self.should_render_graphql_ide(self.request_adapter_class(request)):
            return None  # the page, or 404 when GraphiQL is off: nothing is executed
        message = (
            "A GET operation needs the header apollo-require-preflight (or "
            "x-apollo-operation-name), so no other site can send it: or use POST with JSON"
        )
        return JSONResponse(
            {"errors": [{"message": message, "extensions": {"code": "CSRF_PREVENTED"}}]},
            status_code=400,
        )

    def encode_json(self, data: object) -> bytes:
        # msgspec: the same JSON as json.dumps(separators=(",", ":")) but UTF-8 left as is
        # (not \u-escaped), at a ninth of the cost (156 -> 17 us for 50 invoices).
        return _ENCODER.encode(data)

    def decode_json(self, data: str | bytes) -> object:
        # Strawberry answers 500 for a JSON body that is not an object (`null`, `1`, `[]` with
        # batching off): refuse it as the client's mistake it is.
        try:
            value = json.loads(data)
        # Not JSON, not UTF-8, an integer of 5000 digits, ...; or arrays nested deeper than
        # the interpreter's recursion limit, which a body far below the size cap can hold.
        except (ValueError, RecursionError) as exc:
            raise HTTPException(400, "Unable to parse request body as JSON") from exc
        if not isinstance(value, dict):
            raise HTTPException(
                400, "A GraphQL request, and its `variables`, must be a JSON object"
            )
        return value

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        return self._shaped(result, getattr(request.state, "request_id", None))

    @staticmethod
    def _shaped(result: ExecutionResult, request_id: str | None) -> GraphQLHTTPResponse:
        # ErrorPolicy shapes what execution produced; a syntax error, or an exception raised
        # outside execution, reaches the client only through here.
        if result.errors:
            result.errors = [shape_error(error, request_id) for error in result.errors]
        return process_result(result)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> GatewayContext:
        context = self._context(request.scope, request.headers.get("x-request-id", "").encode())
        request.state.request_id = context.request_id
        if isinstance(response, Response):
            response.headers["X-Request-ID"] = context.request_id
        return context

    def _context(self, scope: Scope, given: bytes) -> GatewayContext:
        # Keep a caller's request id only when it is short and plain: it is echoed and logged.
        # A new id: 128 random bits as 32 hex digits (uuid4().hex's form at a fifth of its cost).
        request_id = given.decode("ascii") if _REQUEST_ID.match(given) else os.urandom(16).hex()
        return GatewayContext(
            providers=self.providers,
            settings=self.settings,
            request_id=request_id,
            caller=admission(scope).caller,  # decided once, by KeyGate
            keys_required=self.keys_required,
            idempotency=self.idempotency,
            sandboxes=self.sandboxes,
        )


#: What a POST may run (Strawberry's `OperationType.from_http("POST")`).
_POST_OPERATIONS = frozenset(OperationType.from_http("POST"))


def _plain_json_post(raw: list[tuple[bytes, bytes]]) -> dict[bytes, bytes] | None:
    """The headers (the first of each name) when the content type is exactly
    `application/json` (parameters aside), else None: Strawberry reads every other one."""
    headers: dict[bytes, bytes] = {}
    for name, value in raw:
        headers.setdefault(name, value)
    kind = headers.get(b"content-type")
    if kind is None or kind.split(b";", 1)[0].strip() != b"application/json":
        return None
    return headers


def _request_fields(
    data: dict[str, Any],
) -> tuple[str | None, dict[str, Any] | None, dict[str, Any] | None]:
    """`query`, `variables` and `extensions` of a request, refused as Strawberry refuses them."""
    query = data.get("query")
    if not isinstance(query, str | None):
        raise HTTPException(
            400, "The GraphQL operation's `query` must be a string or null, if provided."
        )
    variables = data.get("variables")
    if not isinstance(variables, dict | None):
        raise HTTPException(
            400, "The GraphQL operation's `variables` must be an object or null, if provided."
        )
    extensions = data.get("extensions")
    if not isinstance(extensions, dict | None):
        raise HTTPException(
            400, "The GraphQL operation's `extensions` must be an object or null, if provided."
        )
    return query, variables, extensions


def _unreadable(exc: HTTPException, request_id: str | None) -> JSONResponse:
    """A request Strawberry cannot read, answered with a coded GraphQL error."""
    extensions = {"code": _UNREADABLE_CODES.get(exc.status_code, "BAD_REQUEST")}
    headers = {}
    if request_id:
        extensions["requestId"] = headers["X-Request-ID"] = request_id
    return JSONResponse(
        {"errors": [{"message": exc.reason, "extensions": extensions}]},
        status_code=exc.status_code,
        headers=headers,
    )


def idempotency_store(settings: GatewaySettings) -> IdempotencyStore:
    """Redis when GATEWAY_REDIS_URL is set, else this process's memory."""
    if settings.redis_url is None:
        return MemoryStore(
            ttl=settings.idempotency_ttl_seconds, wait=settings.idempotency_wait_seconds
        )
    return RedisStore.from_url(
        settings.redis_url.get_secret_value(),
        ttl=settings.idempotency_ttl_seconds,
        lease=settings.idempotency_lease_seconds,
        wait=settings.idempotency_wait_seconds,
    )


class Readiness:
    """/readyz. Each provider's `check()` (one upstream call) runs at most once per
    `cache_seconds`, and concurrent probes share the one in flight (async-lru's cache: a
    single task, shielded from a probe that goes away, cached from when it ends), so probes,
    however many and from whomever, cost each provider one call per period. The guards' state
    is read fresh each time: it costs no call. Only an admitted caller (`gateway.auth`) sees
    the details; anyone else gets `{"status": ...}` with the same HTTP status."""

    def __init__(
        self,
        providers: Mapping[str, Wired],
        store: IdempotencyStore,
        drain: Drain,
        *,
        cache_seconds: float,
    ) -> None:
        self.providers = providers
        self.store = store
        self.drain = drain
        self.checks = alru_cache(maxsize=1, ttl=cache_seconds)(self._check_all)

    async def _check_all(self) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
        """Each provider's check and the idempotency store's status, checked at once."""
        names = list(self.providers)
        results, keys = await asyncio.gather(
            asyncio.gather(*(self._check(self.providers[name].provider) for name in names)),
            self.store.status(),
        )
        return dict(zip(names, results, strict=True)), keys

    @staticmethod
    async def _check(provider: InvoiceProvider) -> dict[str, Any]:
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                await provider.check()
        except ProviderError as exc:
            return {
                "ready": False,
                "code": code_for_provider_error(exc).value,
                "error": exc.message,
            }
        except TimeoutError:
            return {"ready": False, "code": "PROVIDER_TIMEOUT", "error": "no answer in time"}
        return {"ready": True}

    async def respond(self, request: Request) -> JSONResponse:
        if self.drain.draining:
            return JSONResponse({"status": "draining"}, status_code=503)
        checked, keys = await self.checks()
        # Refused credentials are this instance's configuration: keep traffic away from it.
        # A provider that is down is down for every instance: serve the others (degraded).
        # So is a shared key store: reads and unkeyed creates still work without it.
        misconfigured = any(r.get("code") == "PROVIDER_AUTH_FAILED" for r in checked.values())
        if not checked or misconfigured:
            status, code = "unavailable", 503
        elif all(r["ready"] for r in checked.values()) and keys.get("ready"):
            status, code = "ready", 200
        else:
            status, code = "degraded", 200
        if not admission(request.scope).admitted:
            return JSONResponse({"status": status}, status_code=code)
        body: dict[str, Any] = {}
        for name, result in checked.items():
            wiring = self.providers[name]
            state: dict[str, Any] = {"ready": result["ready"], "sandbox": wiring.on_sandbox}
            state.update((k, v) for k, v in result.items() if k != "ready")
            guards = wiring.provider.upstream_status()
            if guards:
                state["upstream"] = guards
            body[name] = state
        return JSONResponse(
            {"status": status, "providers": body, "idempotency": keys}, status_code=code
        )

    async def close(self) -> None:
        """Cancel a check still in flight (at shutdown, before the providers close)."""
        await self.checks.cache_close()


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create_app(
    *,
    settings: GatewaySettings,
    providers: Mapping[str, InvoiceProvider | Wired],
) -> Starlette:
    """The gateway over `providers` (a bare provider calls its configured API; a `Wired` one
    may run on a sandbox in this process, served at /sandbox/<name>). The app's lifespan
    closes them on shutdown.

    Raises ValueError when GATEWAY_API_KEYS cannot be read (naming the entry, never a key)."""
    wiring = wired(providers)
    sandboxes = frozenset(name for name, entry in wiring.items() if entry.on_sandbox)
    clients = {name: entry.provider for name, entry in wiring.items()}
    limit_query_logs(per_second=settings.log_refused_per_second)
    limit_error_logs(
        provider_failures_per_second=settings.log_provider_failures_per_second,
        bugs_per_second=settings.log_bugs_per_second,
    )
    keys = parse_api_keys(settings.api_keys.get_secret_value() if settings.api_keys else None)
    graphiql = settings.graphiql
    if graphiql is None:
        graphiql = sandboxes == frozenset(wiring)
    store = idempotency_store(settings)
    graphql = GatewayGraphQL(
        providers=clients,
        sandboxes=sandboxes,
        settings=settings,
        keys_required=bool(keys),
        idempotency=store,
        graphql_ide="graphiql" if graphiql else None,
        subscription_protocols=("graphql-transport-ws",),
        allowed_origins=settings.cors_origins,
    )

    drain = Drain()
    readiness = Readiness(wiring, store, drain, cache_seconds=settings.readiness_cache_seconds)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            with drain_on_sigterm(drain, drain_seconds=settings.shutdown_drain_seconds):
                yield
        finally:
            await readiness.close()
            await asyncio.gather(*(p.aclose() for p in clients.values()), store.aclose())

    routes: list[BaseRoute] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readiness.respond, methods=["GET"]),
    ]
    if graphiql:
        routes += graphiql_routes()
    for name, entry in wiring.items():
        if entry.sandbox is not None:
            # The in-process sandbox's API and files, on the gateway's own port: its PDF links
            # work in a browser, and a newcomer can look at /sandbox/<name>/_sandbox/stats.
            routes.append(Mount(f"/sandbox/{name}", app=entry.sandbox))
            if settings.public_url:
                entry.sandbox.expose(f"{settings.public_url.rstrip('/')}/sandbox/{name}")
    middleware = [
        # Around every route, sandboxes and GraphiQL included: no key, no entry (gateway.auth).
        Middleware(KeyGate, keys=keys),
        Middleware(RequestGuard, max_body_bytes=settings.max_body_bytes, path="/graphql"),
    ]
    if settings.cors_origins:
        # Outermost, so a browser's preflight (which carries no key) is answered here and
        # never reaches the app; its other requests get their CORS headers, a 401 included.
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=[
                    "authorization",
                    "content-type",
                    "x-api-key",
                    "x-request-id",
                    "apollo-require-preflight",
                ],
                expose_headers=["x-request-id"],
            ),
        )
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.providers = clients
    app.state.wiring = wiring
    app.state.settings = settings
    app.state.documents = graphql.documents
    app.state.drain = drain
    app.state.idempotency = store
    return app


def providers_from_environment(
    settings: GatewaySettings, environ: Mapping[str, str]
) -> dict[str, Wired]:
    """The enabled providers. Raises ValueError when some are configured for real and others
    would quietly run on their sandbox beside them, unless GATEWAY_PROVIDERS chose them all:
    real invoices next to made-up ones is never what an operator meant."""
    providers = wire_all(settings.providers, environ)
    chosen = any(key.upper() == "GATEWAY_PROVIDERS" and value for key, value in environ.items())
    real = [name for name, entry in providers.items() if not entry.on_sandbox]
    sandboxed = [name for name, entry in providers.items() if entry.on_sandbox]
    if real and not settings.api_keys and not settings.allow_anonymous:
        raise ValueError(
            f"{', '.join(real)} is a real provider and no GATEWAY_API_KEYS are set: anyone "
            "could read and change its invoices. Set GATEWAY_API_KEYS (NAME:SCOPE:KEY,...), or "
            "GATEWAY_ALLOW_ANONYMOUS=true if something in front of the gateway checks callers"
        )
    if real and sandboxed and not chosen:
        raise ValueError(
            f"{', '.join(real)} is configured for real, but {', '.join(sandboxed)} has no "
            "credentials and would run on its sandbox beside it: set its credentials, or "
            f"choose the providers, e.g. GATEWAY_PROVIDERS={','.join(real)}"
        )
    return providers


def create_app_from_environment(environ: Mapping[str, str] | None = None) -> Starlette:
    """Settings and providers from the environment; what `invoice-gateway serve` runs (each
    worker of `--workers N` builds its app here)."""
    environ = os.environ if environ is None else environ
    settings = GatewaySettings.from_environ(environ)
    app = create_app(settings=settings, providers=providers_from_environment(settings, environ))
    prepare_collector(settings)
    return app


def prepare_collector(settings: GatewaySettings) -> None:
    """Set the cyclic collector up for serving; call once the app is built, before serving.

    Everything built so far (modules, the schema, Babel's data, pydantic's validators: ~87,000
    objects) is moved out of its reach: they live as long as the process, yet every full
    collection walked them all (62-80 ms every 6-7 listing requests, bench/README.md). And its
    youngest generation is collected every `gc_young_threshold` allocations rather than 700: a
    request's objects are freed by reference counting (no request leaves a cycle), so a pass
    finds little but the requests in flight, and at 700 a 50-invoice listing paid about one
    pass (0.1-0.3 ms) each."""
    gc.collect()
    gc.freeze()
    if settings.gc_young_threshold:
        _, middle, oldest = gc.get_threshold()
        gc.set_threshold(settings.gc_young_threshold, middle, oldest)
